// Stage: authenticate, the same for every scheme and in the protocol's order
// (PROTOCOL.md §2.3):
//
//   1. client abuse limit    — 429 before any proof work
//   2. select a scheme       — none → 401 (every enabled scheme's challenge);
//                              explicit credentials of two schemes → 400;
//                              ambient ones (a cookie, a client certificate)
//                              only when no explicit one was sent
//   3. parse                 — the scheme's own checks, no I/O; yields the identity
//   4. identity abuse limit  — 429 before any fetch for that identity, counted
//                              per (identity, client address): a stranger's
//                              failures never lock the identity out elsewhere
//   5. authorize             — the ACL says yes to this identity *before* any
//                              I/O, so a stranger cannot make the gateway fetch
//   6. verify                — keys, signature, replay: the scheme's I/O; the
//                              principal must be the identity the ACL
//                              authorized (else 401 identity_mismatch)
//   7. the rule's policy     — one generic check (pipeline/policy.ts):
//                              channelBinding, clientCertificate, sessions,
//                              require, scopes
//   8. grants                — steps any module adds after any scheme's
//                              success (a ticket, a Set-Cookie): response fields
//
// Failed authentications count against the client address (steps 2–8) and
// the claimed identity (steps 5–8); a bare challenge is not a failure.

import type { IncomingMessage } from 'node:http'
import { GatewayError, isGatewayError } from '../errors.js'
import { identityClientKey, isAuthFailure, rateLimited } from '../limits/abuse.js'
import { authorize, type Rule } from '../acl/index.js'
import { clientAddress } from '../http/client-address.js'
import type { RequestFacts } from '../http/request-facts.js'
import type { RateWindow } from '../limits/window.js'
import { checkPolicy } from './policy.js'
import type { Claim, Principal, Scheme } from '../schemes/types.js'
import type { GateView } from './request-view.js'
import type { Exchange } from './exchange.js'
import { ForbiddenError } from './admission.js'
import type { GatewayState } from '../assembly/state.js'

/**
 * Where the gate records which scheme it chose (so a refusal carries that
 * scheme's challenge, and the access line and metrics name it) and which
 * identity the credential claimed (logged as unverified when refused).
 */
type SchemeNote = Pick<Exchange, 'scheme' | 'claimed'>

export async function authenticate(state: GatewayState, req: IncomingMessage, facts: RequestFacts, view: GateView, rule: Rule | undefined, note: SchemeNote): Promise<Principal> {
  const client = clientAddress(req, state.headers.trusted)
  const clients = new AbuseCheck(state, state.abuse.clients, client, 'client', 'from this address') // 1
  return clients.counting(async () => {
    const selected = state.schemes.select(facts, view) // 2
    if (!selected) throw new GatewayError('credentials_missing', 'credentials are required')
    note.scheme = selected.scheme.name
    view.client = client
    const claim = selected.scheme.parse(selected.credentials, view) // 3
    note.claimed = claim.identity
    // Keyed on the pair, not the identity alone: 300 bad proofs naming alice
    // from elsewhere must not 429 Alice's own valid proof (docs/security.md G2).
    const pair = new AbuseCheck(state, state.abuse.identities, identityClientKey(claim.identity, client), 'identity', 'for this identity') // 4
    return pair.counting(() => authenticateClaim(state, selected.scheme, claim, view, rule))
  })
}

async function authenticateClaim(state: GatewayState, scheme: Scheme, claim: Claim, view: GateView, rule: Rule | undefined): Promise<Principal> {
  const decision = authorize(state.acl, rule, claim.identity, view.method, scheme.carriesScopes === true) // 5
  if (!decision.allow) throw new ForbiddenError(decision)
  let principal = await scheme.verify(claim, view, decision.rule) // 6
  // The ACL authorized claim.identity; a scheme must never swap in another (an introspected subject, a bug).
  if (principal.identity !== claim.identity) throw new GatewayError('identity_mismatch', 'the verified identity is not the one the credential claimed')
  checkPolicy(decision.rule, principal, view.channel) // 7
  if (state.grants.length > 0) principal = await runGrants(state, principal, view, decision.rule) // 8
  return principal
}

/**
 * One abuse window at one gate step: refuses with 429 while the key is over
 * its limit (before any work), and counts the failed authentications of the
 * steps it wraps (limits/abuse.ts isAuthFailure).
 */
class AbuseCheck {
  constructor(
    private readonly state: GatewayState,
    private readonly window: RateWindow,
    private readonly key: string,
    private readonly scope: 'client' | 'identity',
    private readonly what: string,
  ) {}

  async counting<T>(steps: () => Promise<T>): Promise<T> {
    const wait = this.window.retryAfterSec(this.key, this.state.now())
    if (wait > 0) {
      this.state.metrics.inc('popgate_rate_limited_total', { scope: this.scope })
      throw rateLimited(wait, this.what)
    }
    try {
      return await steps()
    } catch (err) {
      if (isGatewayError(err) && isAuthFailure(err)) this.window.hit(this.key, this.state.now())
      throw err
    }
  }
}

/** Every grant's response fields, after the scheme's own (a fresh nonce first). */
async function runGrants(state: GatewayState, principal: Principal, view: GateView, rule: Rule): Promise<Principal> {
  let fields: string[] | undefined
  for (const g of state.grants) {
    const more = await g.issue(principal, view, rule)
    if (more !== undefined && more.length > 0) (fields ??= [...(principal.responseHeaders ?? [])]).push(...more)
  }
  return fields === undefined ? principal : { ...principal, responseHeaders: fields }
}

export { requireScopes } from './policy.js'
