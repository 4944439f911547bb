// `popgate acl explain | lint | test | diff`: the ACL without a gateway.
// Each loads its ACL file(s) the way the gateway does; problems print as
// file:line:col and exit 78.

import { requirableNames } from '../schemes/index.js'
import { parseArgs } from 'node:util'
import { resolve } from 'node:path'
import { loadAclFile, explain, formatExplanation, lint, formatFinding, isNote, type Acl } from '../acl/index.js'
import { loadCasesFile } from '../acl/cases.js'
import { identityProblem, type Identity } from '../identity/domain.js'
import { formatProblem, type Problem } from '../config/yaml-source.js'
import { CONFIG_EXIT_CODE } from '../config/load.js'
import { parseTarget } from '../http/target.js'
import { UsageError } from './usage.js'
import { runCases } from './acl-test.js'
import { runDiff } from './acl-diff.js'

const OPTIONS = { acl: { type: 'string' }, as: { type: 'string' }, format: { type: 'string' }, sample: { type: 'string' } } as const

export async function runAcl(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv
  const { values, positionals } = parseArgs({ args: rest, allowPositionals: true, options: OPTIONS })
  if (sub === 'diff') {
    const [before, after] = positionals
    if (!before || !after || positionals.length > 2) throw new UsageError('acl diff needs OLD_ACL NEW_ACL')
    const [a, b] = [await load(before), await load(after)]
    if (typeof a === 'number' || typeof b === 'number') return CONFIG_EXIT_CODE
    return print(await runDiff(a, b, values.sample === undefined ? undefined : resolve(values.sample)))
  }
  if (!values.acl) throw new UsageError('acl needs --acl FILE')
  const acl = await load(values.acl)
  if (typeof acl === 'number') return acl
  if (sub === 'lint') {
    const findings = lint(acl, requirableNames())
    for (const f of findings) process.stdout.write(formatFinding(f, acl.file) + '\n')
    if (findings.length === 0) process.stdout.write(`${acl.file}: no findings\n`)
    return findings.every(isNote) ? 0 : 1
  }
  if (sub === 'explain') return explainOne(acl, positionals, values.as)
  if (sub === 'test') {
    if (positionals.length !== 1) throw new UsageError('acl test needs one CASES file')
    const format = values.format ?? 'table'
    if (format !== 'table' && format !== 'tap') throw new UsageError(`--format ${format}: must be table or tap`)
    const loaded = await loadCasesFile(resolve(positionals[0]!))
    if (!loaded.cases) return problems(loaded.problems)
    return print(runCases(acl, loaded.cases, resolve(positionals[0]!), format))
  }
  throw new UsageError('acl needs a subcommand: explain, lint, test or diff')
}

async function load(file: string): Promise<Acl | number> {
  const loaded = await loadAclFile(resolve(file))
  return loaded.acl ?? problems(loaded.problems)
}

function problems(list: readonly Problem[]): number {
  for (const p of list) process.stderr.write(formatProblem(p) + '\n')
  return CONFIG_EXIT_CODE
}

function print(r: { code: number; out: string }): number {
  process.stdout.write(r.out)
  return r.code
}

function explainOne(acl: Acl, positionals: readonly string[], as: string | undefined): number {
  const [method, path] = positionals
  if (!method || !path) throw new UsageError('acl explain needs METHOD PATH')
  if (as !== undefined) {
    const why = identityProblem(as)
    if (why) throw new UsageError(`--as ${as}: ${why}`)
  }
  // Match exactly what the gateway would: the normalized path (http/target.ts).
  let normalized: string
  try { normalized = parseTarget(path).path } catch (err) {
    process.stdout.write(`${path}: rejected before the ACL (400 path_rejected): ${(err as Error).message}\n`)
    return 1
  }
  const e = explain(acl, as as Identity | undefined, method.toUpperCase(), normalized)
  process.stdout.write(formatExplanation(e) + '\n')
  return e.decision.allow ? 0 : 1
}
