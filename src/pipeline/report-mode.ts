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

import type { IncomingMessage } from 'node:http'
import type { DenyReason, Rule } from '../acl/index.js'
import { isGatewayError } from '../errors.js'
import type { RequestFacts } from '../http/request-facts.js'
import type { Principal } from '../schemes/types.js'
import { ForbiddenError } from './admission.js'
import { authenticate } from './authenticate.js'
import type { Exchange } from './exchange.js'
import type { GateView } from './request-view.js'
import type { GatewayState } from '../assembly/state.js'

/** Gate statuses report mode waives: bad or missing credentials, and the ACL's 403. */
const WAIVED_STATUS = new Set([400, 401, 403])

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
    return undefined
  }
}

/** Records a refusal a report-mode rule waived: the access line's decision and reason, and the counter. */
export function reportDenial(state: GatewayState, ex: Exchange, rule: Rule, reason: string): void {
  ex.decision = 'would_deny'
  ex.reason = reason
  state.metrics.inc('popgate_shadow_denials_total', { rule: rule.id, reason })
}

/** The ACL's reason for its own refusals (`identity_not_listed`...), the error code for failed credentials. */
function reasonOf(err: { readonly code: string }): DenyReason | string {
  if (err instanceof ForbiddenError && !err.decision.allow) return err.decision.reason
  return err.code === 'credentials_missing' ? 'unauthenticated' : err.code
}
