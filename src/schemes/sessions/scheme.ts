// The session-ticket scheme (PROTOCOL.md §4) and the grant that mints
// tickets, as the gate runs them:
//   parse  — `Authorization: DomainPoP-Session <ticket>` + `DomainPoP-Proof`:
//            opens the ticket (CPU only, cached by `ath`), names its identity
//   (the gate's ACL, on every request)
//   verify — `sessions: false` on the rule → `session_refused`; then the
//            HMAC, claims, revocation, channel binding and `jti` (verify.ts)
//   grant  — after any scheme's verify: a principal whose proof carried `epk`
//            gets a `DomainPoP-Session` response field (grant.ts)

import { GatewayError } from '../../errors.js'
import { parseAuthorization, serializeChallenge } from '../../http/auth-header.js'
import { SessionClockError } from '../../proofs/session-proof.js'
import type { Grant, Principal, Scheme } from '../types.js'
import { mintTicket, SESSION_FIELD } from './grant.js'
import { parseSessionRequest, verifySessionRequest, type SessionClaim, type SessionDeps } from './verify.js'

export const SESSION_AUTH_SCHEME = 'DomainPoP-Session'
const SESSION_ASSURANCES = new Set(['session'] as const)

export function createSessionScheme(deps: SessionDeps & { readonly now: () => number }): Scheme<SessionClaim> {
  const realm = deps.publicOrigin
  return {
    name: 'session',
    authScheme: SESSION_AUTH_SCHEME,
    fields: ['domainpop-proof'],

    parse(credentials, req) {
      const a = parseAuthorization(credentials.authorization ?? '')
      if (!a || a.scheme.toLowerCase() !== 'domainpop-session') throw new GatewayError('ticket_malformed', 'Authorization must be DomainPoP-Session <ticket>')
      return parseSessionRequest(a.credentials, credentials.fields?.get('domainpop-proof'), req.nowMs, deps)
    },

    async verify(claim, req, rule): Promise<Principal> {
      // PROTOCOL.md §4: a rule with `sessions: false` wants a proof on every request.
      if (!rule.sessions) throw new GatewayError('session_refused', 'this path needs a proof on every request, not a session ticket')
      const p = await verifySessionRequest(claim, { method: req.method, path: req.path, nowMs: req.nowMs, exporter: req.channel.exporter }, deps)
      return {
        identity: p.identity, method: 'session', thumbprint: p.jkt, confirmation: { jkt: p.jkt },
        channelBound: p.channelBound, assurances: SESSION_ASSURANCES, token: undefined, responseHeaders: undefined,
      }
    },

    challenge(error) {
      const params: Record<string, string> = { realm }
      if (error?.authError) {
        params.error = error.authError
        params.error_description = error.detail
      }
      const body: Record<string, string> = {}
      // Hawk-style: the gateway's time, so a client whose clock is off can correct.
      if (error instanceof SessionClockError) body.server_time = String(error.serverTimeSec)
      return { field: serializeChallenge(SESSION_AUTH_SCHEME, params), body }
    },
  }
}

/** Mints a ticket for a principal whose proof carried `epk`, unless the rule says `sessions: false`. */
export function createTicketGrant(deps: Pick<SessionDeps, 'tickets'>): Grant {
  return {
    name: 'session-ticket',
    issue(principal, req, rule) {
      const r = principal.sessionRequest
      if (r?.kind !== 'ticket' || !rule.sessions || principal.method === 'session') return undefined
      const method = principal.method === 'dpop' ? 'dpop' : 'domainpop'
      const value = mintTicket({ epk: r.epk, nonce: r.nonce ?? '', aud: r.aud ?? '', kid: r.kid ?? principal.thumbprint, identity: principal.identity as never, method, cb: r.cb }, deps.tickets, req.nowMs)
      return [SESSION_FIELD, value]
    },
  }
}
