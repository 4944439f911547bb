// What an ACL change changes: the rules added, removed and changed (by id),
// and, for a sample of requests (identity, method, path), how many would get
// another outcome (acl/outcome.ts) under the new ACL. Used on every accepted
// reload (server.ts) and by `popgate acl diff`. Pure.

import type { Identity } from '../identity/domain.js'
import { judge, type Outcome } from './outcome.js'
import type { Acl, Rule } from './types.js'

export interface RuleChanges {
  readonly added: readonly string[]
  readonly removed: readonly string[]
  /** Same id, another definition (path, methods, grants, policy or mode). A rule that only moved is not listed: the decision diff shows what moving does. */
  readonly changed: readonly string[]
}

export interface SampleRequest { readonly identity: string | undefined; readonly method: string; readonly path: string }

export interface Flip extends SampleRequest {
  readonly before: Outcome
  readonly after: Outcome
  /** The deciding rule under the new ACL ("" for none). */
  readonly rule: string
}

export interface DecisionDiff {
  readonly sampled: number
  readonly flips: number
  /** The first few flips, in sample order. */
  readonly examples: readonly Flip[]
}

export function ruleChanges(before: Acl, after: Acl): RuleChanges {
  const old = new Map(before.rules.map((r) => [r.id, r]))
  const now = new Map(after.rules.map((r) => [r.id, r]))
  return {
    added: after.rules.filter((r) => !old.has(r.id)).map((r) => r.id),
    removed: before.rules.filter((r) => !now.has(r.id)).map((r) => r.id),
    changed: after.rules.filter((r) => old.has(r.id) && fingerprint(old.get(r.id)!, before) !== fingerprint(r, after)).map((r) => r.id),
  }
}

/** Replays `sample` against both ACLs. Identities are taken as given (they were validated when recorded or read). */
export function diffDecisions(sample: Iterable<SampleRequest>, before: Acl, after: Acl, maxExamples = 5): DecisionDiff {
  let sampled = 0
  let flips = 0
  const examples: Flip[] = []
  for (const s of sample) {
    sampled++
    const id = s.identity as Identity | undefined
    const a = judge(before, id, s.method, s.path)
    const b = judge(after, id, s.method, s.path)
    if (a.outcome === b.outcome) continue
    flips++
    if (examples.length < maxExamples) examples.push({ identity: s.identity, method: s.method, path: s.path, before: a.outcome, after: b.outcome, rule: b.rule?.id ?? '' })
  }
  return { sampled, flips, examples }
}

/** Everything that decides what a rule does, as one comparable string; verbs are spelled as methods so a renamed verb is no change. */
function fingerprint(rule: Rule, acl: Acl): string {
  const grants = [...rule.grants].map(([verb, patterns]) => [acl.verbs.get(verb) ?? [], patterns.map((p) => p.source).sort()]).sort((x, y) => String(x[0]).localeCompare(String(y[0])))
  return JSON.stringify([rule.path, rule.methods ? [...rule.methods].sort() : null, rule.public, grants, rule.channelBinding, rule.sessions, rule.scopes, rule.mode, rule.require, rule.clientCertificate, rule.forwardClientCert])
}
