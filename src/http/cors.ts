// CORS for browser pages on other origins (Fetch Standard §3.2, "CORS
// protocol"; docs/browser.md). The gateway takes CORS over only where an
// origin is listed — `cors.origins`, or a rule's own `cors.origins`, which
// replaces the global list for that rule. Where neither lists one, nothing
// here runs and the upstream's own CORS headers pass untouched.
//
// Where it runs:
//   - a preflight (OPTIONS + Origin + Access-Control-Request-Method) is
//     answered by the gateway, never forwarded and never authenticated
//     (a preflight carries no credentials, Fetch §3.2.2): 204 for a listed
//     origin, 403 `cors_origin_refused` for any other;
//   - a request from an unlisted origin that carries explicit credentials
//     (Authorization, a scheme's field such as DPoP or DomainPoP-Proof) is
//     refused with 403 `cors_origin_refused` before anything is verified (a
//     cookie is the cookie scheme's CSRF guard's, schemes/sessions/csrf.ts:
//     a safe top-level navigation from another site must still pass);
//   - every other answer to a listed origin — forwarded or refused by the
//     gateway — carries Access-Control-Allow-Origin (the origin, never `*`),
//     -Allow-Credentials, -Expose-Headers, so the page can read a 401's
//     challenge and a problem+json instead of seeing a CORS failure; the
//     upstream's own Access-Control-* fields are dropped (one answer, not two).
// `Vary: Origin` on every answer where CORS is on (Fetch §3.2.5: caches).
// Pure.

import { GatewayError } from '../errors.js'

/** Response fields a page must be able to read (challenges, nonces, tickets, the request id). */
export const EXPOSED_HEADERS = 'WWW-Authenticate, DomainPoP-Nonce, DomainPoP-Session, DPoP-Nonce, X-Request-Id'
/** Request fields a page may send: the credentials of every scheme, and Content-Type for JSON bodies. */
export const ALLOWED_HEADERS = ['Authorization', 'DPoP', 'DomainPoP-Proof', 'Content-Type'] as const
/** How long a browser may keep a preflight answer (seconds; Chromium caps it at 7200). */
export const PREFLIGHT_MAX_AGE_SEC = 600

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/ // RFC 9110 §5.6.2

/** The origins a rule's answers may be read by: the rule's own list when it has one, else the global one. */
export const originsFor = (global: ReadonlySet<string>, ruleOrigins: ReadonlySet<string> | undefined): ReadonlySet<string> => ruleOrigins ?? global

export interface PreflightFacts {
  readonly origin: string
  readonly requestMethod: string
  /** Access-Control-Request-Headers, as received (a comma-separated list), or undefined. */
  readonly requestHeaders: string | undefined
}

/** Whether an OPTIONS request is a CORS preflight (Fetch §3.2.2). */
export const isPreflight = (method: string, origin: string | undefined, requestMethod: string | undefined): boolean =>
  method === 'OPTIONS' && origin !== undefined && requestMethod !== undefined

/**
 * The 204 answer's fields for a listed origin; throws `cors_origin_refused`
 * for any other, and `bad_request` for a requested method or header that is
 * not a token.
 */
export function preflightHeaders(p: PreflightFacts, allowed: ReadonlySet<string>): string[] {
  if (!allowed.has(p.origin)) throw new GatewayError('cors_origin_refused', 'this origin is not listed in cors.origins')
  if (!TOKEN.test(p.requestMethod)) throw new GatewayError('bad_request', 'Access-Control-Request-Method is not a method')
  const asked = (p.requestHeaders ?? '').split(',').map((h) => h.trim()).filter((h) => h !== '')
  if (asked.some((h) => !TOKEN.test(h)) || asked.length > 64) throw new GatewayError('bad_request', 'Access-Control-Request-Headers is not a list of field names')
  const known = new Set(ALLOWED_HEADERS.map((h) => h.toLowerCase()))
  // The page is trusted (listed): the fields it asks for beside ours are the upstream's business.
  const headers = [...ALLOWED_HEADERS, ...asked.filter((h) => !known.has(h.toLowerCase()))]
  return [
    'Access-Control-Allow-Origin', p.origin,
    'Access-Control-Allow-Credentials', 'true',
    'Access-Control-Allow-Methods', p.requestMethod,
    'Access-Control-Allow-Headers', headers.join(', '),
    'Access-Control-Max-Age', String(PREFLIGHT_MAX_AGE_SEC),
    'Vary', 'Origin, Access-Control-Request-Method, Access-Control-Request-Headers',
    'Cache-Control', 'no-store',
  ]
}

/**
 * The fields an actual answer carries: the Allow-* set for a listed origin,
 * only `Vary: Origin` otherwise (the answer still depends on Origin).
 */
export function responseHeaders(origin: string | undefined, allowed: ReadonlySet<string>): string[] {
  if (origin === undefined || !allowed.has(origin)) return ['Vary', 'Origin']
  return [
    'Access-Control-Allow-Origin', origin,
    'Access-Control-Allow-Credentials', 'true',
    'Access-Control-Expose-Headers', EXPOSED_HEADERS,
    'Vary', 'Origin',
  ]
}

/**
 * Refuses a request that carries explicit credentials from an origin that is
 * neither the gateway's own nor listed: a browser sends such a request only
 * when a page on another site made it, with a key that page should not use here. `Origin: null` (sandboxed frames, privacy redirects) is
 * never listed.
 */
export function checkCredentialedOrigin(origin: string | undefined, carriesCredentials: boolean, own: string, allowed: ReadonlySet<string>): void {
  if (origin === undefined || !carriesCredentials || origin === own || allowed.has(origin)) return
  throw new GatewayError('cors_origin_refused', 'credentials from this origin are not accepted (cors.origins)')
}

/** Whether a response field is one of the upstream's CORS fields, dropped when the gateway answers CORS itself. */
export const isUpstreamCorsField = (lowercaseName: string): boolean => lowercaseName.startsWith('access-control-')
