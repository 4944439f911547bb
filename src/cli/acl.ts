import { parseArgs } from 'node:util'
import { resolve } from 'node:path'
import { loadAclFile, explain, formatExplanation, lint, formatFinding } from '../acl/index.js'
import { identityProblem, type Identity } from '../identity/domain.js'
import { formatProblem } from '../config/yaml-source.js'
import { CONFIG_EXIT_CODE } from '../config/load.js'
import { parseTarget } from '../http/target.js'
import { UsageError } from './usage.js'

export async function runAcl(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv
  const { values, positionals } = parseArgs({ args: rest, allowPositionals: true, options: { acl: { type: 'string' }, as: { type: 'string' } } })
  if (!values.acl) throw new UsageError('acl needs --acl FILE')
  const loaded = await loadAclFile(resolve(values.acl))
  if (!loaded.acl) {
    for (const p of loaded.problems) process.stderr.write(formatProblem(p) + '\n')
    return CONFIG_EXIT_CODE
  }
  if (sub === 'lint') {
    const findings = lint(loaded.acl)
    for (const f of findings) process.stdout.write(formatFinding(f, loaded.acl.file) + '\n')
    if (findings.length === 0) process.stdout.write(`${loaded.acl.file}: no findings\n`)
    return findings.length === 0 ? 0 : 1
  }
  if (sub === 'explain') {
    const [method, path] = positionals
    if (!method || !path) throw new UsageError('acl explain needs METHOD PATH')
    if (values.as !== undefined) {
      const why = identityProblem(values.as)
      if (why) throw new UsageError(`--as ${values.as}: ${why}`)
    }
    // Match exactly what the gateway would: the normalized path (http/target.ts).
    let normalized: string
    try { normalized = parseTarget(path).path } catch (err) {
      process.stdout.write(`${path}: rejected before the ACL (400 path_rejected): ${(err as Error).message}\n`)
      return 1
    }
    const e = explain(loaded.acl, values.as as Identity | undefined, method.toUpperCase(), normalized)
    process.stdout.write(formatExplanation(e) + '\n')
    return e.decision.allow ? 0 : 1
  }
  throw new UsageError('acl needs a subcommand: explain or lint')
}
