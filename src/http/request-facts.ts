// Request facts read once from the raw header list, before any stage looks at
// a header: the Host, the Authorization value and any other field a
// credential scheme owns. Reads `rawHeaders`, not `req.headers`: Node keeps
// only the first Authorization and silently drops the rest (REFERENCE.md
// "duplicate headers"). Pure.

import { GatewayError } from '../errors.js'

export interface RequestFacts {
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

const NONE: RequestFacts = Object.freeze({ authorization: undefined, authorizationRepeated: false, fields: undefined, repeatedField: undefined })

/**
 * One pass over the header list. Throws bad_request for a second Host field
 * (RFC 9112 §3.2); credential problems are kept for the credentials stage,
 * so a public route answers as it did before anyone read them.
 * `owned` is undefined when no enabled scheme owns a field besides Authorization.
 */
export function readRequestFacts(raw: readonly string[], owned: ReadonlySet<string> | undefined): RequestFacts {
  let host = false
  let authorization: string | undefined
  let authorizationRepeated = false
  let fields: Map<string, string> | undefined
  let repeatedField: string | undefined
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!
    // Length first: most fields are neither, and this costs no lowercased copy.
    if (name.length === 4 && name.toLowerCase() === 'host') {
      if (host) throw new GatewayError('bad_request', 'more than one Host header')
      host = true
    } else if (name.length === 13 && name.toLowerCase() === 'authorization') {
      if (authorization !== undefined) authorizationRepeated = true
      else authorization = raw[i + 1]!
    } else if (owned !== undefined) {
      const lower = name.toLowerCase()
      if (!owned.has(lower)) continue
      fields ??= new Map()
      if (fields.has(lower)) repeatedField ??= name
      else fields.set(lower, raw[i + 1]!)
    }
  }
  if (authorization === undefined && fields === undefined) return NONE
  return { authorization, authorizationRepeated, fields, repeatedField }
}
