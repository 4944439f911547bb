import t from 'tap'
import { readIntrospectionAnswer } from '../../../../../src/schemes/dpop/introspection/answer.js'

const JKT = 'NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs'
const P = { issuer: 'https://alice.test', audience: 'https://gw.test', nowMs: 1_000_000, clockSkewMs: 5_000 }
const ok = { active: true, iss: 'https://alice.test', aud: 'https://gw.test', exp: 2_000, sub: 'svc', client_id: 'svc-a', scope: 'api:read api:write', token_type: 'DPoP', cnf: { jkt: JKT } }
const read = (a: unknown) => readIntrospectionAnswer(JSON.stringify(a), P)

t.test('an active DPoP answer gives the token\'s facts', async (t) => {
  t.same(read(ok), { jkt: JKT, sub: 'svc', clientId: 'svc-a', scopes: ['api:read', 'api:write'], expMs: 2_000_000 })
  t.same(read({ active: true, cnf: { jkt: JKT } }), { jkt: JKT, sub: undefined, clientId: undefined, scopes: [], expMs: undefined }, 'only active and cnf.jkt are required')
  t.ok(read({ ...ok, iss: 'https://alice.test/' }), 'the issuer in another spelling of its canonical form')
})

const refusals: [string, unknown, string][] = [
  ['inactive', { active: false }, 'token_inactive'],
  ['active as a string', { ...ok, active: 'true' }, 'token_inactive'],
  ['no active', { cnf: { jkt: JKT } }, 'token_inactive'],
  ['no cnf (a bearer token)', { ...ok, cnf: undefined }, 'token_unbound'],
  ['cnf without jkt (a certificate-bound token)', { ...ok, cnf: { 'x5t#S256': JKT } }, 'token_unbound'],
  ['token_type Bearer', { ...ok, token_type: 'Bearer' }, 'token_unbound'],
  ['cnf.jkt not a thumbprint', { ...ok, cnf: { jkt: 'abc' } }, 'token_invalid'],
  ['another issuer', { ...ok, iss: 'https://evil.test' }, 'introspection_identity_mismatch'],
  ['a subdomain issuer', { ...ok, iss: 'https://eu.alice.test' }, 'introspection_identity_mismatch'],
  ['an issuer that is not a URL', { ...ok, iss: 'alice.test' }, 'introspection_identity_mismatch'],
  ['expired', { ...ok, exp: 990 }, 'token_expired'],
  ['not yet valid', { ...ok, nbf: 1_010 }, 'token_expired'],
  ['another audience', { ...ok, aud: 'https://other.test' }, 'token_audience_mismatch'],
  ['aud list without us', { ...ok, aud: ['https://other.test'] }, 'token_audience_mismatch'],
  ['sub with CR LF', { ...ok, sub: 'a\r\nX-PoP-Identity: evil.test' }, 'token_invalid'],
  ['exp a string', { ...ok, exp: '2000' }, 'token_invalid'],
]
for (const [name, answer, code] of refusals) {
  t.test(`refused: ${name} → ${code}`, async (t) => {
    t.throws(() => read(answer), { code })
  })
}

t.test('not JSON, or not an object → introspection_failed', async (t) => {
  t.throws(() => readIntrospectionAnswer('<html>', P), { code: 'introspection_failed' })
  t.throws(() => readIntrospectionAnswer('[true]', P), { code: 'introspection_failed' })
  t.throws(() => readIntrospectionAnswer('null', P), { code: 'introspection_failed' })
})
