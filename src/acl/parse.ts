// acl.yaml → Acl. The only code that reads ACL YAML. Every problem in the file
// is reported in one run, each with file:line:col and its key path
// (`acl.yaml:7:11: rules[1].read[0]: must be lowercase`); an ACL with any
// problem is not built at all. The format is described in docs/acl.md.

import { dirname } from 'node:path'
import { INVALID, Section, bool, describe, listOf, oneOf, scalar, type Check, type Context, type Reader, type Source } from '../config/toolkit.js'
import { joinPath, readYaml, type Problem, type YNode } from '../config/yaml-source.js'
import type { DomainPattern, Identity } from '../identity/domain.js'
import { compileAcl, defaultRuleId, type RuleSpec } from './compile.js'
import { expandRefs, readGroups, readPatternRef, referencedGroups, resolveGroups, type GroupEntry, type PatternRef } from './groups.js'
import { readIdentities, type IdentityPolicy } from './identities.js'
import { pathPatternProblem } from './path-pattern.js'
import { origin } from '../config/values.js'
import { readRevoke } from './revoke.js'
import { DEFAULT_VERBS, RULE_FIELDS, type Acl, type HttpSignatureDemand } from './types.js'

/** RFC 9421 §2.1/§2.2 component names a route may demand: a derived component or a lowercase field name. */
const componentName: Check<string> = (v) =>
  typeof v === 'string' && (/^@(method|target-uri|authority|scheme|request-target|path|query)$/.test(v) || /^[a-z0-9!#$%&'*+.^_`|~-]{1,64}$/.test(v))
    ? { value: v }
    : 'must be a derived component (@method, @target-uri, @authority, @scheme, @request-target, @path, @query) or a lowercase header field name'

/** A rule's `httpSignature: { components: [...], nonce: required|optional }` (schemes/http-signature/). */
const httpSignatureDemand: Reader<HttpSignatureDemand> = (node, path, source) => {
  const s = new Section({ file: source, overrides: new Map() }, node, path, ['components', 'nonce'])
  return {
    components: s.get('components', listOf(scalar(componentName), { unique: true }), []),
    nonce: s.get('nonce', scalar(oneOf(['required', 'optional'] as const)), 'optional'),
  }
}

/** A rule's `cors: { origins: [...] }` (http/cors.ts): origins as `cors.origins` takes them. */
const ruleCors: Reader<readonly string[]> = (node, path, source) => {
  const s = new Section({ file: source, overrides: new Map() }, node, path, ['origins'])
  return s.required('origins', listOf(scalar(origin), { unique: true }), [])
}

/** A `require` entry: a scheme's name or an assurance (lowercase word; which ones exist is checked when the state is built). */
const requirement: Check<string> = (v) =>
  typeof v === 'string' && /^[a-z][a-z0-9-]{0,31}$/.test(v) ? { value: v } : 'must be a scheme name or an assurance (channel-bound, certificate-bound, session, body-signed): a lowercase word'

export interface AclResult { readonly acl: Acl | undefined; readonly problems: readonly Problem[] }

const TOP_KEYS = ['version', 'mode', 'unmatched', 'verbs', 'groups', 'identities', 'rules', 'revoke'] as const
const MODES = ['enforce', 'report'] as const
/** Rule fields that only mean something once a caller has authenticated. */
const AUTH_ONLY_FIELDS = ['channelBinding', 'sessions', 'scopes', 'mode', 'require', 'httpSignature', 'clientCertificate', 'forwardClientCert'] as const

export function parseAcl(text: string, file: string): AclResult {
  const { root, problems } = readYaml(text, file)
  if (!problems.ok) return { acl: undefined, problems: problems.list }
  if (root === undefined) {
    problems.at({ line: 1, col: 1 }, '', 'is empty: an ACL needs at least "version: 1" and "rules"')
    return { acl: undefined, problems: problems.list }
  }
  const ctx: Context = { file: { problems, baseDir: dirname(file) }, overrides: new Map() }
  const top = new Section(ctx, root, '', TOP_KEYS)
  top.required('version', scalar(version), 1)
  const mode = top.get('mode', scalar(oneOf(MODES)), 'enforce')
  const unmatched = top.get('unmatched', scalar(oneOf(MODES)), 'enforce')
  const verbs = top.get('verbs', readVerbs, DEFAULT_VERBS)
  const groupEntries = top.get('groups', readGroups, new Map<string, GroupEntry>())
  const identities = top.get('identities', readIdentities(ctx), new Map<Identity, IdentityPolicy>())
  const read = top.required('rules', readRules(verbs), [])
  const revoke = top.get('revoke', readRevoke, new Map<string, number>())
  // Groups are followed once both are read, so a rule may name a group defined below it.
  const groups = resolveGroups(groupEntries, ctx.file)
  const rules = read.map(({ spec, refs }): RuleSpec => ({
    ...spec,
    grants: new Map([...refs].map(([verb, list]) => [verb, expandRefs(list, groups, groupEntries, ctx.file)])),
  }))
  if (!problems.ok) return { acl: undefined, problems: problems.list }
  const used = referencedGroups([...read.flatMap((r) => [...r.refs.values()]), ...[...groupEntries.values()].map((g) => g.refs)])
  const groupInfo = new Map([...groupEntries].map(([name, g]) => [name, { patterns: groups.get(name)!, pos: g.pos, used: used.has(name) }]))
  return { acl: compileAcl({ file, verbs, rules, mode, unmatched, revoke, groups: groupInfo, identities }), problems: [] }
}

// ---------------------------------------------------------------- verbs

const readVerbs: Reader<ReadonlyMap<string, readonly string[]>> = (node, path, source) => {
  if (node.kind !== 'map') return fail(source, node, path, `must be a map of verb → methods; got ${kindOf(node)}`)
  if (node.entries.length === 0) return fail(source, node, path, 'must declare at least one verb (or leave "verbs" out for read and write)')
  const verbs = new Map<string, readonly string[]>()
  const owner = new Map<string, string>()
  let bad = false
  for (const entry of node.entries) {
    const verbPath = joinPath(path, entry.key)
    const why = verbNameProblem(entry.key)
    if (why) {
      source.problems.at(entry.keyPos, verbPath, why)
      bad = true
    }
    const methods = listOf(scalar(method), { nonEmpty: true, unique: true })(entry.value, verbPath, source)
    if (methods === INVALID || entry.value.kind !== 'seq') {
      bad = true
      continue
    }
    const items = entry.value.items
    methods.forEach((m, i) => {
      const first = owner.get(m)
      if (first === undefined) return void owner.set(m, entry.key)
      // One verb per method keeps `authorize` a single lookup and the ACL unambiguous.
      source.problems.at(items[i]!.pos, joinPath(verbPath, i), `${m} already belongs to verb "${first}"; a method maps to one verb only`)
      bad = true
    })
    verbs.set(entry.key, methods)
  }
  return bad ? INVALID : verbs
}

function verbNameProblem(name: string): string | undefined {
  if ((RULE_FIELDS as readonly string[]).includes(name)) return `"${name}" is a rule field and cannot name a verb`
  if (!/^[a-z][a-z0-9_-]{0,31}$/.test(name)) return 'a verb name must be 1-32 lowercase letters, digits, "_" or "-", starting with a letter'
  return undefined
}

// ---------------------------------------------------------------- rules

/** A rule as read, its grants still naming groups. */
interface RuleRead { readonly spec: RuleSpec; readonly refs: ReadonlyMap<string, readonly PatternRef[]> }

function readRules(verbs: ReadonlyMap<string, readonly string[]>): Reader<RuleRead[]> {
  return (node, path, source) => {
    if (node.kind !== 'seq') return fail(source, node, path, `must be a list of rules; got ${kindOf(node)}`)
    const ctx: Context = { file: source, overrides: new Map() }
    const read = node.items.map((item, i) => readRule(ctx, item, joinPath(path, i), i, verbs))
    reportDuplicateIds(read)
    return read.map((r) => ({ spec: r.spec, refs: r.refs }))
  }
}

interface ReadRule { readonly spec: RuleSpec; readonly refs: ReadonlyMap<string, readonly PatternRef[]>; readonly section: Section; readonly explicitId: boolean }

function readRule(ctx: Context, node: YNode, path: string, index: number, verbs: ReadonlyMap<string, readonly string[]>): ReadRule {
  const s = new Section(ctx, node, path, [...RULE_FIELDS, ...verbs.keys()], node.pos)
  const id = s.get('id', scalar(ruleId), undefined)
  const pattern = s.required('path', scalar(pathPattern), '/')
  const methods = s.get('methods', listOf(scalar(method), { nonEmpty: true, unique: true }), undefined)
  const isPublic = s.get('public', scalar(bool), false)
  const refs = new Map<string, readonly PatternRef[]>()
  for (const verb of verbs.keys()) {
    if (!s.has(verb)) continue
    if (isPublic) s.report(verb, 'a public rule lets everyone in without authentication; it cannot also grant verbs')
    // An empty list is more likely a mistake than a wish to grant nothing: leave the key out for that.
    const patterns = s.get(verb, listOf(readPatternRef, { nonEmpty: true }), undefined)
    if (patterns !== undefined) refs.set(verb, patterns)
  }
  if (isPublic) {
    for (const key of AUTH_ONLY_FIELDS) if (s.has(key)) s.report(key, 'means nothing on a public rule: nobody authenticates there')
  }
  const spec: RuleSpec = {
    id: id ?? defaultRuleId(index),
    path: pattern,
    methods,
    public: isPublic,
    grants: new Map<string, readonly DomainPattern[]>(),
    channelBinding: s.get('channelBinding', scalar(oneOf(['required', 'optional'] as const)), 'optional'),
    sessions: s.get('sessions', scalar(bool), true),
    clientCertificate: s.get('clientCertificate', scalar(oneOf(['required', 'optional'] as const)), 'optional'),
    forwardClientCert: s.get('forwardClientCert', scalar(bool), false),
    scopes: s.get('scopes', listOf(scalar(scope), { unique: true }), []),
    require: s.get('require', listOf(scalar(requirement), { nonEmpty: true, unique: true }), []),
    mode: s.get('mode', scalar(oneOf(MODES)), undefined),
    bodyOnGet: s.get('bodyOnGet', scalar(bool), false),
    forwardToken: s.get('forwardToken', scalar(bool), false),
    httpSignature: s.get('httpSignature', httpSignatureDemand, undefined),
    cors: s.get('cors', ruleCors, undefined),
    pos: node.pos,
  }
  return { spec, refs, section: s, explicitId: id !== undefined }
}

/** Ids name rules in logs and assertions: one id, one rule, default ids included. */
function reportDuplicateIds(rules: readonly ReadRule[]): void {
  const seen = new Map<string, number>()
  rules.forEach((r, i) => {
    const id = r.spec.id!
    const first = seen.get(id)
    if (first === undefined) return void seen.set(id, i)
    const where = `rules[${first}]${rules[first]!.explicitId ? '' : ' (its default id)'}`
    // Without an `id` key the problem points at the rule itself.
    r.section.report('id', r.explicitId
      ? `duplicate id "${id}": ${where} has it already`
      : `its default id "${id}" is already taken by ${where}; give one of them another id`)
  })
}

// ---------------------------------------------------------------- scalar checks

const version: Check<1> = (v) => (v === 1 ? { value: 1 } : `must be 1, the only ACL format version; got ${describe(v)}`)

const ruleId: Check<string> = (v) => {
  if (typeof v !== 'string') return `must be a string; got ${describe(v)}`
  if (!/^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$/.test(v)) return 'must be 1-64 letters, digits, ".", "_", ":" or "-", starting with a letter or digit'
  return { value: v }
}

const pathPattern: Check<string> = (v) => {
  if (typeof v !== 'string') return `must be a string; got ${describe(v)}`
  return pathPatternProblem(v) ?? { value: v }
}

/** RFC 9110 §9.1: methods are case-sensitive tokens; by convention (and here, by rule) uppercase. */
const method: Check<string> = (v) => {
  if (typeof v !== 'string') return `must be a method name; got ${describe(v)}`
  if (/^[A-Z][A-Z0-9_-]*$/.test(v)) return { value: v }
  if (/^[A-Za-z][A-Za-z0-9_-]*$/.test(v)) return `must be uppercase (methods are case-sensitive): ${v.toUpperCase()}`
  return `must be an HTTP method name like GET; got ${describe(v)}`
}

/** RFC 6749 §3.3 scope-token. */
const scope: Check<string> = (v) => {
  if (typeof v !== 'string' || !/^[\x21\x23-\x5b\x5d-\x7e]+$/.test(v)) return `must be an OAuth scope token (RFC 6749 §3.3); got ${describe(v)}`
  return { value: v }
}

// ---------------------------------------------------------------- helpers

function fail(source: Source, node: YNode, path: string, message: string): typeof INVALID {
  source.problems.at(node.pos, path, message)
  return INVALID
}

const kindOf = (node: YNode): string => (node.kind === 'map' ? 'a map' : node.kind === 'seq' ? 'a list' : describe(node.value))
