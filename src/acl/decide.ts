// Pure authorization: given the rule that matched (or none), the caller's
// identity and the method, allow or deny with a stable reason. Called on every
// request after authentication (PROTOCOL.md §2.3 step 5), so it allocates
// nothing but the Decision it returns.

import { matchesDomain, type DomainPattern, type Identity } from '../identity/domain.js'
import { matchRule } from './compile.js'
import type { Acl, Decision, Rule } from './types.js'

/**
 * `identity` undefined means the request is not (yet) authenticated: public
 * rules still allow it; other rules answer `unauthenticated` (a 401
 * challenge, not a 403), unless no identity could pass anyway.
 */
export function authorize(acl: Acl, rule: Rule | undefined, identity: Identity | undefined, method: string, scopesCheckedLater = false): Decision {
  if (rule === undefined) return { allow: false, rule, verb: undefined, reason: 'no_rule' }
  const verb = acl.verbOf.get(method)
  // A method no verb names (TRACE, CONNECT, PROPFIND...) is denied everywhere, public rules included.
  if (verb === undefined) return { allow: false, rule, verb, reason: 'method_not_granted' }
  if (rule.public) return { allow: true, rule, verb }
  const patterns = rule.grants.get(verb)
  if (patterns === undefined) return { allow: false, rule, verb, reason: 'method_not_granted' }
  if (identity === undefined) return { allow: false, rule, verb, reason: 'unauthenticated' }
  if (grantingPattern(patterns, identity) === undefined) return { allow: false, rule, verb, reason: 'identity_not_listed' }
  // PROTOCOL.md §3: `scopes` are held by DPoP tokens. A hosted-key proof
  // carries none, so for it such a rule can never be satisfied: deny rather
  // than ignore the requirement (fail closed). `scopesCheckedLater` is the
  // gate's promise that it checks them against a token's scopes once the
  // token is verified (pipeline/authenticate.ts step 7).
  if (rule.scopes.length > 0 && !scopesCheckedLater) return { allow: false, rule, verb, reason: 'scope_missing' }
  return { allow: true, rule, verb }
}

export function decide(acl: Acl, identity: Identity | undefined, method: string, path: string): Decision {
  return authorize(acl, matchRule(acl, method, path), identity, method)
}

/** The first pattern in `patterns` that `identity` matches. */
export function grantingPattern(patterns: readonly DomainPattern[], identity: Identity): DomainPattern | undefined {
  for (const p of patterns) if (matchesDomain(p, identity)) return p
  return undefined
}
