// No merge-conflict marker is ever committed: a half-merged file in docs/ or
// src/ says two contradictory things at once (issue 28 found 14 such lines in
// three docs). Reads every tracked file, so a marker anywhere fails the suite.

import t from 'tap'
import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'

import { ROOT as root } from './repo.js'

/** Lines that start a conflict side or end one, as git writes them. */
export function conflictMarkers(text: string): number[] {
  const hits: number[] = []
  text.split('\n').forEach((line, index) => {
    if (/^(<{7} |>{7} |\|{7} )/.test(line) || line === '='.repeat(7)) hits.push(index + 1)
  })
  return hits
}

t.test('the detector sees a conflict and nothing else', async (t) => {
  const sample = ['a', '<'.repeat(7) + ' HEAD', 'b', '='.repeat(7), 'c', '>'.repeat(7) + ' topic', 'd'].join('\n')
  t.same(conflictMarkers(sample), [2, 4, 6])
  t.same(conflictMarkers('# Title\n\n=======\nunder\n'.replace('=======', '========')), [], 'a longer rule is not a marker')
})

t.test('no tracked file holds a merge-conflict marker', async (t) => {
  let files: string[]
  try {
    files = execFileSync('git', ['ls-files', '-z'], { cwd: root, encoding: 'utf8' }).split('\0').filter(Boolean)
  } catch {
    t.pass('not a git checkout: nothing to list (skipped)')
    return
  }
  const found: string[] = []
  for (const file of files) {
    if (file.endsWith('package-lock.json')) continue
    let text: string
    try { text = readFileSync(join(root, file), 'utf8') } catch { continue }
    if (text.includes('\0')) continue
    for (const line of conflictMarkers(text)) found.push(`${file}:${line}`)
  }
  t.same(found, [], 'conflict markers left in the tree')
})
