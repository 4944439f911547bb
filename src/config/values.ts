// popgate's value types for its files: durations, sizes, host:port, origins,
// URLs, identities, path and header prefixes, cookie names, CIDRs, ports.
// Built on the reader toolkit (toolkit.ts).

import { BlockList, isIP } from 'node:net'
import { identityProblem } from '../identity/domain.js'
import type { HostPort } from './types.js'
import { parseDurationMs, parseSizeBytes } from './units.js'
import { INVALID, describe, listOf, refine, scalar, str, type Check, type Reader } from './toolkit.js'

/** Node timers hold at most 2^31−1 ms; a longer duration would fire at once. */
export const MAX_DURATION_MS = 2 ** 31 - 1

export function duration(opts: { allowZero?: boolean } = {}): Reader<number> {
  return scalar((v) => {
    const ms = parseDurationMs(v)
    if (typeof ms === 'string') return ms
    if (ms === 0 && !opts.allowZero) return 'must be greater than zero'
    if (ms > MAX_DURATION_MS) return `must be at most ${MAX_DURATION_MS}ms (about 24.8 days; Node timers cannot wait longer)`
    return { value: ms }
  })
}

export const size: Reader<number> = scalar((v) => {
  const bytes = parseSizeBytes(v)
  if (typeof bytes === 'string') return bytes
  return bytes === 0 ? 'must be greater than zero' : { value: bytes }
})

const HOSTNAME = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/i

/** `host:port`, `[v6]:port`; port 0 lets the OS choose (tests). */
export const hostPort: Check<HostPort> = (v) => {
  const expected = 'must be "host:port" (e.g. "127.0.0.1:8080", "[::1]:8080")'
  if (typeof v === 'number') return `${expected}, not a bare port`
  if (typeof v !== 'string') return `${expected}; got ${describe(v)}`
  if (v.includes('/')) return `${expected}, with no scheme or path`
  let host: string
  let port: string
  if (v.startsWith('[')) {
    const end = v.indexOf(']:')
    if (end < 0) return expected
    host = v.slice(1, end)
    port = v.slice(end + 2)
    if (isIP(host) !== 6) return `${describe(host)} in brackets must be an IPv6 address`
  } else {
    const colon = v.lastIndexOf(':')
    if (colon < 0) return `${expected}; got ${describe(v)}`
    host = v.slice(0, colon)
    port = v.slice(colon + 1)
    if (host.includes(':')) return 'an IPv6 address must be in brackets: "[::1]:8080" (quote it in YAML)'
    if (host === '') return 'needs a host: write "0.0.0.0:PORT" or "[::]:PORT" to listen on every address'
    if (isIP(host) !== 4 && !HOSTNAME.test(host)) return `${describe(host)} is not an IP address or host name`
  }
  if (!/^\d{1,5}$/.test(port) || Number(port) > 65535) return `port must be a number from 0 to 65535; got ${describe(port)}`
  return { value: { host, port: Number(port) } }
}

/** Parses an absolute URL without echoing it (it may hold a password). */
export function absoluteUrl(v: unknown, example: string): URL | string {
  if (typeof v !== 'string' || v === '') return `must be an absolute URL like ${example}`
  if (/\s/.test(v)) return 'must not contain whitespace'
  try {
    return new URL(v)
  } catch {
    return `must be an absolute URL like ${example}`
  }
}

/** http(s) URL with no userinfo, query or fragment; the path rule is the caller's. */
export function httpUrl(v: unknown, example: string): URL | string {
  const u = absoluteUrl(v, example)
  if (typeof u === 'string') return u
  const raw = v as string
  if (u.protocol !== 'https:' && u.protocol !== 'http:') return `must be an http: or https: URL, not ${u.protocol}`
  if (/^[a-z]+:\/\/[^/?#]*@/i.test(raw)) return 'must not contain userinfo (user:password@)'
  if (raw.includes('?')) return 'must not have a query'
  if (raw.includes('#')) return 'must not have a fragment'
  return u
}

/** An origin (`scheme://host[:port]`, optional trailing `/`), normalized to URL.origin. */
export const origin: Check<string> = (v) => {
  if (v === '*') return '"*" is not allowed: list each origin (e.g. https://app.example)'
  const u = httpUrl(v, 'https://bob.example')
  if (typeof u === 'string') return u
  // The raw text is checked too: URL() would quietly resolve `/a/..` or `\` to `/`.
  if (u.pathname !== '/' || !/^https?:\/\/[^/?#\\]+\/?$/i.test(v as string)) return 'must be an origin with no path: scheme://host[:port]'
  return { value: u.origin }
}

export const upstreamUrl: Check<URL> = (v) => {
  const u = httpUrl(v, 'http://127.0.0.1:3000')
  return typeof u === 'string' ? u : { value: u }
}

export const redisUrl: Check<string> = (v) => {
  const u = absoluteUrl(v, 'redis://127.0.0.1:6379')
  if (typeof u === 'string') return u
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') return `must be a redis: or rediss: URL, not ${u.protocol}`
  if (u.hostname === '') return 'must name a host'
  return { value: v as string }
}

export const identity: Check<string> = (v) => {
  const why = identityProblem(v)
  return why === undefined ? { value: v as string } : `${describe(v)} is not a valid identity: ${why}`
}

export const pathPrefix: Check<string> = refine(str, (v) => {
  if (!v.startsWith('/') || !v.endsWith('/')) return 'must start and end with "/" (e.g. /.well-known/keys/)'
  // A bare "/" would let any URL on the domain, user uploads included, speak for it (PROTOCOL.md §2.1).
  if (v === '/') return 'must be a directory below "/" (e.g. /.well-known/keys/)'
  if (/[?#\\\s%]/.test(v) || v.includes('//') || /\/\.\.?\//.test(v)) return 'must be a plain path: no "?", "#", "\\", "%", spaces, empty or dot segments'
  return { value: v }
})

/** RFC 9110 §5.6.2 token; the prefix must end in "-" so it names a family of headers. */
export const headerPrefix: Check<string> = refine(str, (v) => {
  if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(v)) return 'must be a header-name token (letters, digits and -)'
  if (!v.endsWith('-') || v.length < 2) return 'must end with "-" (e.g. X-PoP-)'
  return { value: v }
})

/** RFC 6265 §4.1.1 cookie-name = token. */
export const cookieName: Check<string> = refine(str, (v) =>
  /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(v) ? { value: v } : 'must be a cookie-name token (letters, digits, - _ . and a few others)')

/** An IP literal or CIDR (`10.0.0.0/8`, `fd00::/8`), accepted by node:net BlockList. */
export const ipOrCidr: Check<string> = (v) => {
  if (typeof v !== 'string') return `must be an IP address or CIDR; got ${describe(v)}`
  const [address = '', prefix, ...rest] = v.split('/')
  const family = isIP(address)
  if (family === 0 || rest.length > 0) return `must be an IP address or CIDR (e.g. 10.0.0.0/8); got ${describe(v)}`
  const max = family === 4 ? 32 : 128
  if (prefix !== undefined && (!/^\d{1,3}$/.test(prefix) || Number(prefix) > max)) return `prefix length must be 0 to ${max}; got ${describe(v)}`
  try {
    const list = new BlockList()
    if (prefix === undefined) list.addAddress(address, family === 4 ? 'ipv4' : 'ipv6')
    else list.addSubnet(address, Number(prefix), family === 4 ? 'ipv4' : 'ipv6')
  } catch {
    return `must be an IP address or CIDR; got ${describe(v)}`
  }
  return { value: v }
}

export const port: Check<number> = (v) =>
  typeof v === 'number' && Number.isInteger(v) && v >= 1 && v <= 65535 ? { value: v } : `must be a port from 1 to 65535; got ${describe(v)}`

export const allowPorts: Reader<readonly number[] | 'any'> = (node, path, source) =>
  node.kind === 'scalar' && node.value === 'any'
    ? 'any'
    : node.kind === 'scalar'
      ? (source.problems.at(node.pos, path, `must be a list of ports or "any"; got ${describe(node.value)}`), INVALID)
      : listOf(scalar(port), { nonEmpty: true, unique: true })(node, path, source)

