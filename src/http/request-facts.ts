// Request facts read once from the raw header list, before any stage looks at
// a header: the one Host (validated), whether the message has a body, the
// Authorization value and any other field a credential scheme owns. Reads
// `rawHeaders`, not `req.headers`: Node keeps only the first Authorization
// and silently drops the rest (REFERENCE.md "duplicate headers"). Pure.

import { GatewayError } from '../errors.js'
import { isValidHost } from './host.js'

export interface RequestFacts {
  /** The one Host (or HTTP/2 `:authority`) value, a valid host[:port]; undefined when there is none (HTTP/1.0). */
  readonly host: string | undefined
  /** Content-Length other than 0, or any Transfer-Encoding (RFC 9112 §6.3): the message carries a body. */
  readonly hasBody: boolean
  /** The first Authorization value; undefined when there is none. */
  readonly authorization: string | undefined
  /** More than one Authorization field: refused when credentials are read (RFC 9449 §7.1 Figure 19). */
  readonly authorizationRepeated: boolean
  /**
   * Values of the other fields some scheme owns (lowercased name → value),
   * undefined when the request carries none; `repeatedField` names one that
   * came twice.
   */
  readonly fields: Map<string, string> | undefined
  readonly repeatedField: string | undefined
}

/**
 * One pass over the header list. Throws bad_request for a second Host field
 * (RFC 9112 §3.2) and for a Host that is not a valid host[:port] (RFC 9110
 * §7.2; http/host.ts): such a Host never reaches the upstream. Credential
 * problems are kept for the credentials stage, so a public route answers as
 * it did before anyone read them.
 * `owned` is undefined when no enabled scheme owns a field besides Authorization.
 */
export function readRequestFacts(raw: readonly string[], owned: ReadonlySet<string> | undefined): RequestFacts {
  let host: string | undefined
  let hasBody = false
  let authorization: string | undefined
  let authorizationRepeated = false
  let fields: Map<string, string> | undefined
  let repeatedField: string | undefined
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!
    const n = name.length
    // Length first: most fields are none of these, and this costs no lowercased copy.
    if ((n === 4 && name.toLowerCase() === 'host') || (n === 10 && name === ':authority')) {
      // RFC 9113 §8.3.1: `:authority` and Host name one authority; both count as the one Host.
      if (host !== undefined) throw new GatewayError('bad_request', 'more than one Host header')
      host = raw[i + 1]!
      if (!isValidHost(host)) throw new GatewayError('bad_request', 'the Host header is not a valid host[:port]')
    } else if (n === 13 && name.toLowerCase() === 'authorization') {
      if (authorization !== undefined) authorizationRepeated = true
      else authorization = raw[i + 1]!
    } else if (n === 14 && name.toLowerCase() === 'content-length') {
      if (!allZeros(raw[i + 1]!)) hasBody = true
    } else if (n === 17 && name.toLowerCase() === 'transfer-encoding') {
      hasBody = true
    } else if (owned !== undefined) {
      const lower = name.toLowerCase()
      if (!owned.has(lower)) continue
      fields ??= new Map()
      if (fields.has(lower)) repeatedField ??= name
      else fields.set(lower, raw[i + 1]!)
    }
  }
  return { host, hasBody, authorization, authorizationRepeated, fields, repeatedField }
}

/** Content-Length: 0 (Node's parser has already refused anything but digits). */
function allZeros(value: string): boolean {
  for (let i = 0; i < value.length; i++) if (value.charCodeAt(i) !== 0x30) return false
  return value.length > 0
}
