// The ACL module: parse acl.yaml once, compile a matcher, decide per request.
// Format and semantics: docs/acl.md.

export type { Acl, Decision, DenyReason, Explanation, LintFinding, LintKind, PassReason, Rule, RuleMode } from './types.js'
export { DEFAULT_VERBS, RULE_FIELDS } from './types.js'
export { compileAcl, matchRule, type AclSpec, type RuleSpec } from './compile.js'
export { authorize, decide } from './decide.js'
export { parseAcl, type AclResult } from './parse.js'
export { loadAclFile } from './load.js'
export { explain, formatExplanation } from './explain.js'
export { lint, formatFinding, isNote } from './lint.js'
export { judge, OUTCOMES, type Outcome, type Judgement } from './outcome.js'
export { ruleChanges, diffDecisions, type RuleChanges, type DecisionDiff, type Flip, type SampleRequest } from './diff.js'
