// Stage: what the ACL says before anyone is authenticated.
//   public rule         → let in without credentials
//   no identity could   → 403 now (a method no verb of the rule grants);
//                         on a report-mode rule: forwarded, `wouldDeny` says why
//   otherwise           → authentication required (also when no rule matches:
//                         strangers are challenged, so the ACL's shape is not
//                         revealed; they get 403 only after proving who they are)

import { matchRule, authorize, type Rule, type Decision } from '../acl/index.js'
import { GatewayError } from '../errors.js'
import type { GatewayState } from './state.js'

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

/** A 403 that remembers which decision caused it, for the access log. Its detail says whether the method or the identity was refused. */
export class ForbiddenError extends GatewayError {
  constructor(readonly decision: Decision) {
    super('forbidden', !decision.allow && decision.reason === 'method_not_granted' ? 'the ACL grants no one this method here' : 'the ACL does not allow this identity here')
  }
}
