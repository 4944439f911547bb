// The RFC 9421 §2.5 signature base, built from the message as it was
// received. Pure: a MessageView in, a string out, or a GatewayError
// (signature_malformed for a component this message cannot give:
// RFC 9421 §2.5 says "the signer or verifier MUST fail").
//
// Derived components (§2.2): @method, @target-uri, @authority, @scheme,
// @request-target, @path, @query, @query-param, @status. Header fields
// (§2.1) with the `sf`, `key`, `bs` and `req` parameters; `tr` (trailers)
// is refused: nothing here reads trailers.

import { GatewayError } from '../../errors.js'
import {
  isInnerList, KNOWN_FIELD_TYPES, parseField, reserialize, serializeInnerList, serializeItem, stringParam,
  type InnerList, type Item, type Parameters,
} from './structured.js'

/** A request or response as a signature sees it. Field names are lowercase. */
export interface MessageView {
  /** Requests: the method as received (§2.2.1: case-sensitive). */
  readonly method?: string
  /** Requests: lowercase `http` or `https` (§2.2.4). */
  readonly scheme?: string
  /** Requests: host[:port] as the target names it; normalized by @authority (§2.2.3). */
  readonly authority?: string
  /** Requests: the request target as received, origin-form `/path?query` (§2.2.5). */
  readonly requestTarget?: string
  /** Responses: the status code (§2.2.9). */
  readonly status?: number
  /** Every value of a field, in order; undefined when the message has none. */
  fieldValues(name: string): readonly string[] | undefined
  /** Responses: the request they answer, for the `req` parameter (§2.4). */
  readonly request?: MessageView
}

/** One covered component: its name and parameters, as in Signature-Input (§2.1, §2.2). */
export type ComponentId = Item

const fail = (why: string): never => { throw new GatewayError('signature_malformed', why) }

const DEFAULT_PORTS: Readonly<Record<string, string>> = { http: '80', https: '443' }

/** §2.2.3: the authority lowercased, the scheme's default port removed. */
export function normalizeAuthority(authority: string, scheme: string | undefined): string {
  const lower = authority.toLowerCase()
  const port = scheme === undefined ? undefined : DEFAULT_PORTS[scheme]
  return port !== undefined && lower.endsWith(':' + port) && !lower.endsWith(']') ? lower.slice(0, -port.length - 1) : lower
}

function splitTarget(target: string): { path: string; query: string | undefined } {
  const q = target.indexOf('?')
  const path = q === -1 ? target : target.slice(0, q)
  return { path, query: q === -1 ? undefined : target.slice(q + 1) }
}

/**
 * §2.2.8: the form-urlencoded percent-encode set leaves only ASCII
 * alphanumerics and `*-._`; a space is `%20` (the RFC's own examples).
 */
export function encodeQueryPart(s: string): string {
  let out = ''
  for (const byte of Buffer.from(s, 'utf8')) {
    const c = String.fromCharCode(byte)
    out += /[A-Za-z0-9*\-._]/.test(c) ? c : '%' + byte.toString(16).toUpperCase().padStart(2, '0')
  }
  return out
}

function need<T>(v: T | undefined, name: string): T {
  if (v === undefined) fail(`${name} is not available on this message`)
  return v as T
}

function requestPart(m: MessageView, name: string): { scheme: string; authority: string; target: string } {
  if (m.method === undefined) fail(`${name} is a request component`)
  return { scheme: need(m.scheme, name), authority: need(m.authority, name), target: need(m.requestTarget, name) }
}

/** The value of one derived component (§2.2). */
function derived(m: MessageView, name: string, params: Parameters): string {
  if (name === '@status') {
    if (m.status === undefined) fail('@status is a response component')
    return String(m.status).padStart(3, '0')
  }
  if (name === '@method') return need(m.method, name)
  const r = requestPart(m, name)
  const { path, query } = splitTarget(r.target)
  switch (name) {
    case '@scheme': return r.scheme.toLowerCase()
    case '@authority': return normalizeAuthority(r.authority, r.scheme.toLowerCase())
    case '@target-uri': return `${r.scheme.toLowerCase()}://${normalizeAuthority(r.authority, r.scheme.toLowerCase())}${r.target}`
    case '@request-target': return r.target
    case '@path': return path === '' ? '/' : path
    case '@query': return '?' + (query ?? '')
    case '@query-param': {
      const wanted = stringParam(params, 'name')
      if (wanted === undefined) fail('@query-param needs a name parameter')
      const values: string[] = []
      for (const [k, v] of new URLSearchParams(query ?? '')) if (encodeQueryPart(k) === wanted) values.push(encodeQueryPart(v))
      if (values.length === 0) fail('a covered query parameter is absent')
      // §2.2.8 leaves a repeated name to the application; a verifier that picked one could be fooled by the other.
      if (values.length > 1) fail('a covered query parameter occurs more than once')
      return values[0]!
    }
    default: return fail('a derived component is not one RFC 9421 defines')
  }
}

const PARAMS_ALLOWED = new Set(['sf', 'key', 'bs', 'req', 'name'])

/** The value of one header field component (§2.1, §2.1.1–§2.1.3). */
function field(m: MessageView, name: string, params: Parameters): string {
  const values = m.fieldValues(name)
  if (values === undefined) fail('a covered header field is absent')
  // §2.1: each value trimmed (obs-fold already undone by the parser), joined with ", ".
  const combined = values!.map((v) => v.trim()).join(', ')
  const bs = params.get('bs') === true
  const key = stringParam(params, 'key')
  const sf = params.get('sf') === true || key !== undefined
  if (bs && sf) fail('bs cannot be combined with sf or key')
  if (bs) return values!.map((v) => ':' + Buffer.from(v.trim(), 'latin1').toString('base64') + ':').join(', ')
  if (!sf) return combined
  const type = KNOWN_FIELD_TYPES.get(name)
  if (type === undefined) fail('sf or key on a field whose structured type is not known')
  if (key === undefined) return reserialize(combined, type!, 'signature_malformed', 'a covered structured field')
  if (type !== 'dictionary') fail('key on a field that is not a dictionary')
  const member = parseField(combined, 'dictionary', 'signature_malformed', 'a covered dictionary field').get(key)
  if (member === undefined) fail('a covered dictionary member is absent')
  return isInnerList(member!) ? serializeInnerList(member as InnerList) : serializeItem(member as Item)
}

/** The value of one covered component (§2.5 step 2). */
export function componentValue(m: MessageView, id: ComponentId): string {
  const [name, params] = id
  if (typeof name !== 'string') return fail('a component name is not a string')
  for (const p of params.keys()) if (!PARAMS_ALLOWED.has(p)) fail(p === 'tr' ? 'trailer components are not supported' : 'a component has an unknown parameter')
  let source = m
  if (params.get('req') === true) {
    // §2.4: `req` reads the request a response answers; on a request it is an error.
    if (m.request === undefined) fail('req is only for responses bound to a request')
    source = m.request!
  }
  if (name.startsWith('@')) {
    if (params.has('sf') || params.has('key') || params.has('bs')) fail('a derived component takes no field parameters')
    if (name === '@query-param' && !params.has('name')) fail('@query-param needs a name parameter')
    if (name === '@query-param' ? params.size - (params.has('req') ? 1 : 0) !== 1 : params.size !== (params.has('req') ? 1 : 0)) fail('a derived component has an unexpected parameter')
    return derived(source, name, params)
  }
  if (params.has('name')) fail('name is only for @query-param')
  // §2.1: field names in component identifiers are lowercase.
  if (name !== name.toLowerCase() || !/^[!#$%&'*+\-.^_`|~0-9a-z]+$/.test(name)) fail('a field component name is not a lowercase field name')
  return field(source, name, params)
}

/** §2.5: `"name";params: value` lines, then `"@signature-params": <serialized inner list>`. */
export function signatureBase(m: MessageView, components: readonly ComponentId[], params: Parameters): string {
  const seen = new Set<string>()
  let base = ''
  for (const id of components) {
    const serializedId = serializeItem(id)
    if (seen.has(serializedId)) fail('a component is covered twice')
    seen.add(serializedId)
    if (id[0] === '@signature-params') fail('@signature-params cannot be a covered component')
    const value = componentValue(m, id)
    // §2.5: a value holding a newline (or any control byte but tab) would forge another line.
    if (/[\x00-\x08\x0a-\x1f\x7f-\uffff]/.test(value)) fail('a covered component value holds a control or non-ASCII character')
    base += `${serializedId}: ${value}\n`
  }
  return base + `"@signature-params": ${serializeInnerList([components as Item[], params])}`
}

/** A request view from Node's raw header list (`req.rawHeaders`): names case-insensitive, values in order. */
export function fieldsFromRaw(raw: readonly string[]): (name: string) => readonly string[] | undefined {
  const map = new Map<string, string[]>()
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const k = raw[i]!.toLowerCase()
    const list = map.get(k)
    if (list) list.push(raw[i + 1]!)
    else map.set(k, [raw[i + 1]!])
  }
  return (name) => map.get(name)
}

/** A request view from a plain header record (tests, clients). */
export function requestView(init: { method: string; url: string | URL; headers?: Record<string, string | readonly string[] | undefined> }): MessageView {
  const url = typeof init.url === 'string' ? new URL(init.url) : init.url
  const raw: string[] = []
  for (const [k, v] of Object.entries(init.headers ?? {})) {
    if (v === undefined) continue
    for (const one of typeof v === 'string' ? [v] : v) raw.push(k, one)
  }
  return {
    method: init.method,
    scheme: url.protocol.slice(0, -1),
    authority: url.host,
    requestTarget: (url.pathname || '/') + url.search,
    fieldValues: fieldsFromRaw(raw),
  }
}
