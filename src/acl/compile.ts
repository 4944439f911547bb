// Builds the frozen `Acl` from already-validated values (parse.ts does the
// validating, with positions) and answers "which rule decides this request".
// Code that builds ACLs directly (tests, benchmarks) comes through here too;
// it throws TypeError on what parse.ts would have reported, since that is a
// programming error there, not an operator's mistake.

import type { Pos } from '../config/yaml-source.js'
import type { DomainPattern, Identity } from '../identity/domain.js'
import type { IdentityPolicy } from './identities.js'
import { pathPatternProblem } from './path-pattern.js'
import { RuleTrie } from './trie.js'
import { DEFAULT_VERBS, type Acl, type GroupInfo, type HttpSignatureDemand, type Rule, type RuleMode } from './types.js'

export interface RuleSpec {
  readonly id?: string
  readonly path: string
  readonly methods?: Iterable<string>
  readonly public?: boolean
  readonly grants?: ReadonlyMap<string, readonly DomainPattern[]>
  readonly channelBinding?: 'required' | 'optional'
  readonly sessions?: boolean
  readonly clientCertificate?: 'required' | 'optional'
  readonly forwardClientCert?: boolean
  readonly scopes?: readonly string[]
  readonly require?: readonly string[]
  /** Default: the ACL's `mode`. */
  readonly mode?: RuleMode
  readonly bodyOnGet?: boolean
  readonly forwardToken?: boolean
  readonly httpSignature?: HttpSignatureDemand
  /** `cors.origins` for this rule, normalized origins (replaces the global list). */
  readonly cors?: readonly string[]
  readonly pos?: Pos
}

export interface AclSpec {
  readonly file: string
  /** verb → methods; DEFAULT_VERBS when absent. */
  readonly verbs?: ReadonlyMap<string, readonly string[]>
  readonly rules: readonly RuleSpec[]
  /** What rules without their own `mode` get; default `enforce`. */
  readonly mode?: RuleMode
  /** What a request no rule matches gets; default `enforce` (refused). */
  readonly unmatched?: RuleMode
  /** identity → not-before (ms) for its tickets and cookies. */
  readonly revoke?: ReadonlyMap<string, number>
  /** `groups:` as parse.ts resolved them (rules' grants already hold the expanded patterns). */
  readonly groups?: ReadonlyMap<string, GroupInfo>
  /** `identities:`: per-identity key-trust settings. */
  readonly identities?: ReadonlyMap<Identity, IdentityPolicy>
}

export const defaultRuleId = (index: number): string => `rule-${index + 1}`

export function compileAcl(spec: AclSpec): Acl {
  const verbs = spec.verbs ?? DEFAULT_VERBS
  const verbOf = new Map<string, string>()
  for (const [verb, methods] of verbs) {
    for (const m of methods) {
      if (verbOf.has(m)) throw new TypeError(`method ${m} belongs to both ${verbOf.get(m)} and ${verb}`)
      verbOf.set(m, verb)
    }
  }
  const rules = spec.rules.map((r, index): Rule => {
    const why = pathPatternProblem(r.path)
    if (why) throw new TypeError(`rules[${index}].path ${JSON.stringify(r.path)} ${why}`)
    const grants = r.grants ?? new Map<string, readonly DomainPattern[]>()
    for (const verb of grants.keys()) if (!verbs.has(verb)) throw new TypeError(`rules[${index}] grants undeclared verb ${verb}`)
    if (r.public && grants.size > 0) throw new TypeError(`rules[${index}] is public and grants verbs`)
    if (r.public && r.mode === 'report') throw new TypeError(`rules[${index}] is public and in report mode`)
    return Object.freeze({
      index,
      id: r.id ?? defaultRuleId(index),
      path: r.path,
      methods: r.methods === undefined ? undefined : new Set(r.methods),
      public: r.public ?? false,
      grants,
      channelBinding: r.channelBinding ?? 'optional',
      sessions: r.sessions ?? true,
      clientCertificate: r.clientCertificate ?? 'optional',
      forwardClientCert: r.forwardClientCert ?? false,
      scopes: Object.freeze([...(r.scopes ?? [])]),
      require: Object.freeze([...(r.require ?? [])]),
      // A public rule refuses only methods no verb names, which stay refused everywhere.
      mode: r.public ? 'enforce' : r.mode ?? spec.mode ?? 'enforce',
      bodyOnGet: r.bodyOnGet ?? false,
      forwardToken: r.forwardToken ?? false,
      httpSignature: r.httpSignature === undefined ? undefined : Object.freeze({ components: Object.freeze([...r.httpSignature.components]), nonce: r.httpSignature.nonce }),
      cors: r.cors === undefined ? undefined : new Set(r.cors),
      pos: r.pos ?? { line: 0, col: 0 },
    })
  })
  Object.freeze(rules)
  return Object.freeze({
    file: spec.file,
    rules,
    mode: spec.mode ?? 'enforce',
    unmatched: spec.unmatched ?? 'enforce',
    verbs,
    verbOf,
    matcher: new RuleTrie(rules),
    revoke: spec.revoke ?? new Map<string, number>(),
    groups: spec.groups ?? new Map<string, GroupInfo>(),
    identities: spec.identities ?? new Map<Identity, IdentityPolicy>(),
  })
}

/** The rule that decides a request: the first, in file order, whose path pattern and `methods` filter match. */
export function matchRule(acl: Acl, method: string, path: string): Rule | undefined {
  return acl.matcher.match(method, path)
}
