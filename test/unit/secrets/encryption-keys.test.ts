// The secrets file's `encryption` list (secrets/encryption-keys.ts): EC P-256
// private JWKs issuers encrypt cnf.jwe to, newest first, each published with
// use "enc"; a pasted key whose x/y are not d's, another use or alg, or a
// duplicate kid is a problem at its item, never printing the key.

import t from 'tap'
import { generateKeyPairSync } from 'node:crypto'
import { parseSecrets } from '../../../src/secrets/load.js'

const NONCE = `nonce: [{ id: n1, secret: ${'A'.repeat(43)} }]`
const jwk = () => generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' }) as Record<string, string>

t.test('a list of keys: read newest first, published as use enc / ECDH-ES+A256KW', async (t) => {
  const a = jwk(), b = jwk()
  const r = parseSecrets(`${NONCE}\nencryption: [${JSON.stringify({ kid: 'e2', ...a })}, ${JSON.stringify({ kid: 'e1', ...b })}]\n`, 's.yaml')
  t.same(r.problems, [])
  t.same(r.secrets!.encryption!.map((k) => k.kid), ['e2', 'e1'])
  t.same(r.secrets!.encryption![0]!.publicJwk, { kty: 'EC', crv: 'P-256', x: a.x, y: a.y, kid: 'e2', alg: 'ECDH-ES+A256KW', use: 'enc' })
  t.notOk('d' in r.secrets!.encryption![0]!.publicJwk, 'no private member published')
})

t.test('problems at the item, without key material', async (t) => {
  const a = jwk(), b = jwk()
  const cases: [string, object, RegExp][] = [
    ['use sig', { ...a, use: 'sig' }, /use, when given, must be enc/],
    ['another alg', { ...a, alg: 'ES256' }, /alg, when given, must be ECDH-ES\+A256KW/],
    ['x/y of another key', { ...a, x: b.x, y: b.y }, /x and y are not the public half of d/],
  ]
  for (const [name, item, message] of cases) {
    const r = parseSecrets(`${NONCE}\nencryption: [${JSON.stringify(item)}]\n`, 's.yaml')
    t.equal(r.secrets, undefined, name)
    t.match(r.problems.map((p) => p.message).join('\n'), message, name)
    t.notMatch(JSON.stringify(r.problems), a.d!, `${name}: d is never printed`)
  }
  const dup = parseSecrets(`${NONCE}\nencryption: [${JSON.stringify({ kid: 'e1', ...a })}, ${JSON.stringify({ kid: 'e1', ...b })}]\n`, 's.yaml')
  t.match(dup.problems.map((p) => p.message).join('\n'), /duplicate kid e1/)
})
