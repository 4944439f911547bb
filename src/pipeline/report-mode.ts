// Report mode (docs/acl.md, "Report mode"): a rule with `mode: report` logs
// and counts what it would refuse, and forwards the request anyway. Called by
// run.ts around the two stages that refuse on the ACL's behalf: admission (a
// method the rule does not grant) and the gate (no or failed credentials, an
// identity the ACL does not list, the rule's policy).
//
// What is waived: the ACL's refusals and missing or failed credentials on
// that rule (400/401/403 from the gate). What never is: malformed requests
// (refused before any rule is consulted), abuse limits (429), no rule at all,
// and our own or the upstream's failures (5xx).
//
// A request forwarded this way carries no identity headers and no assertion:
// only a Principal the gate returned sets them, so a forged proof is verified
// as always, fails, and the access line says `claimed`, never `identity`.
//
// Its response carries the challenges the refusal would have carried
// (http/respond.ts: every enabled scheme's `WWW-Authenticate` and nonce
// header for a missing credential, the failed scheme's for a failed one or
// an identity the rule does not list): RFC 9110 §11.6.1 allows
// `WWW-Authenticate` on any response, and a client that waits for a
// challenge before it signs then authenticates, so the shadow decision is
// about the identities that will use the path.
//
// `unmatched: report` in the ACL forwards a request no rule matches the same
// way (admission says `no_rule`); nothing can authenticate there, so it gets
// no challenge.

import type { IncomingMessage } from 'node:http'
import type { DenyReason, Rule } from '../acl/index.js'
import { isGatewayError, type GatewayError } from '../errors.js'
import { challengesFor } from '../http/respond.js'
import type { RequestFacts } from '../http/request-facts.js'
import type { Principal } from '../schemes/types.js'
import { ForbiddenError } from './admission.js'
import { authenticate } from './authenticate.js'
import type { Exchange } from './exchange.js'
import type { GateView } from './request-view.js'
import type { GatewayState } from '../assembly/state.js'

/** Gate statuses report mode waives: bad or missing credentials, and the ACL's 403. */
const WAIVED_STATUS = new Set([400, 401, 403])

/** The `rule` label of a request no rule matched (`unmatched: report`). */
export const UNMATCHED_RULE_LABEL = '(unmatched)'

/**
 * Challenge fields for the forwarded response of a waived request, as a flat
 * [name, value, …] list; kept beside the request (not on the hot path's
 * objects) and read once by the responder that forwards it.
 */
const waived = new WeakMap<IncomingMessage, readonly string[]>()

/** The challenges a waived refusal would have sent, for the forwarded response; undefined for every other request. */
export function waivedChallenges(req: IncomingMessage): readonly string[] | undefined {
  return waived.get(req)
}

/**
 * The gate, except that on a report-mode rule a refusal it may waive becomes
 * `undefined` (forward without an identity) and a `would_deny` on the exchange.
 */
export async function authenticateOrReport(state: GatewayState, req: IncomingMessage, facts: RequestFacts, view: GateView, rule: Rule | undefined, ex: Exchange): Promise<Principal | undefined> {
  try {
    return await authenticate(state, req, facts, view, rule, ex)
  } catch (err) {
    if (rule?.mode !== 'report' || !isGatewayError(err) || !WAIVED_STATUS.has(err.status)) throw err
    reportDenial(state, ex, rule, reasonOf(err))
    const fields = challengeFields(state, err, ex.scheme)
    if (fields) waived.set(req, fields)
    return undefined
  }
}

function challengeFields(state: GatewayState, err: GatewayError, failed: string | undefined): string[] | undefined {
  const c = challengesFor(err, state.schemes.schemes, failed)
  if (!c || c.fields.length === 0) return undefined
  const flat: string[] = []
  for (const f of c.fields) flat.push('WWW-Authenticate', f)
  flat.push(...c.headers)
  return flat
}

/** Records a refusal a report-mode rule waived: the access line's decision and reason, and the counter. */
export function reportDenial(state: GatewayState, ex: Exchange, rule: Rule | undefined, reason: string): void {
  ex.decision = 'would_deny'
  ex.reason = reason
  state.metrics.inc('popgate_shadow_denials_total', { rule: rule?.id ?? UNMATCHED_RULE_LABEL, reason })
}

/** The ACL's reason for its own refusals (`identity_not_listed`...), the error code for failed credentials. */
function reasonOf(err: { readonly code: string }): DenyReason | string {
  if (err instanceof ForbiddenError && !err.decision.allow) return err.decision.reason
  return err.code === 'credentials_missing' ? 'unauthenticated' : err.code
}
