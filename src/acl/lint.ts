// `popgate acl lint`: rules that are legal but cannot do what they look like
// they do. Findings are advice, not problems: the ACL still loads.
//
// Shadowing is judged per rule against the earlier rules whose path pattern
// covers this rule's whole pattern (trie.ts `covering`); their methods filters
// together must accept every method this rule accepts. A rule hidden only by
// the union of several narrower path patterns is not detected.

import { joinPath } from '../config/yaml-source.js'
import { matchesDomain } from '../identity/domain.js'
import { splitPath } from './path-pattern.js'
import type { Acl, LintFinding, LintKind, Rule } from './types.js'

/**
 * `known`: scheme names and assurances a `require` may name (the CLI's:
 * every built-in scheme's and every assurance); undefined: not checked.
 */
export function lint(acl: Acl, known?: ReadonlySet<string>): LintFinding[] {
  const findings: LintFinding[] = []
  const add = (rule: Rule, kind: LintKind, message: string): void => {
    findings.push({ ruleId: rule.id, index: rule.index, pos: rule.pos, kind, message })
  }
  const firstWithId = new Map<string, Rule>()
  for (const rule of acl.rules) {
    const first = firstWithId.get(rule.id)
    if (first) add(rule, 'duplicate_id', `id "${rule.id}" is also the id of ${ref(first)}`)
    else firstWithId.set(rule.id, rule)

    const shadows = shadowingRules(acl, rule)
    if (shadows) add(rule, 'shadowed', `never decides: ${shadows.map(ref).join(' and ')} ${shadows.length > 1 ? 'match' : 'matches'} every request it could match`)

    if (rule.mode === 'report') add(rule, 'report_mode', REPORT_MODE_NOTE)
    if (rule.channelBinding === 'required' && !rule.public) add(rule, 'channel_binding', CHANNEL_BINDING_NOTE)

    const certificate = clientCertificateUse(rule)
    if (certificate) add(rule, 'client_certificate', `${certificate}: ${CLIENT_CERTIFICATE_NOTE}`)

    const unsatisfiable = unsatisfiableRequire(rule, known)
    if (unsatisfiable) add(rule, 'unsatisfiable_require', unsatisfiable)

    const never = neverAllows(acl, rule)
    if (never) add(rule, 'unreachable', never)
    else for (const m of rule.methods ?? []) {
      if (!acl.verbOf.has(m)) add(rule, 'unmapped_method', `method ${m} maps to no verb: requests with it are always denied`)
    }
  }
  for (const [name, group] of acl.groups) {
    if (!group.used) findings.push({ where: joinPath('groups', name), ruleId: '', index: -1, pos: group.pos, kind: 'unused_group', message: `no rule or group names group:${name}` })
  }
  for (const [identity, policy] of acl.identities) {
    const named = acl.rules.some((r) => [...r.grants.values()].some((ps) => ps.some((p) => matchesDomain(p, identity))))
    if (!named) findings.push({ where: joinPath('identities', identity), ruleId: '', index: -1, pos: policy.pos, kind: 'unnamed_identity', message: `no rule lets ${identity} in anywhere: its settings never apply` })
  }
  return findings
}

export const REPORT_MODE_NOTE = 'report mode: requests it would refuse are forwarded (logged as would_deny, counted in popgate_shadow_denials_total); set mode: enforce once the log is clean'

/** PROTOCOL.md §5: an RFC 9266 exporter exists only on a TLS 1.3 connection the gateway terminates itself. */
export const CHANNEL_BINDING_NOTE = 'channelBinding: required is met only on the gateway\'s own TLS 1.3 listener (tls.listen): without one, or behind a TLS-terminating proxy, every request here gets 401 channel_binding_unavailable'

/** What `check` and `serve` say for such a rule when the config has no TLS listener. */
export const CHANNEL_BINDING_UNMET = 'channelBinding: required can never be met: this config has no TLS listener (tls.listen), so every request here gets 401 channel_binding_unavailable'

/** RFC 8705 §2 / RFC 9440 §2: a client certificate reaches the gateway only from its own TLS listener or a trusted hop's Client-Cert header. */
export const CLIENT_CERTIFICATE_NOTE = 'met only when the gateway has a certificate source: tls.clientCertificates request or require, or forwardedClientCert (Client-Cert from a trusted hop)'

/** What `check` and `serve` say for such a rule when the config has no certificate source. */
export const CLIENT_CERTIFICATE_UNMET = 'this config has no certificate source (tls.clientCertificates is none or there is no tls listener, and no forwardedClientCert)'

/** Schemes and assurances only a client certificate gives (`mtls`, RFC 8705 §3 `certificate-bound`). */
const CERTIFICATE_ONLY: ReadonlySet<string> = new Set(['mtls', 'certificate-bound'])

/**
 * Whether the rule can never allow anyone without a client certificate:
 * `clientCertificate: required`, or a `require` whose every entry (they are
 * alternatives) needs one. A public rule authenticates no one: nothing to need.
 */
export function needsClientCertificate(rule: Rule): string | undefined {
  if (rule.public) return undefined
  if (rule.clientCertificate === 'required') return 'clientCertificate: required'
  if (rule.require.length > 0 && rule.require.every((r) => CERTIFICATE_ONLY.has(r))) return `require: [${rule.require.join(', ')}]`
  return undefined
}

/** What the rule says about client certificates, for lint's note; undefined when nothing. */
export function clientCertificateUse(rule: Rule): string | undefined {
  const needs = needsClientCertificate(rule)
  const forwards = !rule.public && rule.forwardClientCert ? 'forwardClientCert: true' : undefined
  const both = [needs, forwards].filter((x) => x !== undefined)
  return both.length > 0 ? both.join(', ') : undefined
}

/** Findings that are notes, not mistakes: printed, but they do not fail `acl lint`. */
export const isNote = (f: LintFinding): boolean => f.kind === 'report_mode' || f.kind === 'channel_binding' || f.kind === 'client_certificate'

/** `file:line:col: rules[i] (id): message`, like a parse problem. */
export function formatFinding(f: LintFinding, file: string): string {
  if (f.where !== undefined) return `${file}:${f.pos.line}:${f.pos.col}: ${f.where}: ${f.message}`
  return `${file}:${f.pos.line}:${f.pos.col}: rules[${f.index}] (${f.ruleId}): ${f.message}`
}

/** The earlier rules that together take every request `rule` could match, or undefined. */
function shadowingRules(acl: Acl, rule: Rule): Rule[] | undefined {
  const earlier = acl.matcher.covering(splitPath(rule.path)).filter((r) => r.index < rule.index).sort((a, b) => a.index - b.index)
  const unfiltered = earlier.find((r) => r.methods === undefined)
  if (unfiltered) return [unfiltered]
  if (rule.methods === undefined) return undefined // no finite set of filters takes every method
  const used: Rule[] = []
  for (const m of rule.methods) {
    const taker = earlier.find((r) => r.methods!.has(m))
    if (!taker) return undefined
    if (!used.includes(taker)) used.push(taker)
  }
  return used.sort((a, b) => a.index - b.index)
}

/** Why `rule`, once it decides, can never allow a request; undefined when it can. */
function neverAllows(acl: Acl, rule: Rule): string | undefined {
  if (!rule.public && rule.grants.size === 0) return 'grants no verb: every request it matches is denied'
  if (rule.methods === undefined) return undefined
  const allowed = [...rule.methods].filter((m) => {
    const verb = acl.verbOf.get(m)
    return verb !== undefined && (rule.public || rule.grants.has(verb))
  })
  if (allowed.length > 0) return undefined
  const what = rule.public ? 'maps to any verb' : `maps to a verb it grants (${[...rule.grants.keys()].join(', ')})`
  return `none of its methods (${[...rule.methods].join(', ')}) ${what}: every request it matches is denied`
}

/** Why the rule's `require` can never be met, or undefined. */
function unsatisfiableRequire(rule: Rule, known: ReadonlySet<string> | undefined): string | undefined {
  if (rule.require.length === 0) return undefined
  const unknown = known === undefined ? [] : rule.require.filter((r) => !known.has(r))
  if (unknown.length > 0) return `require names ${unknown.join(', ')}: no scheme or assurance is called that`
  if (!rule.sessions && rule.require.every((r) => r === 'session')) return 'require: [session] with sessions: false: every request it matches is refused'
  return undefined
}

const ref = (r: Rule): string => `rules[${r.index}] (${r.id}) at line ${r.pos.line}`
