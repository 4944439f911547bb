// What a request's ACL decision *does*, mode included: `public`, `allow`,
// `deny`, or `would_deny` (a report-mode rule denies; the request is
// forwarded). `acl test` checks expectations against it; reloads and
// `acl diff` count the sampled requests whose outcome flips. Pure.

import type { Identity } from '../identity/domain.js'
import { decide } from './decide.js'
import type { Acl, DenyReason, Rule } from './types.js'

export type Outcome = 'public' | 'allow' | 'deny' | 'would_deny'
export const OUTCOMES: readonly Outcome[] = ['public', 'allow', 'deny', 'would_deny']

export interface Judgement {
  readonly outcome: Outcome
  readonly rule: Rule | undefined
  /** Why it is denied (also for would_deny); undefined when allowed. */
  readonly reason: DenyReason | undefined
}

/**
 * `identity` undefined = anonymous. An anonymous request on a rule that needs
 * an identity is `deny` (reason `unauthenticated`: the gateway challenges).
 */
export function judge(acl: Acl, identity: Identity | undefined, method: string, path: string): Judgement {
  const d = decide(acl, identity, method, path)
  if (d.allow) return { outcome: d.rule.public ? 'public' : 'allow', rule: d.rule, reason: undefined }
  return { outcome: d.rule?.mode === 'report' ? 'would_deny' : 'deny', rule: d.rule, reason: d.reason }
}
