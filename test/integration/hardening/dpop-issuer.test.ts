// Issue 19, written as the attacks, over real sockets: a gateway with DPoP,
// an HTTPS stand-in for alice.test (test CA) and a recording upstream.
//
// 1. The upload-area takeover: Mallory can put files under
//    https://alice.test/u/mallory/ (an upload area, static hosting, per-user
//    pages). She uploads an OpenID configuration and a JWK Set there and
//    presents a token she issued herself with iss https://alice.test/u/mallory.
//    Before, discovery fell back to <iss>/.well-known/openid-configuration and
//    the upstream saw X-PoP-Identity: alice.test. Now an issuer with a path is
//    refused unless pinned, and once a host has a pinned issuer no other
//    issuer of that host is accepted — nothing is fetched in either case.
// 2. DPoP proof keys and cnf.jwk bounded like key documents: a huge public
//    exponent or an oversized modulus is refused in parse, before any
//    signature work (and before anything is fetched).
// 3. The signed assertion carries the token's sub (token_sub), client_id and
//    scope: the upstream verifies it and finds what X-PoP-Subject said.

import t from 'tap'
import { generateKeyPairSync, randomBytes } from 'node:crypto'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createRemoteJWKSet, jwtVerify } from 'jose'
import { DEFAULT_ACL, rawRequest, startTestGateway, startUpstream } from '../../helpers/harness.js'
import { keysConfig } from '../../helpers/identity.js'
import { json, startKeyHost, type KeyHost } from '../../helpers/key-host.js'
import { mintProof, mintToken, newKey, signJws, type SigningKey } from '../../helpers/dpop.js'
import { ASSERTION_TYPE, JWKS_PATH } from '../../../src/proxy/assertion.js'

const ORIGIN = 'https://gw.test'
const nowSec = () => Math.floor(Date.now() / 1000)

interface Setup {
  readonly host: KeyHost
  readonly get: (path: string, token: string, client: SigningKey) => Promise<{ status: number; code: string | undefined }>
  readonly up: Awaited<ReturnType<typeof startUpstream>>
  readonly gwUrl: string
}

/** alice.test's real AS at the origin (RFC 8414 metadata + JWKS), and Mallory's two uploaded files under /u/mallory/. */
async function setup(t: { teardown(fn: () => unknown): void }, dpopYaml: (port: number) => string, extra = ''): Promise<Setup & { alice: SigningKey; mallory: SigningKey }> {
  const up = await startUpstream()
  const host = await startKeyHost()
  const alice = await newKey('ES256', 'alice-as')
  const mallory = await newKey('ES256', 'mallory')
  const o = (h = 'alice.test') => `https://${h}:${host.port}`
  host.route('/.well-known/oauth-authorization-server', json({ issuer: o(), jwks_uri: `${o()}/jwks` }, { contentType: 'application/json' }))
  host.route('/jwks', json({ keys: [alice.jwk] }, { contentType: 'application/json' }))
  host.route('/as/jwks', json({ keys: [alice.jwk] }, { contentType: 'application/json' }))
  // Mallory's uploads: what the old OpenID fallback under the token's path read.
  host.route('/u/mallory/.well-known/openid-configuration', json({ issuer: `${o()}/u/mallory`, jwks_uri: `${o()}/u/mallory/jwks` }, { contentType: 'application/json' }))
  host.route('/u/mallory/jwks', json({ keys: [mallory.jwk] }, { contentType: 'application/json' }))
  const gw = await startTestGateway({ upstream: up.url, publicOrigin: ORIGIN, acl: DEFAULT_ACL, extraConfig: `${keysConfig()}\ndpop:\n  enabled: true\n${dpopYaml(host.port)}${extra}` })
  t.teardown(async () => { await gw.close(); await host.close(); await up.close() })
  const get = async (path: string, token: string, client: SigningKey) => {
    const challenge = await rawRequest(gw.url, { path })
    const nonce = challenge.headers['dpop-nonce'] as string
    const res = await rawRequest(gw.url, { path, headers: [['Authorization', `DPoP ${token}`], ['DPoP', mintProof(client, { token, htm: 'GET', htu: ORIGIN + path, nowSec: nowSec(), nonce })]] })
    return { status: res.status, code: res.status === 200 ? undefined : (JSON.parse(res.body) as { code: string }).code }
  }
  return { host, get, up, gwUrl: gw.url, alice, mallory }
}

const mint = (issuerKey: SigningKey, issuer: string, client: SigningKey, claims: Record<string, unknown> = {}) =>
  mintToken(issuerKey, { issuer, audience: ORIGIN, client, nowSec: nowSec(), claims: { sub: 'mallory', ...claims } })

t.test('the upload-area takeover, no issuer pinned: a self-issued token with iss under alice.test/u/mallory is refused, nothing fetched', async (t) => {
  const { host, get, up, mallory, alice } = await setup(t, () => '')
  const client = await newKey('ES256')
  const evil = mint(mallory, `https://alice.test:${host.port}/u/mallory`, client)
  t.strictSame(await get('/foo', evil, client), { status: 401, code: 'token_issuer_not_allowed' })
  const slash = mint(mallory, `https://alice.test:${host.port}/u/mallory/`, client)
  t.strictSame(await get('/foo', slash, client), { status: 401, code: 'token_issuer_not_allowed' }, 'with a trailing slash too')
  t.equal(host.count('/u/mallory/.well-known/openid-configuration'), 0, 'Mallory\'s uploaded metadata was never read')
  t.equal(host.count(), 0, 'nothing at all was fetched for it')
  t.equal(up.seen.length, 0, 'the upstream never saw X-PoP-Identity: alice.test for Mallory')

  // Alice's own AS, at the origin: still discovered and accepted, in either spelling of its issuer.
  const own = mint(alice, `https://alice.test:${host.port}`, client, { sub: 'svc-a' })
  t.strictSame(await get('/foo', own, client), { status: 200, code: undefined })
  const ownSlash = mint(alice, `https://alice.test:${host.port}/`, client, { sub: 'svc-a' })
  t.strictSame(await get('/foo', ownSlash, client), { status: 200, code: undefined }, 'iss https://alice.test/ is the same issuer as the metadata\'s https://alice.test')
  t.equal(up.seen.at(-1)!.headers['x-pop-identity'], 'alice.test')
  t.equal(host.count('/u/mallory/jwks'), 0)
})

t.test('the upload-area takeover against a pinned host: another path of alice.test is not "unpinned", it is refused', async (t) => {
  const { host, get, up, mallory, alice } = await setup(t, (port) => `  issuers:\n    "https://alice.test:${port}/as":\n      jwksUri: https://alice.test:${port}/as/jwks\n`)
  const client = await newKey('ES256')
  for (const iss of [`/u/mallory`, `/u/mallory/`, ``, `/`, `/as/`]) {
    const token = mint(mallory, `https://alice.test:${host.port}${iss}`, client)
    t.strictSame(await get('/foo', token, client), { status: 401, code: 'token_issuer_not_allowed' }, `iss https://alice.test:port${iss} refused`)
  }
  t.equal(host.count(), 0, 'nothing was fetched: neither Mallory\'s files nor the origin\'s metadata')
  t.equal(up.seen.length, 0)

  const own = mint(alice, `https://alice.test:${host.port}/as`, client, { sub: 'svc-a' })
  t.strictSame(await get('/foo', own, client), { status: 200, code: undefined }, 'the pinned issuer passes')
  t.strictSame(host.requests.map((r) => r.path), ['/as/jwks'], 'with the pinned jwksUri only: no discovery')
})

t.test('a pinned https://alice.test and a token\'s https://alice.test/ are one issuer: pinned keys, never discovery', async (t) => {
  const { host, get, alice, mallory } = await setup(t, (port) => `  issuers:\n    "https://alice.test:${port}":\n      jwksUri: https://alice.test:${port}/as/jwks\n`)
  const client = await newKey('ES256')
  t.strictSame(await get('/foo', mint(alice, `https://alice.test:${host.port}/`, client), client), { status: 200, code: undefined })
  t.strictSame(await get('/foo', mint(mallory, `https://alice.test:${host.port}/u/mallory`, client), client), { status: 401, code: 'token_issuer_not_allowed' })
  t.strictSame(host.requests.map((r) => r.path), ['/as/jwks'], 'the pinned set, not the discovered metadata')
})

/** An RSA jwk nobody holds the private key of: a random odd modulus of `bits`, and `e`. */
const rsaJwk = (bits: number, e: string) => {
  const n = randomBytes(bits / 8)
  n[0]! |= 0x80
  n[n.length - 1]! |= 1
  return { kty: 'RSA', n: n.toString('base64url'), e }
}
const hugeExponent = () => {
  const e = randomBytes(3064 / 8)
  e[e.length - 1]! |= 1
  return e.toString('base64url')
}

t.test('proof keys and cnf.jwk bounded like key documents: a huge exponent or an oversized modulus is refused before any signature work', async (t) => {
  const { host, up, gwUrl, alice } = await setup(t, () => '')
  const iss = `https://alice.test:${host.port}`
  const client = await newKey('ES256')
  const nonce = (await rawRequest(gwUrl, { path: '/foo' })).headers['dpop-nonce'] as string
  const send = (token: string, proof: string) => rawRequest(gwUrl, { path: '/foo', headers: [['Authorization', `DPoP ${token}`], ['DPoP', proof]] })
  const rsa3072 = generateKeyPairSync('rsa', { modulusLength: 3072 }).publicKey.export({ format: 'jwk' }) as { n: string }
  const cases: [string, object][] = [
    ['RSA-3072 with a 3064-bit exponent', { kty: 'RSA', n: rsa3072.n, e: hugeExponent() }],
    ['RSA with a 8200-bit modulus', rsaJwk(8200, 'AQAB')],
    ['RSA with a 16,384-bit modulus', rsaJwk(16_384, 'AQAB')],
  ]
  for (const [name, jwk] of cases) {
    // The proof carries the hostile key; its signature is bytes nobody checks, because the key is refused first.
    const token = mint(alice, iss, client)
    const header = { typ: 'dpop+jwt', alg: 'RS256', jwk }
    const proofClaims = { jti: randomBytes(16).toString('base64url'), htm: 'GET', htu: `${ORIGIN}/foo`, iat: nowSec(), nonce }
    const unsigned = signJws(client, header, proofClaims).split('.').slice(0, 2).join('.')
    const res = await send(token, `${unsigned}.${randomBytes(384).toString('base64url')}`)
    t.equal(res.status, 401, name)
    t.match(JSON.parse(res.body), { code: 'dpop_proof_invalid', detail: /DPoP proof jwk (refused: an RSA key (has a public exponent other than 65537|is longer than 8192 bits)|n is too long)/ }, `${name}: refused in parse`)

    const bound = mintToken(alice, { issuer: iss, audience: ORIGIN, client, nowSec: nowSec(), claims: { cnf: { jwk } } })
    const res2 = await send(bound, mintProof(client, { token: bound, htm: 'GET', htu: `${ORIGIN}/foo`, nowSec: nowSec(), nonce }))
    t.equal(res2.status, 401, `${name} as cnf.jwk`)
    t.match(JSON.parse(res2.body), { code: 'token_invalid', detail: /token cnf\.jwk/ }, `${name} as cnf.jwk: refused in parse`)
  }
  t.equal(host.count(), 0, 'refused before the issuer\'s keys were even looked up')
  t.equal(up.seen.length, 0)
})

t.test('the signed assertion carries the token\'s sub, client_id and scope; the upstream verifies it', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'popgate-assertion-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  const secretsFile = join(dir, 'secrets.yaml')
  const key = JSON.stringify({ kid: 'a1', ...generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' }) })
  await writeFile(secretsFile, `nonce: [{ id: n1, secret: ${'b'.repeat(43)} }]\nassertion:\n  - ${key}\n`)
  const { host, get, up, gwUrl, alice } = await setup(t, () => '', `secrets:\n  file: ${secretsFile}\nidentityHeaders:\n  assertion: true\n`)
  const client = await newKey('ES256')
  const token = mint(alice, `https://alice.test:${host.port}`, client, { sub: 'svc-reports', client_id: 'svc-a', scope: 'api:read api:write' })
  t.strictSame(await get('/foo', token, client), { status: 200, code: undefined })
  const seen = up.seen.at(-1)!.headers
  const { payload } = await jwtVerify(seen['x-pop-assertion'] as string, createRemoteJWKSet(new URL(gwUrl + JWKS_PATH)), { issuer: ORIGIN, audience: up.url, typ: ASSERTION_TYPE, algorithms: ['ES256'] })
  t.match(payload, { sub: 'alice.test', auth_method: 'dpop', token_sub: 'svc-reports', client_id: 'svc-a', scope: 'api:read api:write' })
  t.equal(payload.token_sub, seen['x-pop-subject'], 'X-PoP-Subject is now signed')
  t.equal(payload.client_id, seen['x-pop-client-id'])
  t.equal(payload.scope, seen['x-pop-scope'])
})
