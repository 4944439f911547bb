// The README's command table and exit codes say what the CLI takes (issue 28:
// the table lacked `acl test`/`acl diff`, gave keygen two algorithms where the
// CLI takes four, and left out exit code 70). Each synopsis `popgate --help`
// prints is a row of the table, word for word; each exit code is named.

import t from 'tap'
import { USAGE, EXIT } from '../../../src/cli/usage.js'
import { readRepo } from './repo.js'

/** The synopses of `popgate --help`: its lines that start with `popgate`, without the trailing remark. */
export function synopses(usage: string): string[] {
  return usage.split('\n').filter((l) => /^ {2}popgate [a-z]/.test(l) && !/COMMAND --help|--version/.test(l))
    .map((l) => l.trim().split(/ {2,}/)[0]!)
}

/** The commands in the README's table (first cell, backticks and `\|` undone). */
export function tableCommands(readme: string): string[] {
  return [...readme.matchAll(/^\| `(popgate [^`]+)` \|/gm)].map((m) => m[1]!.replace(/\\\|/g, '|'))
}

t.test('every command popgate --help lists is a row of the README table, as written', async (t) => {
  const rows = tableCommands(readRepo('README.md'))
  const wanted = synopses(USAGE)
  t.ok(wanted.length >= 12, `the usage text lists the commands (${wanted.length})`)
  for (const s of wanted) t.ok(rows.includes(s), `README has \`${s}\``)
  for (const r of rows) t.ok(wanted.includes(r), `\`${r}\` is a command popgate --help lists`)
})

t.test('the README names every exit code', async (t) => {
  const readme = readRepo('README.md')
  const sentence = /prints a command's options and the exit codes:([^]*?)problems\./.exec(readme)?.[1] ?? ''
  for (const code of Object.values(EXIT)) t.match(sentence, new RegExp(`\\b${code}\\b`), `exit code ${code}`)
})

t.test('a stale table is caught', async (t) => {
  const stale = readRepo('README.md').replace('ES256\\|ES384\\|Ed25519\\|PS256', 'ES256\\|Ed25519')
  t.notOk(synopses(USAGE).every((s) => tableCommands(stale).includes(s)), 'two algorithms where the CLI takes four')
})
