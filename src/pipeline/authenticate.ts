// Stage: authenticate, the same for every scheme and in the protocol's order
// (PROTOCOL.md §2.3):
//
//   1. client abuse limit    — 429 before any proof work
//   2. select a scheme       — none → 401 (every enabled scheme's challenge);
//                              credentials of two schemes → 400
//   3. parse                 — the scheme's own checks, no I/O; yields the identity
//   4. identity abuse limit  — 429 before any fetch for that identity, counted
//                              per (identity, client address): a stranger's
//                              failures never lock the identity out elsewhere
//   5. authorize             — the ACL says yes to this identity *before* any
//                              I/O, so a stranger cannot make the gateway fetch
//   6. verify                — keys, signature, replay: the scheme's I/O
//   7. grants                — steps any module adds after any scheme's verify
//                              (a ticket, a Set-Cookie): response fields
//   8. the rule's policy     — channelBinding (PROTOCOL.md §5); a rule's scopes
//                              against the token's (PROTOCOL.md §3) for schemes
//                              that carry tokens; for others the ACL already refused
//
// Failed authentications count against the client address (steps 2–7) and
// the claimed identity (steps 5–7); a bare challenge is not a failure.

import type { IncomingMessage } from 'node:http'
import { GatewayError, InsufficientScopeError, isGatewayError } from '../errors.js'
import { identityClientKey, isAuthFailure, rateLimited } from '../limits/abuse.js'
import { authorize, type Rule } from '../acl/index.js'
import { clientAddress } from '../http/client-address.js'
import type { RequestFacts } from '../http/request-facts.js'
import { requireChannelBinding } from '../proofs/channel-binding.js'
import type { Claim, Principal, Scheme } from '../schemes/types.js'
import type { GateView } from './request-view.js'
import { ForbiddenError } from './admission.js'
import type { GatewayState } from '../assembly/state.js'

/**
 * Where the gate records which scheme it chose (so a refusal carries that
 * scheme's challenge) and which identity the credential claimed (logged as
 * unverified when the request is refused).
 */
export interface SchemeNote { scheme: string | undefined; claimed: string | undefined }

export async function authenticate(state: GatewayState, req: IncomingMessage, facts: RequestFacts, view: GateView, rule: Rule | undefined, note: SchemeNote): Promise<Principal> {
  const client = clientAddress(req, state.headers.trusted) // 1
  const wait = state.abuse.clients.retryAfterSec(client, state.now())
  if (wait > 0) {
    state.metrics.inc('popgate_rate_limited_total', { scope: 'client' })
    throw rateLimited(wait, 'from this address')
  }
  try {
    const selected = state.schemes.select(facts) // 2
    if (!selected) throw new GatewayError('credentials_missing', 'credentials are required')
    note.scheme = selected.scheme.name
    view.client = client
    const claim = selected.scheme.parse(selected.credentials, view) // 3
    note.claimed = claim.identity
    return await authenticateClaim(state, selected.scheme, claim, view, rule, client)
  } catch (err) {
    if (isGatewayError(err) && isAuthFailure(err)) state.abuse.clients.hit(client, state.now())
    throw err
  }
}

async function authenticateClaim(state: GatewayState, scheme: Scheme, claim: Claim, view: GateView, rule: Rule | undefined, client: string): Promise<Principal> {
  // Keyed on the pair, not the identity alone: 300 bad proofs naming alice
  // from elsewhere must not 429 Alice's own valid proof (docs/security.md G2).
  const pair = identityClientKey(claim.identity, client)
  const wait = state.abuse.identities.retryAfterSec(pair, state.now()) // 4
  if (wait > 0) {
    state.metrics.inc('popgate_rate_limited_total', { scope: 'identity' })
    throw rateLimited(wait, 'for this identity')
  }
  try {
    const decision = authorize(state.acl, rule, claim.identity, view.method, scheme.carriesScopes === true) // 5
    if (!decision.allow) throw new ForbiddenError(decision)
    let principal = await scheme.verify(claim, view, decision.rule) // 6
    if (state.grants.length > 0) principal = await runGrants(state, principal, view, decision.rule) // 7
    if (decision.rule.channelBinding === 'required') requireChannelBinding(principal.channelBound, view.channel.exporter) // 8
    if (decision.rule.scopes.length > 0) requireScopes(decision.rule.scopes, principal.token?.scopes)
    return principal
  } catch (err) {
    if (isGatewayError(err) && isAuthFailure(err)) state.abuse.identities.hit(pair, state.now())
    throw err
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

/** RFC 6750 §3.1: every scope the rule names must be among the token's; the challenge names them all (§3 `scope`). */
export function requireScopes(required: readonly string[], held: readonly string[] | undefined): void {
  if (held === undefined || !required.every((s) => held.includes(s))) throw new InsufficientScopeError(required.join(' '))
}
