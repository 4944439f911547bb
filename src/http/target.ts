// Request-target parsing: the one place the gateway decides which path a
// request is for. The ACL matches exactly `Target.path`, the upstream receives
// exactly `Target.forward`, and both come from this one parse, so the gateway
// and the upstream cannot disagree about the path (PROTOCOL.md §7).
// docs/paths.md is the policy in prose; keep the two in step.
//
// Contract: pure. Reads `req.url` as Node hands it over (one char per byte).
// Returns the normalized target, or throws GatewayError('path_rejected') with
// a fixed, client-safe reason that never echoes the target.

import { GatewayError } from '../errors.js'

export interface Target {
  /** Normalized path: what the ACL matches and what `htu` is built from. */
  readonly path: string
  /** raw query without '?', '' when none */
  readonly query: string
  /** what goes upstream: path + ('?' + query when present) */
  readonly forward: string
}

/** Longest request-target accepted, in bytes (8 KiB); Node's own header cap is 16 KiB. */
export const MAX_TARGET_LENGTH = 8192

const reject = (reason: string): never => {
  throw new GatewayError('path_rejected', reason)
}

// Path character classes, indexed by char code (< 128; anything above is
// rejected before the lookup).
const REJECT = 0 // controls, space, DEL, '#', '\'
const PLAIN = 1 // RFC 3986 pchar minus '%' (unreserved / sub-delims / ':' / '@'), '/' and '?' handled apart
const ENCODE = 2 // printable but not allowed in an RFC 3986 path: sent on percent-encoded

const PATH_CLASS = new Uint8Array(128)
for (let c = 0x21; c < 0x7f; c++) PATH_CLASS[c] = PLAIN
for (const ch of '#\\') PATH_CLASS[ch.charCodeAt(0)] = REJECT
// RFC 3986 §2.2/§3.3: these may not appear raw in a path. WHATWG URL leaves
// some raw and encodes others; we always encode, so each has one spelling.
for (const ch of '"<>[]^`{|}') PATH_CLASS[ch.charCodeAt(0)] = ENCODE

const HEX = '0123456789ABCDEF'
const pct = (byte: number): string => '%' + HEX[byte >> 4] + HEX[byte & 15]

/** RFC 3986 §2.3 unreserved = ALPHA / DIGIT / "-" / "." / "_" / "~" */
const isUnreserved = (b: number): boolean =>
  (b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a) || (b >= 0x30 && b <= 0x39) ||
  b === 0x2d || b === 0x2e || b === 0x5f || b === 0x7e

const hexValue = (c: number): number => {
  if (c >= 0x30 && c <= 0x39) return c - 0x30
  if (c >= 0x41 && c <= 0x46) return c - 0x37
  if (c >= 0x61 && c <= 0x66) return c - 0x57
  return -1
}

/** Parses the HTTP request-target once (req.url). Throws GatewayError('path_rejected', <safe reason>) for anything ambiguous. Pure. */
export function parseTarget(rawTarget: string): Target {
  checkForm(rawTarget)
  return parseSimple(rawTarget) ?? parseFull(rawTarget)
}

/**
 * A raw ';' in the path is refused. Tomcat/Spring-style upstreams strip
 * ';params' from every segment, so '/admin;x/secret' would be served as
 * '/admin/secret' while the ACL matched '/admin;x/secret' (for instance
 * against a later public catch-all). '%3B' stays a literal character for
 * those servers too, and is allowed.
 */
function rejectPathParameters(rawTarget: string): void {
  const semi = rawTarget.indexOf(';')
  if (semi < 0) return
  const q = rawTarget.indexOf('?')
  if (q < 0 || semi < q) throw new GatewayError('path_rejected', 'path parameters (;) are not allowed')
}

/**
 * The complete algorithm, without the fast path. Exported so a property test
 * can check that the fast path never answers differently; callers use
 * `parseTarget`.
 */
export function parseTargetFull(rawTarget: string): Target {
  checkForm(rawTarget)
  return parseFull(rawTarget)
}

function checkForm(raw: string): void {
  rejectPathParameters(raw)
  if (raw.length > MAX_TARGET_LENGTH) reject('request-target longer than 8 KiB')
  // RFC 9112 §3.2: only origin-form is routed. Absolute-form would bring a
  // second authority (we are not a forward proxy), asterisk-form is for
  // server-wide OPTIONS, authority-form for CONNECT: none names a resource here.
  if (raw.charCodeAt(0) !== 0x2f) reject('request-target must be origin-form (start with /)')
}

/**
 * Fast path for the common target: no '%', no character needing encoding, no
 * empty segment, no segment that is or may become a dot segment. Such a path
 * is already normalized, so it is returned as sliced. Returns undefined (it
 * never throws for the path) when the full parse must decide. Measured
 * (Node 20): ~60-250 ns against ~300-700 ns for the full parse.
 */
function parseSimple(raw: string): Target | undefined {
  const n = raw.length
  let prev = 0x2f
  let i = 1
  for (; i < n; i++) {
    const c = raw.charCodeAt(i)
    if (c === 0x3f) break
    if (c === 0x2f) {
      if (prev === 0x2f) return undefined // '//'
    } else if (c === 0x2e && prev === 0x2f) {
      // A segment that may be '.', '..' or '.;…' needs the full parse; one
      // like '.well-known' does not. '%' bails on its own (e.g. '.%2e').
      const next = i + 1 < n ? raw.charCodeAt(i + 1) : 0x2f
      if (next === 0x2f || next === 0x2e || next === 0x3f || next === 0x3b) return undefined
    } else if (c > 0x7e || PATH_CLASS[c] !== PLAIN || c === 0x25) {
      return undefined
    }
    prev = c
  }
  if (i === n) return { path: raw, query: '', forward: raw }
  const path = raw.slice(0, i)
  const query = checkQuery(raw, i + 1)
  return { path, query, forward: query === '' ? path : raw }
}

function parseFull(raw: string): Target {
  const q = raw.indexOf('?')
  const end = q === -1 ? raw.length : q
  const path = normalizePath(raw, end)
  const query = q === -1 ? '' : checkQuery(raw, q + 1)
  return { path, query, forward: query === '' ? path : path + '?' + query }
}

/**
 * The query never takes part in matching and goes upstream byte for byte; it
 * only has to be something an HTTP/1.1 request line can carry: printable
 * ASCII, no space, and no '#' (a fragment is never sent, RFC 9110 §7.1).
 * A '\' or a raw '%' is left alone here: browsers send both in queries.
 */
function checkQuery(raw: string, from: number): string {
  for (let i = from; i < raw.length; i++) {
    const c = raw.charCodeAt(i)
    if (c < 0x21 || c > 0x7e) reject('control character, space or non-ASCII byte in query')
    if (c === 0x23) reject('fragment (#) in request-target')
  }
  return raw.slice(from)
}

/**
 * RFC 3986 §6.2.2 (case and percent-encoding normalization) per segment, then
 * §5.2.4 remove_dot_segments over the segment list, after dropping empty
 * segments (repeated slashes collapse). A '..' with nothing left to remove
 * would climb above the root: rejected, never clamped.
 */
function normalizePath(raw: string, end: number): string {
  const segments: string[] = []
  let trailingSlash = false
  let sawHighByte = false
  let start = 1
  for (;;) {
    let stop = raw.indexOf('/', start)
    if (stop === -1 || stop > end) stop = end
    const last = stop === end
    const seg = normalizeSegment(raw, start, stop)
    if (seg.highByte) sawHighByte = true
    const text = seg.text
    if (text === '' || text === '.') {
      trailingSlash = last
    } else if (text === '..') {
      if (segments.length === 0) reject('dot segment climbs above the root')
      segments.pop()
      trailingSlash = last
    } else {
      // Tomcat-style servers drop ';params' before resolving dots, so they
      // would read '/public/..;/admin' as '/admin' while we saw '/public/...'.
      if (text.startsWith('.;') || text.startsWith('..;')) reject('dot segment with path parameters')
      segments.push(text)
      trailingSlash = false
    }
    if (last) break
    start = stop + 1
  }
  const path = segments.length === 0 ? '/' : '/' + segments.join('/') + (trailingSlash ? '/' : '')
  // Percent-encoded bytes above 0x7F must spell valid UTF-8. Overlong forms
  // such as %C0%AE ('.') and %C0%AF ('/') are decoded by lenient servers into
  // the very characters rejected above. decodeURIComponent throws on overlong
  // forms, surrogates and truncated sequences (ECMA-262 Decode); every escape
  // left in `path` is well formed, so nothing else can make it throw.
  if (sawHighByte) {
    try {
      decodeURIComponent(path)
    } catch {
      reject('percent-encoded bytes are not valid UTF-8')
    }
  }
  return path
}

interface Segment {
  readonly text: string
  readonly highByte: boolean
}

function normalizeSegment(raw: string, start: number, stop: number): Segment {
  let out = ''
  let highByte = false
  for (let i = start; i < stop; i++) {
    const c = raw.charCodeAt(i)
    if (c === 0x25) {
      const hi = i + 2 < stop ? hexValue(raw.charCodeAt(i + 1)) : -1
      const lo = hi === -1 ? -1 : hexValue(raw.charCodeAt(i + 2))
      if (lo === -1) reject('invalid percent-encoding')
      const b = hi * 16 + lo
      if (b < 0x20 || b === 0x7f) reject('percent-encoded control character')
      if (b === 0x2f) reject('percent-encoded slash')
      if (b === 0x5c) reject('percent-encoded backslash')
      if (b >= 0x80) highByte = true
      // §6.2.2.2: unreserved octets are decoded; §6.2.2.1: the rest keep
      // uppercase hex. Decoding happens once: '%25' stays '%25', so '%252e'
      // is the three characters '%2e' to every later reader, never a dot.
      out += isUnreserved(b) ? String.fromCharCode(b) : pct(b)
      i += 2
      continue
    }
    if (c > 0x7e || c < 0x21) reject('control character, space or non-ASCII byte in path')
    const cls = PATH_CLASS[c]
    if (cls === PLAIN) {
      out += raw[i]
    } else if (cls === ENCODE) {
      out += pct(c)
    } else if (c === 0x5c) {
      reject('backslash in path')
    } else {
      reject('fragment (#) in request-target')
    }
  }
  return { text: out, highByte }
}
