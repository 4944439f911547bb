// readYaml: positions from the text itself, and the nesting guard that keeps
// hostile YAML from overflowing the parser's stack (which can abort Node).

import t from 'tap'
import { readYaml, MAX_NESTING } from '../../../src/config/yaml-source.js'

t.test('deep nesting is refused before parsing, at the offending position', async (t) => {
  const cases: [string, string][] = [
    ['flow sequences', '['.repeat(5000) + ']'.repeat(5000)],
    ['flow maps', 'a: ' + '{b: '.repeat(2000) + '1' + '}'.repeat(2000)],
    ['compact block sequences', '- '.repeat(3000) + 'x'],
    ['deep indentation', 'a:\n' + ' '.repeat(400) + 'b: 1'],
  ]
  for (const [name, text] of cases) {
    const r = readYaml(text, 'deep.yaml')
    t.equal(r.root, undefined, name)
    t.match(r.problems.list, [{ file: 'deep.yaml', message: /nesting deeper than/ }], name)
  }
  // Twice in one process: a second overflow used to abort V8 outright.
  t.equal(readYaml('['.repeat(5000), 'deep.yaml').root, undefined)
})

t.test('nesting up to the limit is fine; brackets inside quotes and comments do not count', async (t) => {
  t.ok(readYaml('['.repeat(MAX_NESTING) + ']'.repeat(MAX_NESTING), 'ok.yaml').root)
  t.ok(readYaml(`a: "${'['.repeat(500)}"\nb: '${'{'.repeat(500)}'\n# ${'['.repeat(500)}\n`, 'ok.yaml').root)
})

t.test('positions come from the text, even after yaml error recovery', async (t) => {
  const text = ' a:\nb: 2\n c:'
  const r = readYaml(text, 'drift.yaml')
  const lines = text.split('\n')
  for (const p of r.problems.list) {
    t.ok(p.line >= 1 && p.line <= lines.length, `line ${p.line} exists`)
    t.ok(p.col >= 1 && p.col <= lines[p.line - 1]!.length + 1, `col ${p.col} is on line ${p.line}`)
  }
  t.ok(r.problems.list.some((p) => p.line === 3 && p.col === 3), 'the stray ":" is reported at 3:3')
})
