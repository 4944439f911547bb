// The enabled schemes, and which one a request's credentials belong to.
// Exactly one scheme per request: none → 401 with one challenge per enabled
// scheme (RFC 9110 §11.6.1); explicit credentials (Authorization, an owned
// field) of two schemes → 400 multiple_credentials. Ambient credentials (a
// named cookie, the TLS client certificate) count only when no explicit
// credential was sent: a browser's cookie never outvotes a proof, and never
// makes a request with a proof ambiguous. Among ambient ones the first
// enabled scheme in the modules' order (schemes/index.ts) that finds its
// credential is chosen. Built once per config.

import { GatewayError } from '../errors.js'
import type { RequestFacts } from '../http/request-facts.js'
import type { Credentials, Scheme } from './types.js'
import type { ClientCertificate } from '../tls/certificate.js'

export interface Selected { readonly scheme: Scheme; readonly credentials: Credentials }

/** Where ambient credentials are looked up, only when no explicit one was sent (pipeline/request-view.ts). */
export interface AmbientSource {
  cookie(name: string): string | undefined
  clientCertificate(): ClientCertificate | undefined
}

export interface SchemeRegistry {
  readonly schemes: readonly Scheme[]
  /** Lowercased fields (besides Authorization) some scheme owns; undefined when none, so the header scan skips the lookup. */
  readonly ownedFields: ReadonlySet<string> | undefined
  /** Cookie names schemes own (`ambient.cookie`): removed from the Cookie field before forwarding, other cookies pass. */
  readonly ownedCookies: ReadonlySet<string>
  /** The scheme called `name`, if enabled. */
  byName(name: string): Scheme | undefined
  /** The credential fields of scheme `name` a rule's forwardToken passes on (its `forwardable`); undefined: none. */
  forwardable(name: string): ReadonlySet<string> | undefined
  /**
   * The scheme whose credentials the request carries, or undefined when it
   * carries none (an Authorization of a scheme nobody here speaks, such as
   * Basic from a browser, counts as none: the caller gets a challenge).
   * Throws multiple_credentials and proof_too_large.
   */
  select(facts: RequestFacts, ambient?: AmbientSource): Selected | undefined
}

export function createSchemeRegistry(schemes: readonly Scheme[], opts: { readonly maxCredentialBytes: number }): SchemeRegistry {
  // Usually one scheme per auth-scheme and per field; several when they tell their credentials apart by form (`byForm`).
  const byAuthScheme = new Map<string, Scheme[]>()
  const byField = new Map<string, Scheme[]>()
  const byName = new Map<string, Scheme>()
  const ownedCookies = new Set<string>()
  const ambientSchemes: Scheme[] = []
  const forwardable = new Map<string, ReadonlySet<string>>()
  for (const s of schemes) {
    if (s.forwardable !== undefined && s.forwardable.length > 0) forwardable.set(s.name, new Set(s.forwardable))
    if (byName.has(s.name)) throw new Error(`two schemes are called ${s.name}`)
    byName.set(s.name, s)
    if (s.ambient?.cookie !== undefined) {
      if (ownedCookies.has(s.ambient.cookie)) throw new Error(`cookie ${s.ambient.cookie} cannot be owned by ${s.name}: another scheme owns it`)
      ownedCookies.add(s.ambient.cookie)
    }
    if (s.ambient !== undefined) ambientSchemes.push(s)
    for (const a of [...(s.authScheme === undefined ? [] : [s.authScheme]), ...(s.alsoAuthSchemes ?? [])]) {
      const key = a.toLowerCase()
      const owners = byAuthScheme.get(key) ?? []
      // Sharing needs every owner but one to tell its credentials apart by form.
      if (owners.length > 0 && [...owners, s].filter((o) => o.byForm === undefined).length > 1) throw new Error(`two schemes own Authorization: ${a}`)
      byAuthScheme.set(key, [...owners, s])
    }
    for (const f of s.fields) {
      // Lowercase only: the header scan compares lowercased names, so any other spelling could never match.
      const owners = byField.get(f) ?? []
      const sibling = (o: Scheme) => o.authScheme !== undefined && o.authScheme.toLowerCase() === s.authScheme?.toLowerCase() && (o.byForm !== undefined || s.byForm !== undefined)
      if (f !== f.toLowerCase() || !owners.every(sibling) || f === 'authorization' || f === 'host') throw new Error(`field ${f} cannot be owned by ${s.name}`)
      byField.set(f, [...owners, s])
    }
  }
  // Authorization carries the scheme and a token68 (RFC 9110 §11.6.2); the
  // margin covers the scheme name, so maxCredentialBytes bounds the token.
  const maxAuthorizationChars = opts.maxCredentialBytes + 64

  function select(facts: RequestFacts, ambient?: AmbientSource): Selected | undefined {
    if (facts.authorizationRepeated) throw new GatewayError('multiple_credentials', 'more than one Authorization header')
    if (facts.repeatedField !== undefined) throw new GatewayError('multiple_credentials', `more than one ${facts.repeatedField} header`)
    const value = facts.authorization
    let byAuthorization: Scheme | undefined
    if (value !== undefined) {
      if (value.length > maxAuthorizationChars) throw new GatewayError('proof_too_large', `Authorization is larger than ${opts.maxCredentialBytes} bytes`)
      const sp = value.indexOf(' ')
      const owners = byAuthScheme.get((sp < 0 ? value : value.slice(0, sp)).toLowerCase())
      byAuthorization = owners === undefined ? undefined : owners.length === 1 ? owners[0] : byForm(owners, sp < 0 ? '' : value.slice(sp + 1).trim())
    }
    let chosen = byAuthorization
    if (facts.fields !== undefined) {
      for (const name of facts.fields.keys()) {
        const owners = byField.get(name)!
        if (chosen !== undefined && !owners.includes(chosen)) throw new GatewayError('multiple_credentials', `credentials of two schemes (${chosen.name}, ${owners[0]!.name})`)
        chosen ??= owners.find((o) => o.byForm === undefined) ?? owners[0]
      }
    }
    if (chosen === undefined) return ambient === undefined ? undefined : selectAmbient(ambient)
    return { scheme: chosen, credentials: { authorization: byAuthorization === chosen ? value : undefined, fields: facts.fields } }
  }

  /** The owner whose form fits, else the one without a form test. */
  function byForm(owners: readonly Scheme[], credentials: string): Scheme | undefined {
    for (const o of owners) if (o.byForm?.(credentials) === true) return o
    return owners.find((o) => o.byForm === undefined)
  }

  function selectAmbient(source: AmbientSource): Selected | undefined {
    for (const s of ambientSchemes) {
      const name = s.ambient!.cookie
      const cookie = name === undefined ? undefined : source.cookie(name)
      if (cookie !== undefined) {
        if (cookie.length > maxAuthorizationChars) throw new GatewayError('proof_too_large', `the ${s.name} cookie is larger than ${opts.maxCredentialBytes} bytes`)
        return { scheme: s, credentials: { authorization: undefined, fields: undefined, cookie } }
      }
      const cert = s.ambient!.clientCertificate === true ? source.clientCertificate() : undefined
      if (cert !== undefined) return { scheme: s, credentials: { authorization: undefined, fields: undefined, clientCertificate: cert } }
    }
    return undefined
  }

  return {
    schemes,
    ownedFields: byField.size > 0 ? new Set(byField.keys()) : undefined,
    ownedCookies,
    byName: (name) => byName.get(name),
    forwardable: (name) => forwardable.get(name),
    select,
  }
}
