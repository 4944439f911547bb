// Secrets (PROTOCOL.md §8): a YAML file or env vars, named keys newest first,
// every problem reported with file:line; nothing configured → generated dev
// secrets, flagged so the operator is warned.

import t from 'tap'
import { randomBytes } from 'node:crypto'
import { mkdtemp, writeFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseSecrets, secretsFromEnv, loadSecrets, generateDevSecrets } from '../../../src/secrets/load.js'
import { formatProblem } from '../../../src/config/yaml-source.js'

const key = (bytes = 32) => randomBytes(bytes).toString('base64url')
const K1 = key(), K2 = key(), K3 = key(48)
const FILE = '/etc/popgate/secrets.yaml'

t.test('a good file: lists newest first, keys decoded', async (t) => {
  const { secrets, problems } = parseSecrets([
    'nonce:',
    `  - { id: n2, secret: ${K1} }`,
    `  - { id: n1, secret: ${K2} }`,
    'tickets:',
    `  - id: t1`,
    `    secret: ${K3}`,
    '',
  ].join('\n'), FILE)
  t.same(problems, [])
  t.ok(secrets)
  t.same(secrets!.nonce.map((s) => s.id), ['n2', 'n1'])
  t.same(secrets!.nonce[0]!.key, Buffer.from(K1, 'base64url'))
  t.same(secrets!.tickets.map((s) => [s.id, s.key.length]), [['t1', 48]])
  t.equal(secrets!.cookies.length, 1, 'an absent list gets a generated key')
  t.equal(secrets!.cookies[0]!.key.length, 32)
  t.equal(secrets!.generated, false, 'configured secrets are not flagged generated')
})

/** Problems as `line: path: message` for compact assertions. */
const problemsOf = (text: string) => parseSecrets(text, FILE).problems

t.test('bad files: every problem with file:line', async (t) => {
  const text = [
    'nonce:',                                  // 1
    `  - { id: n1, secret: ${key(31)} }`,      // 2 too short
    `  - { id: "bad id!", secret: ${K1} }`,    // 3 bad id
    '  - { id: n3, secret: "not+base64/url" }', // 4 not base64url
    `  - { id: n4, secret: ${K2}, extra: 1 }`, // 5 unknown key
    `  - { id: n5, secret: ${K1} }`,           // 6 ok
    `  - { id: n5, secret: ${K2} }`,           // 7 duplicate id
    '  - just-a-string',                       // 8 not a map
    'cookie: []',                              // 9 unknown top-level key
    'tickets: { id: t, secret: x }',           // 10 not a list
    '',
  ].join('\n')
  const problems = problemsOf(text)
  const lines = problems.map((p) => p.line)
  for (const l of [2, 3, 4, 5, 7, 8, 9, 10]) t.ok(lines.includes(l), `a problem on line ${l}`)
  t.notOk(lines.includes(6), 'the good entry has none')
  t.ok(problems.every((p) => p.file === FILE && p.col >= 1))
  const text2 = problems.map(formatProblem).join('\n')
  t.match(text2, /secrets\.yaml:2:\d+: nonce\[0\]: secret must decode to at least 32 bytes/)
  t.match(text2, /secrets\.yaml:3:\d+: nonce\[1\]: id must be/)
  t.match(text2, /secrets\.yaml:4:\d+: nonce\[2\]: secret must be base64url/)
  t.match(text2, /secrets\.yaml:5:\d+: nonce\[3\]: unknown key \(its name is not shown: this file holds secrets\); expected one of id, secret/)
  t.match(text2, /secrets\.yaml:7:\d+: nonce\[5\]: duplicate id n5/)
  t.match(text2, /secrets\.yaml:9:\d+: \(root\): unknown key \(its name is not shown: this file holds secrets\); did you mean "cookies"\?/)
  t.equal(parseSecrets(text, FILE).secrets, undefined, 'no secrets when anything is wrong')
})

t.test('short secrets are rejected at every length below 32 bytes', async (t) => {
  for (const n of [1, 16, 31]) {
    const r = parseSecrets(`nonce: [{ id: n, secret: ${key(n)} }]`, FILE)
    t.equal(r.secrets, undefined, `${n} bytes`)
    t.match(r.problems[0]?.message, /at least 32 bytes/)
  }
  t.ok(parseSecrets(`nonce: [{ id: n, secret: ${key(32)} }]`, FILE).secrets, '32 bytes is enough')
})

t.test('shape problems', async (t) => {
  t.match(problemsOf('tickets: []\n'), [{ path: 'nonce', message: /at least one nonce secret/ }], 'nonce is required')
  t.match(problemsOf('nonce: []\n'), [{ path: 'nonce', message: /at least one/ }])
  t.match(problemsOf('- a\n- b\n'), [{ line: 1, message: /mapping/ }], 'root must be a map')
  t.match(problemsOf(`nonce: [{ id: n, secret: ${K1} }]\nnonce: []\n`), [{ line: 2 }], 'duplicate YAML keys are a problem, on their line')
  t.match(problemsOf('nonce: [{ id: n, secret: \n'), [{ file: FILE }], 'broken YAML')
  t.match(problemsOf(`nonce: [{ id: 12345678901234567, secret: ${K1} }]\n`), [{ message: /id must be/ }], 'a numeric id is not a string')
  t.match(problemsOf(`nonce: [{ id: ${'x'.repeat(17)}, secret: ${K1} }]\n`), [{ message: /id must be 1-16/ }])
  t.match(problemsOf('nonce: [{ id: n }]\n'), [{ message: /secret must be base64url/ }], 'missing secret')
})

t.test('env form: POPGATE_*_SECRETS="id:base64url,id2:..."', async (t) => {
  const r = secretsFromEnv({ POPGATE_NONCE_SECRETS: `n2:${K1},n1:${K2}`, POPGATE_TICKET_SECRETS: `t1:${K3}` })
  t.same(r.problems, [])
  t.same(r.secrets!.nonce.map((s) => s.id), ['n2', 'n1'])
  t.same(r.secrets!.nonce[1]!.key, Buffer.from(K2, 'base64url'))
  t.same(r.secrets!.tickets.map((s) => s.id), ['t1'])
  t.equal(r.secrets!.generated, false)
  t.same(secretsFromEnv({}), { problems: [] }, 'nothing set: no secrets, no problems')
  t.match(secretsFromEnv({ POPGATE_TICKET_SECRETS: `t1:${K3}` }).problems, [{ path: 'POPGATE_NONCE_SECRETS', message: /required/ }])
  t.match(secretsFromEnv({ POPGATE_NONCE_SECRETS: `n1:${key(16)}` }).problems, [{ file: '$env', path: 'POPGATE_NONCE_SECRETS', message: /at least 32 bytes/ }])
  t.match(secretsFromEnv({ POPGATE_NONCE_SECRETS: K1 }).problems, [{ path: 'POPGATE_NONCE_SECRETS' }], 'no id')
  t.equal(secretsFromEnv({ POPGATE_NONCE_SECRETS: `n1:${K1}:extra` }).secrets, undefined, 'a third ":" part is not ignored')
})

t.test('loadSecrets: file, env, or generated dev secrets flagged generated: true', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'popgate-secrets-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  const file = join(dir, 'secrets.yaml')
  await writeFile(file, `nonce: [{ id: f1, secret: ${K1} }]\n`)
  const fromFile = await loadSecrets(file, { POPGATE_NONCE_SECRETS: `e1:${K2}` })
  t.same(fromFile.secrets!.nonce.map((s) => s.id), ['f1'], 'the file wins over env')
  const missing = await loadSecrets(join(dir, 'nope.yaml'), {})
  t.match(missing.problems, [{ file: join(dir, 'nope.yaml'), line: 1, message: /cannot read: ENOENT/ }])
  t.equal(missing.secrets, undefined, 'a configured but unreadable file is an error, never dev secrets')
  const fromEnv = await loadSecrets(undefined, { POPGATE_NONCE_SECRETS: `e1:${K2}` })
  t.same(fromEnv.secrets!.nonce.map((s) => s.id), ['e1'])
  const badEnv = await loadSecrets(undefined, { POPGATE_NONCE_SECRETS: 'e1:short' })
  t.equal(badEnv.secrets, undefined, 'bad env is an error, never dev secrets')
  const dev = await loadSecrets(undefined, {})
  t.equal(dev.secrets!.generated, true)
  t.same(dev.problems, [])
  const g1 = generateDevSecrets(), g2 = generateDevSecrets()
  t.equal(g1.generated, true)
  for (const kind of ['nonce', 'tickets', 'cookies'] as const) {
    t.equal(g1[kind][0]!.key.length, 32)
    t.notSame(g1[kind][0]!.key, g2[kind][0]!.key, `${kind}: random per process`)
  }
})

t.test('an empty secrets file is a problem at 1:1, not a silent nothing', async (t) => {
  const { parseSecrets } = await import('../../../src/secrets/load.js')
  for (const text of ['', '   \n', '# only a comment\n']) {
    const r = parseSecrets(text, 'secrets.yaml')
    t.equal(r.secrets, undefined)
    t.match(r.problems, [{ file: 'secrets.yaml', line: 1, col: 1, message: /empty/ }], JSON.stringify(text))
  }
})

t.test('tickets and cookies: a key may be marked retired (RFC 3339); nonces and the first key may not', async (t) => {
  const k = () => key(32)
  const good = parseSecrets(`nonce: [{ id: n, secret: ${k()} }]\ntickets:\n  - { id: t2, secret: ${k()} }\n  - { id: t1, secret: ${k()}, retired: 2026-12-07T10:00:00Z }\ncookies:\n  - { id: c2, secret: ${k()} }\n  - { id: c1, secret: ${k()}, retired: "2026-12-07T11:00:00+01:00" }\n`, FILE)
  t.same(good.problems, [])
  t.equal(good.secrets!.tickets[1]!.retiredAtMs, Date.parse('2026-12-07T10:00:00Z'))
  t.equal(good.secrets!.tickets[0]!.retiredAtMs, undefined)
  t.equal(good.secrets!.cookies[1]!.retiredAtMs, Date.parse('2026-12-07T10:00:00Z'))
  const cases: [string, RegExp][] = [
    [`nonce: [{ id: n, secret: ${k()} }]\ntickets:\n  - { id: t2, secret: ${k()}, retired: 2026-12-07T10:00:00Z }\n`, /secrets\.yaml:3:\d+: tickets\[0\]\.retired: the first key seals new credentials and cannot be retired/],
    [`nonce: [{ id: n, secret: ${k()} }]\ntickets:\n  - { id: t2, secret: ${k()} }\n  - { id: t1, secret: ${k()}, retired: yesterday }\n`, /secrets\.yaml:4:\d+: tickets\[1\]\.retired: must be an RFC 3339 time/],
    [`nonce: [{ id: n2, secret: ${k()} }, { id: n1, secret: ${k()}, retired: 2026-12-07T10:00:00Z }]\n`, /nonce\[1\]: unknown key .*did you mean "secret"|nonce\[1\]: unknown key/],
  ]
  for (const [text, re] of cases) {
    const r = parseSecrets(text, FILE)
    t.equal(r.secrets, undefined)
    t.match(r.problems.map(formatProblem).join('\n'), re)
  }
})
