// What a token issuer may speak for (issue 19; PROTOCOL.md §3). The one rule
// for every scheme that names an identity by the issuer of a token (DPoP
// today; any later token scheme that discovers an issuer reuses this module).
//
// The identity is the issuer's host. A host is a whole domain, and a path on
// it is not: `https://alice.test/u/mallory/` may be anyone's upload area,
// static hosting or per-user pages. So:
//   1. one canonical form: an issuer without a path is its origin
//      (`https://alice.test` and `https://alice.test/` are one issuer);
//      with a path, origin + path exactly (`/as` and `/as/` are two);
//   2. an issuer with a path is accepted only when the operator pinned it
//      (`dpop.issuers`): only the domain's operator can say that a path
//      speaks for the domain;
//   3. once any issuer of a host is pinned, only pinned issuers of that host
//      are accepted: another path (or the bare origin) of the same host is
//      refused, never "not pinned, so discovered";
//   4. an issuer that is not pinned is discovered only at its origin's root
//      (RFC 8414 §3 `/.well-known/oauth-authorization-server`, then OpenID
//      Discovery `/.well-known/openid-configuration`), never under a path
//      the token chose.
// Pure. Throws GatewayError('token_issuer_not_allowed') where a rule refuses.

import { GatewayError } from '../errors.js'
import { identityProblem } from './domain.js'

const MAX_ISSUER_CHARS = 2048
/** RFC 3986 pchar and `/`, no percent-encoding: one spelling per issuer path. */
const PATH_CHARS = /^[A-Za-z0-9\-._~!$&'()*+,;=:@/]*$/

/**
 * `issuer` as a URL, or why it is not an issuer: https, a host that is a valid
 * identity, no userinfo, query, fragment, percent-encoding or dot segments,
 * and written in canonical form (the form URL serializes it to; for a
 * path-less issuer with or without the one `/`).
 */
export function readIssuer(issuer: string): URL | string {
  if (issuer.length > MAX_ISSUER_CHARS || !/^https:\/\/[^/?#@\\]+(\/[^?#]*)?$/.test(issuer)) return 'must be an https URL without query or fragment'
  let url: URL
  try {
    url = new URL(issuer)
  } catch {
    return 'is not a URL'
  }
  const why = identityProblem(url.hostname)
  if (why) return `host ${why}`
  if (!PATH_CHARS.test(url.pathname) || url.pathname.split('/').some((s) => s === '.' || s === '..')) return 'path is not canonical'
  const canonical = url.pathname === '/' ? [url.origin, url.origin + '/'] : [url.origin + url.pathname]
  if (!canonical.includes(issuer)) return 'is not in canonical form'
  return url
}

/** Rule 1: the one form an issuer is compared in. */
export function canonicalIssuer(url: URL): string {
  return url.pathname === '/' ? url.origin : url.origin + url.pathname
}

/** Whether `written` (an `issuer` from metadata, say) is the issuer `canonical` names, in canonical form. */
export function isSameIssuer(written: unknown, canonical: string): boolean {
  if (typeof written !== 'string') return false
  const url = readIssuer(written)
  return typeof url !== 'string' && canonicalIssuer(url) === canonical
}

export interface AdmittedIssuer {
  /** Canonical form (rule 1): the key for pinned settings, metadata comparison and caches. */
  readonly issuer: string
  /** Pinned by the operator: its keys come from configuration, never from discovery. */
  readonly pinned: boolean
}

export interface IssuerRule {
  /** Rules 2 and 3 for a token's issuer (already read by readIssuer). */
  admit(url: URL): AdmittedIssuer
}

const notAllowed = (why: string): GatewayError => new GatewayError('token_issuer_not_allowed', why)

/** The rule for one configuration: `pinned` are the operator's issuer URLs (validated with readIssuer at load). */
export function compileIssuerRule(pinned: Iterable<string>): IssuerRule {
  const issuers = new Set<string>()
  const hosts = new Set<string>()
  for (const written of pinned) {
    const url = readIssuer(written)
    if (typeof url === 'string') continue // refused at config load; never matches a token
    issuers.add(canonicalIssuer(url))
    hosts.add(url.hostname)
  }
  return {
    admit(url) {
      const issuer = canonicalIssuer(url)
      if (issuers.has(issuer)) return { issuer, pinned: true }
      if (hosts.has(url.hostname)) throw notAllowed('this issuer is not pinned, and its host has pinned issuers')
      if (url.pathname !== '/') throw notAllowed('an issuer with a path is accepted only when pinned')
      return { issuer, pinned: false }
    },
  }
}

/**
 * Rule 4: where an issuer's metadata is looked for, in order. Only for a
 * path-less issuer (RFC 8414 §3.1 with an empty path, OpenID Connect
 * Discovery §4 with an empty path: both at the origin's root).
 */
export function discoveryUrls(url: URL): readonly [URL, URL] {
  if (url.pathname !== '/') throw notAllowed('an issuer with a path is never discovered')
  return [new URL(`${url.origin}/.well-known/oauth-authorization-server`), new URL(`${url.origin}/.well-known/openid-configuration`)]
}
