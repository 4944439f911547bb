// `popgate acl test`: the cases file (docs/acl.md, "ACL tests") and how a case
// is checked. Read with the same reader toolkit as the ACL, so every mistake
// is reported at once as file:line:col; then each case is judged by the
// function reloads and `acl diff` use (acl/outcome.ts).
//
//   version: 1
//   cases:
//     - name: a partner reads the reports
//       identity: eu.partner.example     # leave out for an anonymous request
//       method: GET
//       path: /reports/q3
//       expect: allow                    # allow | deny | public | would_deny
//       rule: reports                    # optional: the deciding rule's id
//       reason: identity_not_listed      # optional, for deny and would_deny

import { readFile } from 'node:fs/promises'
import { dirname } from 'node:path'
import { INVALID, Section, describe, identity, oneOf, scalar, str, type Check, type Context, type Reader } from '../config/readers.js'
import { joinPath, Problems, readYaml, type Pos, type Problem } from '../config/yaml-source.js'
import { parseTarget } from '../http/target.js'
import type { Identity } from '../identity/domain.js'
import { judge, OUTCOMES, type Judgement, type Outcome } from './outcome.js'
import type { Acl, DenyReason } from './types.js'

export interface AclCase {
  readonly name: string
  readonly identity: Identity | undefined
  readonly method: string
  /** Normalized as the gateway normalizes a request target. */
  readonly path: string
  readonly expect: Outcome
  readonly rule: string | undefined
  readonly reason: DenyReason | undefined
  readonly pos: Pos
}

export interface CaseResult { readonly case: AclCase; readonly got: Judgement; readonly pass: boolean }

const CASE_KEYS = ['name', 'identity', 'method', 'path', 'expect', 'rule', 'reason'] as const
const REASONS: readonly DenyReason[] = ['no_rule', 'method_not_granted', 'identity_not_listed', 'scope_missing', 'unauthenticated']

export async function loadCasesFile(file: string): Promise<{ cases: AclCase[] | undefined; problems: readonly Problem[] }> {
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch (err) {
    const problems = new Problems(file)
    problems.at({ line: 1, col: 1 }, '', `cannot read the cases file (${(err as NodeJS.ErrnoException).code ?? 'error'})`)
    return { cases: undefined, problems: problems.list }
  }
  return parseCases(text, file)
}

export function parseCases(text: string, file: string): { cases: AclCase[] | undefined; problems: readonly Problem[] } {
  const { root, problems } = readYaml(text, file)
  if (!problems.ok) return { cases: undefined, problems: problems.list }
  if (root === undefined) {
    problems.at({ line: 1, col: 1 }, '', 'is empty: a cases file needs "version: 1" and "cases"')
    return { cases: undefined, problems: problems.list }
  }
  const ctx: Context = { file: { problems, baseDir: dirname(file) }, overrides: new Map() }
  const top = new Section(ctx, root, '', ['version', 'cases'])
  top.required('version', scalar((v) => (v === 1 ? { value: 1 } : `must be 1; got ${describe(v)}`)), 1)
  const cases = top.required('cases', readCases(ctx), [])
  return problems.ok ? { cases, problems: [] } : { cases: undefined, problems: problems.list }
}

function readCases(ctx: Context): Reader<AclCase[]> {
  return (node, path, source) => {
    if (node.kind !== 'seq' || node.items.length === 0) {
      source.problems.at(node.pos, path, 'must be a non-empty list of cases')
      return INVALID
    }
    const names = new Map<string, number>()
    return node.items.map((item, i) => {
      const s = new Section(ctx, item, joinPath(path, i), CASE_KEYS, item.pos)
      const name = s.required('name', scalar(str), `case ${i + 1}`)
      const first = names.get(name)
      if (first !== undefined) s.report('name', `duplicate name: cases[${first}] has it already`)
      else names.set(name, i)
      return {
        name,
        identity: s.get('identity', scalar(identity), undefined) as Identity | undefined,
        method: s.required('method', scalar(method), 'GET'),
        path: s.required('path', scalar(requestPath), '/'),
        expect: s.required('expect', scalar(oneOf(OUTCOMES)), 'deny'),
        rule: s.get('rule', scalar(str), undefined),
        reason: s.get('reason', scalar(oneOf(REASONS)), undefined),
        pos: item.pos,
      }
    })
  }
}

const method: Check<string> = (v) =>
  typeof v === 'string' && /^[A-Z][A-Z0-9_-]*$/.test(v) ? { value: v } : `must be an uppercase HTTP method like GET; got ${describe(v)}`

/** A path as a client would send it; the case is judged on the path the gateway would match. */
const requestPath: Check<string> = (v) => {
  if (typeof v !== 'string' || !v.startsWith('/')) return `must be a path starting with "/"; got ${describe(v)}`
  try {
    return { value: parseTarget(v).path }
  } catch (err) {
    return `is rejected before the ACL is consulted (400 path_rejected): ${(err as Error).message}`
  }
}

/** `deny` also passes for `would_deny` (the ACL denies; the rule is in report mode); `would_deny` asks for report mode. */
export function runCase(acl: Acl, c: AclCase): CaseResult {
  const got = judge(acl, c.identity, c.method, c.path)
  const outcome = got.outcome === c.expect || (c.expect === 'deny' && got.outcome === 'would_deny')
  const pass = outcome && (c.rule === undefined || c.rule === got.rule?.id) && (c.reason === undefined || c.reason === got.reason)
  return { case: c, got, pass }
}
