// The signed upstream assertion through a real gateway (identityHeaders.assertion):
// the upstream receives X-PoP-Assertion only for authenticated requests, and
// verifies it the way docs/upstream.md says, with jose fetching the JWKS the
// gateway itself serves at /.well-known/popgate/jwks.json (public, no ACL
// rule needed). A client-sent X-PoP-Assertion never reaches the upstream; a
// tampered assertion does not verify; a rotated secrets file publishes both
// keys and signs with the new one.

import t, { type Test } from 'tap'
import { generateKeyPairSync } from 'node:crypto'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from 'jose'
import { startUpstream, startTestGateway, rawRequest } from '../helpers/harness.js'
import { startKeyHost, keysConfig } from '../helpers/identity.js'
import { signDomainPopProof } from '../../src/client/proof.js'
import { ASSERTION_TYPE, JWKS_PATH } from '../../src/proxy/assertion.js'

const ORIGIN = 'https://gw.test'
const jwk = (kid: string) => JSON.stringify({ kid, ...generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' }) })
const secretsYaml = (kids: readonly string[]) => `nonce: [{ id: n1, secret: ${'b'.repeat(43)} }]\nassertion:\n${kids.map((k) => `  - ${jwk(k)}\n`).join('')}`

async function setup(t: Test, extra = '') {
  const dir = await mkdtemp(join(tmpdir(), 'popgate-assertion-'))
  const secretsFile = join(dir, 'secrets.yaml')
  await writeFile(secretsFile, secretsYaml(['a2', 'a1']))
  const up = await startUpstream()
  const kh = await startKeyHost()
  const gw = await startTestGateway({
    upstream: up.url, publicOrigin: ORIGIN,
    extraConfig: `${keysConfig()}\nsecrets:\n  file: ${secretsFile}\nidentityHeaders:\n  assertion: true\n${extra}`,
  })
  t.teardown(async () => { await gw.close(); await up.close(); await kh.close(); await rm(dir, { recursive: true, force: true }) })
  const alice = await kh.publish('alice.test')
  const authorized = async (path: string, headers: [string, string][] = []) => {
    const nonce = (await rawRequest(gw.url, { path })).headers['domainpop-nonce'] as string
    const proof = signDomainPopProof(alice.key, { identity: 'alice.test', keyUrl: alice.keyUrl, audience: ORIGIN, method: 'GET', path, nonce })
    return rawRequest(gw.url, { path, headers: [['Authorization', `DomainPoP ${proof}`], ...headers] })
  }
  return { up, gw, alice, authorized, secretsFile }
}

t.test('the upstream verifies the assertion with the published JWKS; a tampered one fails; spoofed ones are stripped', async (t) => {
  const { up, gw, alice, authorized } = await setup(t)
  const res = await authorized('/foo', [['X-PoP-Assertion', 'forged.by.client'], ['x_pop_assertion', 'forged.too']])
  t.equal(res.status, 200)
  const seen = up.seen.at(-1)!
  const values = seen.rawHeaders.filter((_, i) => i % 2 === 0 && /^x[-_]pop[-_]assertion$/i.test(seen.rawHeaders[i]!)).length
  t.equal(values, 1, 'exactly one X-PoP-Assertion upstream: the client\'s were stripped')
  const jwt = seen.headers['x-pop-assertion'] as string
  t.not(jwt, 'forged.by.client')

  // What an upstream does (docs/upstream.md): fetch the JWKS from the gateway, verify issuer and audience.
  const jwks = createRemoteJWKSet(new URL(gw.url + JWKS_PATH))
  const { payload } = await jwtVerify(jwt, jwks, { issuer: ORIGIN, audience: up.url, typ: ASSERTION_TYPE, algorithms: ['ES256'] })
  t.match(payload, { sub: 'alice.test', auth_method: 'domainpop', cnf: { jkt: alice.key.kid }, rule: 'foo', htm: 'GET', htu: `${ORIGIN}/foo` })
  t.equal(payload.sub, seen.headers['x-pop-identity'], 'the assertion and the plain identity header agree')

  const [h, p, s] = jwt.split('.') as [string, string, string]
  const forged = Buffer.from(JSON.stringify({ ...payload, sub: 'admin.test' })).toString('base64url')
  await t.rejects(jwtVerify(`${h}.${forged}.${s}`, jwks, { issuer: ORIGIN, audience: up.url }), { code: 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED' })
  t.not(forged, p)

  const pub = await rawRequest(gw.url, { path: '/public/x', headers: [['X-PoP-Assertion', 'forged.by.client']] })
  t.equal(pub.status, 200)
  t.equal(up.seen.at(-1)!.headers['x-pop-assertion'], undefined, 'a public request gets no assertion, and the client\'s is stripped')

  const doc = await rawRequest(gw.url, { path: JWKS_PATH })
  t.equal(doc.status, 200, 'the JWKS is public although no ACL rule names it')
  t.equal(doc.headers['content-type'], 'application/jwk-set+json')
  t.same(JSON.parse(doc.body).keys.map((k: { kid: string }) => k.kid), ['a2', 'a1'])
  t.notMatch(doc.body, /"d"/, 'no private member')
})

t.test('rotation by editing the secrets file: both keys published, the new one signs', async (t) => {
  const { up, gw, authorized, secretsFile } = await setup(t)
  await writeFile(secretsFile, secretsYaml(['a3', 'a2', 'a1']))
  t.same(await gw.gw.reload('rotation'), [])
  const doc = JSON.parse((await rawRequest(gw.url, { path: JWKS_PATH })).body) as { keys: { kid: string }[] }
  t.same(doc.keys.map((k) => k.kid), ['a3', 'a2', 'a1'])
  t.equal((await authorized('/foo')).status, 200)
  const jwt = up.seen.at(-1)!.headers['x-pop-assertion'] as string
  t.equal(decodeProtectedHeader(jwt).kid, 'a3')
  await jwtVerify(jwt, createRemoteJWKSet(new URL(gw.url + JWKS_PATH)), { issuer: ORIGIN, audience: up.url })
})

t.test('assertionAudience sets aud', async (t) => {
  const { up, authorized } = await setup(t, '  assertionAudience: urn:reports-service\n')
  t.equal((await authorized('/foo')).status, 200)
  const jwt = up.seen.at(-1)!.headers['x-pop-assertion'] as string
  t.equal(JSON.parse(Buffer.from(jwt.split('.')[1]!, 'base64url').toString()).aud, 'urn:reports-service')
})

t.test('assertion: true with a secrets file that lists no assertion key: the gateway refuses to start, and says why', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'popgate-assertion-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  await writeFile(join(dir, 'secrets.yaml'), `nonce: [{ id: n1, secret: ${'b'.repeat(43)} }]\n`)
  const up = await startUpstream()
  t.teardown(() => up.close())
  await t.rejects(startTestGateway({ upstream: up.url, extraConfig: `secrets:\n  file: ${join(dir, 'secrets.yaml')}\nidentityHeaders:\n  assertion: true\n` }),
    { message: /assertion: identityHeaders\.assertion is true but the secrets file lists no assertion keys/ })
})
