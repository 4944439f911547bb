// `popgate secrets generate` output is read back by the loaders the gateway
// uses (secrets/load.ts): the YAML by parseSecrets, the --env lines by
// secretsFromEnv. No sockets, an injected clock and random source.

import t from 'tap'
import { generateSecrets, formatSecretsYaml, formatSecretsEnv, SECRET_BYTES } from '../../../src/secrets/generate.js'
import { parseSecrets, secretsFromEnv } from '../../../src/secrets/load.js'

const NOW = new Date('2026-06-01T12:00:00Z')

t.test('the YAML parses, newest key per list, 32 bytes each, ids of the day', async (t) => {
  const made = generateSecrets(NOW)
  const { secrets, problems } = parseSecrets(formatSecretsYaml(made, NOW), 'secrets.yaml')
  t.same(problems, [])
  t.same(secrets!.nonce.map((s) => s.id), ['n-20260601'])
  t.same(secrets!.tickets.map((s) => s.id), ['t-20260601'])
  t.same(secrets!.cookies.map((s) => s.id), ['c-20260601'])
  for (const s of [...secrets!.nonce, ...secrets!.tickets, ...secrets!.cookies]) t.equal(s.key.length, SECRET_BYTES)
  t.equal(secrets!.generated, false)
})

t.test('the --env lines parse as the POPGATE_*_SECRETS variables', async (t) => {
  const made = generateSecrets(NOW)
  const env = Object.fromEntries(formatSecretsEnv(made).trim().split('\n').map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]))
  t.same(Object.keys(env), ['POPGATE_NONCE_SECRETS', 'POPGATE_TICKET_SECRETS', 'POPGATE_COOKIE_SECRETS'])
  const { secrets, problems } = secretsFromEnv(env)
  t.same(problems, [])
  t.same(secrets!.nonce[0]!.key, Buffer.from(made[0]!.secret, 'base64url'))
})

t.test('every call draws fresh randomness', async (t) => {
  const a = generateSecrets(NOW), b = generateSecrets(NOW)
  t.not(a[0]!.secret, b[0]!.secret)
  let calls = 0
  const fixed = generateSecrets(NOW, (n) => { calls++; return Buffer.alloc(n, 7) })
  t.equal(calls, 3, 'one draw per list')
  t.equal(fixed[0]!.secret, Buffer.alloc(32, 7).toString('base64url'))
})
