// The enabled schemes, and which one a request's credentials belong to.
// Exactly one scheme per request: none → 401 with one challenge per enabled
// scheme (RFC 9110 §11.6.1); credentials of two schemes → 400
// multiple_credentials. Built once per config.

import { GatewayError } from '../errors.js'
import type { RequestFacts } from '../http/request-facts.js'
import type { Credentials, Scheme } from './types.js'

export interface Selected { readonly scheme: Scheme; readonly credentials: Credentials }

export interface SchemeRegistry {
  readonly schemes: readonly Scheme[]
  /** Lowercased fields (besides Authorization) some scheme owns; undefined when none, so the header scan skips the lookup. */
  readonly ownedFields: ReadonlySet<string> | undefined
  /**
   * The scheme whose credentials the request carries, or undefined when it
   * carries none (an Authorization of a scheme nobody here speaks, such as
   * Basic from a browser, counts as none: the caller gets a challenge).
   * Throws multiple_credentials and proof_too_large.
   */
  select(facts: RequestFacts): Selected | undefined
}

export function createSchemeRegistry(schemes: readonly Scheme[], opts: { readonly maxCredentialBytes: number }): SchemeRegistry {
  const byAuthScheme = new Map<string, Scheme>()
  const byField = new Map<string, Scheme>()
  for (const s of schemes) {
    for (const a of [...(s.authScheme === undefined ? [] : [s.authScheme]), ...(s.alsoAuthSchemes ?? [])]) {
      const key = a.toLowerCase()
      if (byAuthScheme.has(key)) throw new Error(`two schemes own Authorization: ${a}`)
      byAuthScheme.set(key, s)
    }
    for (const f of s.fields) {
      // Lowercase only: the header scan compares lowercased names, so any other spelling could never match.
      if (f !== f.toLowerCase() || byField.has(f) || f === 'authorization' || f === 'host') throw new Error(`field ${f} cannot be owned by ${s.name}`)
      byField.set(f, s)
    }
  }
  // Authorization carries the scheme and a token68 (RFC 9110 §11.6.2); the
  // margin covers the scheme name, so maxCredentialBytes bounds the token.
  const maxAuthorizationChars = opts.maxCredentialBytes + 64

  function select(facts: RequestFacts): Selected | undefined {
    if (facts.authorizationRepeated) throw new GatewayError('multiple_credentials', 'more than one Authorization header')
    if (facts.repeatedField !== undefined) throw new GatewayError('multiple_credentials', `more than one ${facts.repeatedField} header`)
    const value = facts.authorization
    let byAuthorization: Scheme | undefined
    if (value !== undefined) {
      if (value.length > maxAuthorizationChars) throw new GatewayError('proof_too_large', `Authorization is larger than ${opts.maxCredentialBytes} bytes`)
      const sp = value.indexOf(' ')
      byAuthorization = byAuthScheme.get((sp < 0 ? value : value.slice(0, sp)).toLowerCase())
    }
    let chosen = byAuthorization
    if (facts.fields !== undefined) {
      for (const name of facts.fields.keys()) {
        const owner = byField.get(name)!
        if (chosen !== undefined && owner !== chosen) throw new GatewayError('multiple_credentials', `credentials of two schemes (${chosen.name}, ${owner.name})`)
        chosen = owner
      }
    }
    if (chosen === undefined) return undefined
    return { scheme: chosen, credentials: { authorization: byAuthorization === chosen ? value : undefined, fields: facts.fields } }
  }

  return { schemes, ownedFields: byField.size > 0 ? new Set(byField.keys()) : undefined, select }
}
