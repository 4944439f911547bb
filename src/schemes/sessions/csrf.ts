// The session cookie's CSRF guard (PROTOCOL.md §4). A cookie is a bearer
// credential the browser attaches on its own, so a request that changes
// state must also show where it came from:
//   - an `Origin` header (RFC 6454 §7; Fetch sends it on every non-GET/HEAD
//     request) that is the gateway's own origin or one in `cors.origins`;
//   - or, when the browser sent no `Origin`, `Sec-Fetch-Site: same-origin`
//     (Fetch Metadata, W3C; the header-based check filippo.io/csrf and
//     Pomerium use).
// Safe methods (RFC 9110 §9.2.1) pass: they must not change state. A
// WebSocket handshake is checked like an unsafe method: it is a GET, but it
// opens a two-way channel (cross-site WebSocket hijacking). Pure.

import { GatewayError } from '../../errors.js'

const SAFE = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE'])

export interface CsrfFacts {
  readonly method: string
  /** A WebSocket upgrade. */
  readonly upgrade: boolean
  readonly origin: string | undefined
  readonly secFetchSite: string | undefined
}

/**
 * Throws 403 when a cookie-authenticated request may be cross-site forged:
 * `cookie_origin_refused` for an `Origin` not allowed, `cookie_origin_missing`
 * for no `Origin` and no `Sec-Fetch-Site: same-origin`. `allowed` holds
 * ASCII-serialized origins.
 */
export function checkCsrf(req: CsrfFacts, allowed: ReadonlySet<string>): void {
  if (SAFE.has(req.method) && !req.upgrade) return
  if (req.origin !== undefined) {
    // RFC 6454 §7.3: the serialized origin, compared exactly; "null" (sandboxed, privacy-redirected) is never listed.
    if (allowed.has(req.origin)) return
    throw new GatewayError('cookie_origin_refused', 'this request came with the session cookie from an origin that is not allowed (cors.origins)')
  }
  if (req.secFetchSite === 'same-origin') return
  throw new GatewayError('cookie_origin_missing', 'a request that changes state with the session cookie needs an allowed Origin, or Sec-Fetch-Site: same-origin')
}
