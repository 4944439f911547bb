// `popgate acl test --acl FILE [--format table|tap] CASES`: checks every case
// of a cases file (acl/cases.ts) against the ACL. Exit 0 when all pass, 1
// when any fails (each failing case named), 78 when either file has problems.

import type { Acl } from '../acl/index.js'
import { runCase, type AclCase, type CaseResult } from '../acl/cases.js'
import { EXIT } from './usage.js'

export function runCases(acl: Acl, cases: readonly AclCase[], casesFile: string, format: 'table' | 'tap'): { code: number; out: string } {
  const results = cases.map((c) => runCase(acl, c))
  const failed = results.filter((r) => !r.pass)
  const out = format === 'tap' ? tap(results, casesFile) : table(results, casesFile)
  return { code: failed.length === 0 ? EXIT.ok : EXIT.denied, out }
}

const request = (c: AclCase): string => `${c.method} ${c.path} as ${c.identity ?? '(anonymous)'}`
const expected = (c: AclCase): string => [c.expect, c.rule && `by ${c.rule}`, c.reason && `(${c.reason})`].filter(Boolean).join(' ')
const got = (r: CaseResult): string => [r.got.outcome, r.got.rule && `by ${r.got.rule.id}`, r.got.reason && `(${r.got.reason})`].filter(Boolean).join(' ')
const at = (c: AclCase, file: string): string => `${file}:${c.pos.line}:${c.pos.col}`

function table(results: readonly CaseResult[], file: string): string {
  const rows = [['RESULT', 'CASE', 'REQUEST', 'EXPECTED', 'GOT'], ...results.map((r) => [r.pass ? 'ok' : 'FAIL', r.case.name, request(r.case), expected(r.case), got(r)])]
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)))
  const lines = rows.map((row) => row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  '))
  const failed = results.filter((r) => !r.pass)
  for (const r of failed) lines.push(`${at(r.case, file)}: case "${r.case.name}" failed: expected ${expected(r.case)}, got ${got(r)}`)
  lines.push(`${results.length} cases, ${results.length - failed.length} passed, ${failed.length} failed`)
  return lines.join('\n') + '\n'
}

/** TAP version 13: one test point per case, a YAML block (JSON strings are YAML) for each failure. */
function tap(results: readonly CaseResult[], file: string): string {
  const lines = ['TAP version 13', `1..${results.length}`]
  results.forEach((r, i) => {
    // A '#' would start a directive (SKIP/TODO) and a newline would end the line: neither belongs in a description.
    const name = r.case.name.replace(/[\r\n]+/g, ' ').replace(/#/g, '\\#')
    lines.push(`${r.pass ? 'ok' : 'not ok'} ${i + 1} - ${name}`)
    if (r.pass) return
    lines.push('  ---', `  request: ${JSON.stringify(request(r.case))}`, `  expected: ${JSON.stringify(expected(r.case))}`,
      `  got: ${JSON.stringify(got(r))}`, `  at: ${JSON.stringify(at(r.case, file))}`, '  ...')
  })
  return lines.join('\n') + '\n'
}
