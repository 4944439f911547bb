// Stage: what the ACL says before anyone is authenticated.
//   public rule         → let in without credentials
//   no identity could   → 403 now (a method no verb of the rule grants);
//                         on a report-mode rule: forwarded, `wouldDeny` says why
//   otherwise           → authentication required (also when no rule matches:
//                         strangers are challenged, so the ACL's shape is not
//                         revealed; they get 403 only after proving who they are)
// and, for either, a body on a method that defines none → 400 unless the rule
// says `bodyOnGet: true` (issue 11 finding 3).

import { matchRule, authorize, type Rule, type Decision } from '../acl/index.js'
import { GatewayError } from '../errors.js'
import type { GatewayState } from '../assembly/state.js'

export interface Admission {
  readonly rule: Rule | undefined
  readonly public: boolean
  /** Set when a report-mode rule would have refused the method (pipeline/report-mode.ts). */
  readonly wouldDeny?: 'method_not_granted'
}

export function admit(state: GatewayState, method: string, path: string): Admission {
  const rule = matchRule(state.acl, method, path)
  const gate = authorize(state.acl, rule, undefined, method)
  if (gate.allow) return { rule, public: true }
  if (gate.reason === 'method_not_granted') {
    if (rule?.mode === 'report') return { rule, public: false, wouldDeny: gate.reason }
    throw new ForbiddenError(gate)
  }
  return { rule, public: false }
}

/** Methods whose requests define no body (RFC 9110 §9.3.1, §9.3.2, §9.3.6-9.3.8). DELETE bodies are let through: APIs use them. */
const BODYLESS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE', 'CONNECT'])

/**
 * Refuses a body the upstream does not expect: a naive upstream may read it
 * as a second request, run with no check by the gateway and absent from its log.
 */
export function refuseUnexpectedBody(method: string, rule: Rule | undefined, hasBody: boolean): void {
  if (hasBody && BODYLESS.has(method) && rule?.bodyOnGet !== true) {
    throw new GatewayError('body_not_allowed', `a ${method} request carries no body here`)
  }
}

/** A 403 that remembers which decision caused it, for the access log. Its detail says whether the method or the identity was refused. */
export class ForbiddenError extends GatewayError {
  constructor(readonly decision: Decision) {
    super('forbidden', !decision.allow && decision.reason === 'method_not_granted' ? 'the ACL grants no one this method here' : 'the ACL does not allow this identity here')
  }
}
