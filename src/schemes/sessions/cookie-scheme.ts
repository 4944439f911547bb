// The session-cookie scheme (PROTOCOL.md §4) and the grant that mints the
// cookie, as the gate runs them:
//   select — an ambient credential: the `__Host-popgate` cookie, looked at
//            only when the request carries no explicit credential (an
//            Authorization or a proof field of any scheme wins: a browser
//            that proves again while holding a cookie is judged on the proof,
//            and its cookie is still cut out of what is forwarded)
//   parse  — the CSRF guard first (csrf.ts: nothing is opened for a forged
//            request), a second cookie of our name refused, then the sealed
//            value opened (node:crypto, cached by value) and its identity named
//   (the gate's ACL, on every request)
//   verify — `sessions: false` → `session_refused`; the identity's
//            revocation time (no I/O: the list is in memory)
//   grant  — after a DomainPoP or DPoP proof with `ses: "cookie"` verified:
//            `Set-Cookie` with a fresh sealed cookie. Never after a cookie or
//            a ticket: only a proof mints one (session fixation).
// A refusal of the cookie itself (it does not open, expired, revoked) also
// clears it in the browser (`Max-Age=0`), so a page's next attempt is a proof.

import { GatewayError, type ErrorCode } from '../../errors.js'
import type { Identity } from '../../identity/domain.js'
import type { Revocations } from '../../revocation/types.js'
import type { Claim, Grant, Principal, Scheme } from '../types.js'
import type { CookieContents, CookieJar } from './cookie.js'
import { clearCookieValue, cookieValues, setCookieValue } from './cookie-header.js'
import { checkCsrf } from './csrf.js'

export interface CookieDeps {
  readonly jar: CookieJar
  /** `sessions.cookie.name` (always `__Host-…`). */
  readonly name: string
  readonly revocations: Revocations
  /** `publicOrigin` and `cors.origins`, ASCII-serialized (config/sections/cors.ts). */
  readonly allowedOrigins: ReadonlySet<string>
}

export interface CookieClaim extends Claim { readonly cookie: CookieContents }

const SESSION_ASSURANCES = new Set(['session'] as const)

/** Refusals that mean the cookie itself is no good: the answer clears it. */
const CLEARS: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'cookie_malformed', 'cookie_too_large', 'cookie_invalid', 'cookie_key_unknown', 'cookie_key_retired', 'cookie_expired', 'session_revoked',
])

export function createCookieScheme(deps: CookieDeps): Scheme<CookieClaim> {
  const cleared = ['Set-Cookie', clearCookieValue(deps.name)]
  return {
    name: 'cookie',
    authScheme: undefined,
    fields: [],
    ambient: { cookie: deps.name },

    parse(credentials, req) {
      // CSRF before anything else (PROTOCOL.md §4): a forged request costs no decryption.
      checkCsrf({ method: req.method, upgrade: req.field('upgrade') !== undefined, origin: req.field('origin'), secFetchSite: req.field('sec-fetch-site') }, deps.allowedOrigins)
      // Two cookies of our name: one was planted (a sibling host cannot set a __Host- cookie, but a script on this origin could).
      if (cookieValues(req.field('cookie'), deps.name).length > 1) throw new GatewayError('cookie_malformed', 'the request carries more than one session cookie')
      const cookie = deps.jar.open(credentials.cookie ?? '', req.nowMs)
      return { identity: cookie.identity, cookie }
    },

    async verify(claim, _req, rule): Promise<Principal> {
      // PROTOCOL.md §4: a rule with `sessions: false` wants a proof on every request.
      if (!rule.sessions) throw new GatewayError('session_refused', 'this path needs a proof on every request, not a session cookie: send a DomainPoP proof')
      const { cookie } = claim
      const notBefore = deps.revocations.notBefore(cookie.identity)
      if (notBefore !== undefined && cookie.iatMs < notBefore) throw new GatewayError('session_revoked', 'the sessions of this identity were revoked; send a proof for a new cookie')
      return {
        identity: cookie.identity, method: 'cookie', thumbprint: cookie.jkt, confirmation: { jkt: cookie.jkt },
        channelBound: false, assurances: SESSION_ASSURANCES, token: undefined, responseHeaders: undefined,
      }
    },

    challenge(error) {
      // No WWW-Authenticate: a browser does not answer a cookie challenge; the proof schemes' challenges say what to send.
      return error !== undefined && CLEARS.has(error.code) ? { headers: cleared } : {}
    },
  }
}

/** Mints the cookie for a principal whose proof carried `ses: "cookie"`, unless the rule says `sessions: false`. */
export function createCookieGrant(deps: Pick<CookieDeps, 'jar' | 'name'>): Grant {
  const maxAgeSec = Math.floor(deps.jar.ttlMs / 1000)
  return {
    name: 'session-cookie',
    issue(principal, req, rule) {
      if (principal.sessionRequest?.kind !== 'cookie' || !rule.sessions) return undefined
      // Only a proof that has just verified mints a cookie (session fixation): never a cookie or a ticket.
      if (principal.method !== 'domainpop' && principal.method !== 'dpop') return undefined
      const value = deps.jar.mint({ identity: principal.identity as Identity, jkt: principal.thumbprint, method: principal.method }, req.nowMs)
      return ['Set-Cookie', setCookieValue(deps.name, value, maxAgeSec)]
    },
  }
}
