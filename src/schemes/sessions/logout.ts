// The session cookie's logout route (PROTOCOL.md §4; docs/protocol.md,
// "Cookies"): `POST <sessions.cookie.logoutPath>` (default
// /.well-known/popgate/logout) answers 204 with the cookie cleared — the same
// name and attributes, `Max-Age=0` (RFC 6265 §5.3 step 11: a past expiry
// removes the cookie). Answered by the gateway before the ACL: clearing a
// cookie needs no identity, and a browser whose cookie no longer opens must
// still be able to drop it.
//
// POST only: a GET would let any page log a user out with an <img>. The same
// CSRF guard as the cookie's own unsafe requests (csrf.ts) keeps another site
// from posting a logout form. Nothing is redirected anywhere (no `rd`
// parameter: the open-redirect class of other proxies' logouts).

import type { OwnRoute } from '../../http/own-routes.js'
import { clearCookieValue } from './cookie-header.js'
import { checkCsrf } from './csrf.js'

export function logoutRoute(name: string, allowedOrigins: ReadonlySet<string>): OwnRoute {
  return {
    contentType: 'application/json', body: '', cacheControl: 'no-store',
    methods: new Set(['POST']),
    status: 204,
    headers: ['Set-Cookie', clearCookieValue(name)],
    guard(method, field) {
      checkCsrf({ method, upgrade: false, origin: field('origin'), secFetchSite: field('sec-fetch-site') }, allowedOrigins)
    },
  }
}
