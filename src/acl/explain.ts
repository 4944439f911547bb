// `popgate acl explain`: why a request is allowed or denied. Walks the rules
// linearly (the plain reading of "first match wins") so an operator sees each
// rule passed over and why; the decision itself comes from `authorize`, the
// same function the gateway uses. Not on the request path.

import type { DomainPattern, Identity } from '../identity/domain.js'
import { authorize, grantingPattern } from './decide.js'
import { patternMatches, splitPath } from './path-pattern.js'
import type { Acl, Explanation, PassReason, Rule } from './types.js'

export function explain(acl: Acl, identity: Identity | undefined, method: string, path: string): Explanation {
  const passed: { rule: Rule; why: PassReason }[] = []
  // A path that does not start with '/' is not normalized: nothing matches it (as in the trie).
  const segments = path.startsWith('/') ? splitPath(path) : undefined
  let deciding: Rule | undefined
  for (const rule of acl.rules) {
    if (segments === undefined || !patternMatches(splitPath(rule.path), segments)) passed.push({ rule, why: 'path' })
    else if (rule.methods !== undefined && !rule.methods.has(method)) passed.push({ rule, why: 'method' })
    else {
      deciding = rule
      break
    }
  }
  const decision = authorize(acl, deciding, identity, method)
  const patterns = decision.allow && identity !== undefined ? decision.rule.grants.get(decision.verb) : undefined
  return {
    file: acl.file,
    identity,
    method,
    path,
    verb: acl.verbOf.get(method),
    passed,
    decision,
    pattern: patterns && identity !== undefined ? grantingPattern(patterns, identity) : undefined,
  }
}

/** Human-readable lines, one per fact, for the CLI. */
export function formatExplanation(e: Explanation): string {
  const lines = [`${e.method} ${e.path} as ${e.identity ?? '(no identity)'}`]
  lines.push(e.verb === undefined ? `  ${e.method} maps to no verb: it is denied on every path` : `  ${e.method} is verb "${e.verb}"`)
  for (const { rule, why } of e.passed) {
    const reason = why === 'path' ? 'path does not match' : `its methods filter leaves out ${e.method}`
    lines.push(`  passed over ${describeRule(rule, e.file)}: ${reason}`)
  }
  lines.push(verdict(e))
  const d = e.decision
  if (!d.allow && d.rule?.mode === 'report') lines.push(`  ${d.rule.id} is in report mode: the gateway forwards this request anyway (without identity headers) and logs it as would_deny (${d.reason})`)
  return lines.join('\n')
}

function verdict(e: Explanation): string {
  const d = e.decision
  if (d.rule === undefined) return 'DENY (no_rule): no rule matches this request, so it is denied'
  const by = describeRule(d.rule, e.file)
  if (d.allow) {
    if (d.rule.public) return `ALLOW by ${by}: public, no authentication needed`
    const also = d.rule.require.length > 0 ? `; the credential must also be: ${d.rule.require.join(' or ')}` : ''
    const via = e.pattern?.group === undefined ? '' : ` (in group:${e.pattern.group})`
    return `ALLOW by ${by}: "${d.verb}" is granted to ${e.identity} by pattern "${e.pattern?.source}"${via}${also}${certificateTerms(d.rule)}`
  }
  const head = `DENY (${d.reason}) by ${by}`
  switch (d.reason) {
    case 'method_not_granted': {
      if (d.verb === undefined) return `${head}: ${e.method} maps to no verb`
      const granted = [...d.rule.grants.keys()]
      return `${head}: the rule does not grant "${d.verb}" (it grants ${granted.length ? granted.join(', ') : 'nothing'})`
    }
    case 'identity_not_listed': {
      return `${head}: ${e.identity} is not among "${d.verb}": ${grantSources(d.rule.grants.get(d.verb!) ?? []).join(', ')}`
    }
    case 'scope_missing':
      return `${head}: the rule requires scopes ${d.rule.scopes.join(', ')}, which only token schemes carry (checked against the token when one is presented)`
    case 'unauthenticated':
      return `${head}: "${d.verb}" needs an authenticated identity and none was given`
    case 'no_rule':
      return head // unreachable: no_rule never carries a rule
  }
}

/** The rule's client-certificate fields (docs/tls.md), as conditions on the ALLOW. */
function certificateTerms(rule: Rule): string {
  let out = ''
  if (rule.clientCertificate === 'required') out += '; the connection must also present a client certificate that chains to the CA (clientCertificate: required)'
  if (rule.forwardClientCert) out += '; the client certificate is forwarded upstream as Client-Cert, RFC 9440 (forwardClientCert: true)'
  return out
}

/** The patterns as the rule wrote them: a group once, with what it stands for. */
function grantSources(patterns: readonly DomainPattern[]): string[] {
  const entries: { group: string | undefined; sources: string[] }[] = []
  for (const p of patterns) {
    const same = p.group === undefined ? undefined : entries.find((e) => e.group === p.group)
    if (same) same.sources.push(p.source)
    else entries.push({ group: p.group, sources: [p.source] })
  }
  return entries.map((e) => (e.group === undefined ? e.sources[0]! : `group:${e.group} (${e.sources.join(', ')})`))
}

function describeRule(rule: Rule, file: string): string {
  const methods = rule.methods ? ` methods ${[...rule.methods].join(',')}` : ''
  return `rules[${rule.index}] (${rule.id}) ${rule.path}${methods} at ${file}:${rule.pos.line}:${rule.pos.col}`
}
