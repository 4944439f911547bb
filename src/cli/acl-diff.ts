// `popgate acl diff OLD NEW [--sample FILE]`: what changing the ACL from OLD
// to NEW changes. Rules added, removed and changed by id; with --sample (an
// export of access lines, one JSON object per line), how many of those
// requests would get another outcome, and the first few. Exit 0 when no
// sampled request flips, 1 when some do. Lines that are not access lines
// (other log lines, bad JSON, bad values) are skipped and counted, never fatal.

import { createReadStream } from 'node:fs'
import { createInterface } from 'node:readline'
import { diffDecisions, ruleChanges, type Acl, type SampleRequest } from '../acl/index.js'
import { identityProblem } from '../identity/domain.js'
import { CliError, EXIT } from './usage.js'

export async function runDiff(before: Acl, after: Acl, sampleFile: string | undefined): Promise<{ code: number; out: string }> {
  const c = ruleChanges(before, after)
  const list = (ids: readonly string[]) => (ids.length ? ids.join(', ') : '-')
  const lines = [`rules added: ${list(c.added)}`, `rules removed: ${list(c.removed)}`, `rules changed: ${list(c.changed)}`]
  if (sampleFile === undefined) return { code: EXIT.ok, out: lines.join('\n') + '\n' }
  const { sample, skipped } = await readSample(sampleFile)
  const d = diffDecisions(sample, before, after, 10)
  lines.push(`${d.sampled} sampled requests${skipped ? ` (${skipped} lines skipped: not access lines)` : ''}, ${d.flips} would flip`)
  for (const f of d.examples) lines.push(`  ${f.method} ${f.path} as ${f.identity ?? '(anonymous)'}: ${f.before} → ${f.after}${f.rule ? ` (by ${f.rule})` : ''}`)
  if (d.flips > d.examples.length) lines.push(`  … and ${d.flips - d.examples.length} more`)
  return { code: d.flips === 0 ? EXIT.ok : EXIT.denied, out: lines.join('\n') + '\n' }
}

/** Access lines: `method` and `path` strings; `identity`, else `claimed`, when present (what the ACL judged). */
async function readSample(file: string): Promise<{ sample: SampleRequest[]; skipped: number }> {
  const sample: SampleRequest[] = []
  let skipped = 0
  const input = createReadStream(file, { encoding: 'utf8' })
  const opened = new Promise<void>((resolve, reject) => { input.once('open', () => resolve()); input.once('error', reject) })
  try { await opened } catch (err) {
    throw new CliError(`cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? 'error'})`, EXIT.noInput)
  }
  for await (const line of createInterface({ input, crlfDelay: Infinity })) {
    if (line.trim() === '') continue
    const s = sampleOf(line)
    if (s) sample.push(s)
    else skipped++
  }
  return { sample, skipped }
}

function sampleOf(line: string): SampleRequest | undefined {
  let o: unknown
  try { o = JSON.parse(line) } catch { return undefined }
  if (typeof o !== 'object' || o === null) return undefined
  const { msg, method, path, identity, claimed } = o as Record<string, unknown>
  if ((msg !== undefined && msg !== 'access') || typeof method !== 'string' || typeof path !== 'string' || !path.startsWith('/')) return undefined
  const who = identity ?? claimed
  if (who !== undefined && identityProblem(who) !== undefined) return undefined
  return { identity: who as string | undefined, method, path }
}
