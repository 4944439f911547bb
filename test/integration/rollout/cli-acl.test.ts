// `popgate acl test`, `popgate acl diff` and `popgate check` with report
// mode, run as a user runs them (issue 15, done-when 2): the shipped cases
// pass; changing one expectation fails naming the case; the TAP output
// parses (tap-parser) with the same verdicts.

import t from 'tap'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Parser } from 'tap-parser'
import { popgate, ROOT, startPopgate, stopAll } from '../cli-run.js'

const dir = await mkdtemp(join(tmpdir(), 'popgate-acl-cli-'))
t.teardown(async () => { await stopAll(); await rm(dir, { recursive: true, force: true }) })
const EXAMPLE = join(ROOT, 'acl.example.yaml')
const CASES = join(ROOT, 'acl.example.cases.yaml')

interface TapResult { ok: boolean; count: number; pass: number; fail: number; failures: { name: string; diag?: Record<string, unknown> }[] }
const parseTap = (text: string): TapResult => {
  const events = Parser.parse(text)
  const complete = events.find(([e]) => e === 'complete')
  return complete![1] as TapResult
}

t.test('the shipped example passes its cases, as a table and as TAP', async (t) => {
  const table = await popgate(['acl', 'test', '--acl', EXAMPLE, CASES])
  t.equal(table.code, 0, table.stdout + table.stderr)
  t.match(table.stdout, /^RESULT\s+CASE\s+REQUEST\s+EXPECTED\s+GOT$/m)
  t.match(table.stdout, /^ok\s+a partner reads the reports\s+GET \/reports\/q3 as eu\.partner\.example\s+allow by reports\s+allow by reports$/m)
  t.match(table.stdout, /12 cases, 12 passed, 0 failed/)
  const tap = await popgate(['acl', 'test', '--acl', EXAMPLE, '--format', 'tap', CASES])
  t.equal(tap.code, 0)
  const r = parseTap(tap.stdout)
  t.match(r, { ok: true, count: 12, pass: 12, fail: 0 })
})

t.test('one changed expectation fails, naming the case; TAP says the same', async (t) => {
  const text = await readFile(CASES, 'utf8')
  const changed = text.replace(/(- name: a partner may not write the reports[\s\S]*?expect: )deny/, '$1allow')
  t.not(changed, text, 'the expectation was changed')
  const file = join(dir, 'changed.cases.yaml')
  await writeFile(file, changed)
  const table = await popgate(['acl', 'test', '--acl', EXAMPLE, file])
  t.equal(table.code, 1)
  t.match(table.stdout, /^FAIL\s+a partner may not write the reports\s/m)
  t.match(table.stdout, /changed\.cases\.yaml:\d+:\d+: case "a partner may not write the reports" failed: expected allow by reports \(identity_not_listed\), got deny by reports \(identity_not_listed\)/)
  t.match(table.stdout, /12 cases, 11 passed, 1 failed/)
  const tap = await popgate(['acl', 'test', '--acl', EXAMPLE, '--format', 'tap', file])
  t.equal(tap.code, 1)
  const r = parseTap(tap.stdout)
  t.match(r, { ok: false, count: 12, pass: 11, fail: 1 })
  t.equal(r.failures[0]!.name, 'a partner may not write the reports')
  t.match(r.failures[0]!.diag, { expected: 'allow by reports (identity_not_listed)', got: 'deny by reports (identity_not_listed)' })
})

t.test('a broken cases file: every problem as file:line:col, exit 78; bad arguments exit 2', async (t) => {
  const file = join(dir, 'bad.cases.yaml')
  await writeFile(file, 'version: 1\ncases:\n  - name: x\n    method: GET\n    path: /a\n    expect: maybe\n    identity: "*.example"\n')
  const r = await popgate(['acl', 'test', '--acl', EXAMPLE, file])
  t.equal(r.code, 78)
  t.match(r.stderr, /bad\.cases\.yaml:6:13: cases\[0\]\.expect: must be one of/)
  t.match(r.stderr, /bad\.cases\.yaml:7:15: cases\[0\]\.identity: /)
  t.equal((await popgate(['acl', 'test', '--acl', EXAMPLE, '--format', 'junit', CASES])).code, 2)
  t.equal((await popgate(['acl', 'test', '--acl', EXAMPLE])).code, 2)
  t.equal((await popgate(['acl', 'test', '--acl', EXAMPLE, join(dir, 'missing.yaml')])).code, 78)
})

t.test('acl diff: rule changes, and the flips of an access-log sample; junk lines are skipped', async (t) => {
  const before = await readFile(EXAMPLE, 'utf8')
  const after = join(dir, 'after.yaml')
  // The partners lose read access to the reports; a new rule appears.
  await writeFile(after, before.replace('read: ["*.partner.example", alice.example]', 'read: [alice.example]') + '\n  - id: added\n    path: /new\n    read: [alice.example]\n')
  const sample = join(dir, 'access.jsonl')
  await writeFile(sample, [
    JSON.stringify({ level: 30, msg: 'access', method: 'GET', path: '/reports/q3', status: 200, decision: 'allow', identity: 'eu.partner.example' }),
    JSON.stringify({ level: 30, msg: 'access', method: 'GET', path: '/reports/q4', status: 403, decision: 'deny', claimed: 'us.partner.example' }),
    JSON.stringify({ level: 30, msg: 'access', method: 'GET', path: '/foo', status: 200, decision: 'allow', identity: 'alice.example' }),
    JSON.stringify({ level: 30, msg: 'config reloaded' }),
    '{not json',
    JSON.stringify({ msg: 'access', method: 'GET', path: '/x', identity: 'NOT AN IDENTITY' }),
    '',
  ].join('\n'))
  const r = await popgate(['acl', 'diff', EXAMPLE, after, '--sample', sample])
  t.equal(r.code, 1, r.stderr)
  t.match(r.stdout, /rules added: added\nrules removed: -\nrules changed: reports\n/)
  t.match(r.stdout, /3 sampled requests \(3 lines skipped: not access lines\), 2 would flip\n  GET \/reports\/q3 as eu\.partner\.example: allow → deny \(by reports\)\n  GET \/reports\/q4 as us\.partner\.example: allow → deny/)
  const same = await popgate(['acl', 'diff', EXAMPLE, EXAMPLE, '--sample', sample])
  t.equal(same.code, 0)
  t.match(same.stdout, /0 would flip/)
  t.equal((await popgate(['acl', 'diff', EXAMPLE, after, '--sample', join(dir, 'none.jsonl')])).code, 66, 'an unreadable sample')
  t.equal((await popgate(['acl', 'diff', EXAMPLE])).code, 2)
})

t.test('check warns for every rule in report mode and still passes; lint lists them as notes', async (t) => {
  const acl = join(dir, 'report.yaml')
  await writeFile(acl, 'version: 1\nmode: report\nrules:\n  - path: /healthz\n    public: true\n  - id: a\n    path: /a/**\n    read: [alice.test]\n  - id: b\n    path: /b/**\n    mode: enforce\n    read: [alice.test]\n  - id: c\n    path: /c/**\n    read: [alice.test]\n')
  await writeFile(join(dir, 'gw.yaml'), `listen: 127.0.0.1:0\npublicOrigin: https://gw.test\nupstream: http://127.0.0.1:3000\nacl: ./report.yaml\n`)
  const r = await popgate(['check', '--config', join(dir, 'gw.yaml')])
  t.equal(r.code, 0, r.stderr)
  const warnings = r.stdout.split('\n').filter((l) => l.startsWith('warning: '))
  t.equal(warnings.length, 2)
  t.match(warnings[0], /report\.yaml:6:5: rules\[1\] \(a\): report mode: requests it would refuse are forwarded/)
  t.match(warnings[1], /rules\[3\] \(c\)/)
  const lint = await popgate(['acl', 'lint', '--acl', acl])
  t.equal(lint.code, 0, 'notes do not fail lint')
  t.match(lint.stdout, /rules\[1\] \(a\): report mode/)
})

t.test('serve warns at start as check does, also for unmatched: report', async (t) => {
  const acl = join(dir, 'unmatched.yaml')
  await writeFile(acl, 'version: 1\nunmatched: report\nrules:\n  - id: a\n    path: /a/**\n    mode: report\n    read: [alice.test]\n')
  await writeFile(join(dir, 'gw2.yaml'), `listen: 127.0.0.1:0\npublicOrigin: https://gw.test\nupstream: http://127.0.0.1:3000\nacl: ./unmatched.yaml\n`)
  const r = await popgate(['check', '--config', join(dir, 'gw2.yaml')])
  t.equal(r.code, 0, r.stderr)
  const warnings = r.stdout.split('\n').filter((l) => l.startsWith('warning: '))
  t.match(warnings, [/rules\[0\] \(a\): report mode/, /unmatched\.yaml: unmatched: report: requests no rule matches are forwarded/])
  const serve = startPopgate(['serve', '--config', join(dir, 'gw2.yaml')])
  await serve.waitFor(/popgate listening/)
  const lines = serve.out().split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { level: number; msg: string })
  const warned = lines.filter((l) => l.level === 40).map((l) => l.msg)
  t.ok(warned.some((m) => /rules\[0\] \(a\): report mode/.test(m)), 'the rule\'s warning, as a log line at start')
  t.ok(warned.some((m) => /unmatched: report: requests no rule matches/.test(m)), 'and unmatched: report\'s')
  serve.child.kill('SIGTERM')
})
