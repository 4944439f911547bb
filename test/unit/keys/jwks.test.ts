// An issuer's JWK Set (keys/jwks.ts): parsing (RFC 7517 §5), selection by
// kid / alg / kty / use (RFC 7517 §4, RFC 7515 §4.1.4), and the reader on the
// cached-document layer, against a real HTTPS key host that counts requests,
// with an injected clock.

import t, { type Test } from 'tap'
import { generateKeyPairSync, sign, verify } from 'node:crypto'
import type { JWK } from 'jose'
import { createJwksReader, parseJwks, selectJwks, type JwksReaderDeps } from '../../../src/keys/jwks.js'
import type { KeysConfig } from '../../../src/keys/index.js'
import { GatewayError } from '../../../src/errors.js'
import { startKeyHost, json, keysConfig } from '../../helpers/key-host.js'

const host = await startKeyHost()
t.teardown(() => host.close())
const START = Date.parse('2030-01-01T00:00:00Z')

const ec = (namedCurve = 'P-256') => {
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve })
  return { pub: publicKey.export({ format: 'jwk' }) as JWK, privateKey }
}
const ed = () => generateKeyPairSync('ed25519').publicKey.export({ format: 'jwk' }) as JWK
const rsa = () => generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({ format: 'jwk' }) as JWK
const set = (...keys: unknown[]): string => JSON.stringify({ keys })

/** "<code>: <detail>" or "ok". */
function parseOutcome(body: string): string {
  try {
    parseJwks(body)
    return 'ok'
  } catch (err) {
    return err instanceof GatewayError ? `${err.code}: ${err.detail}` : `not a GatewayError: ${String(err)}`
  }
}

t.test('parse: the issuer\'s own kids are kept as written, not replaced by thumbprints', async (t) => {
  const a = ec()
  const s = parseJwks(set({ ...a.pub, kid: 'signing-2030-01', use: 'sig', alg: 'ES256' }, { ...ed(), kid: 'ed' }, rsa()))
  t.same(s.keys.map((k) => [k.kid, k.kty, k.crv, k.alg, k.use]), [
    ['signing-2030-01', 'EC', 'P-256', 'ES256', 'sig'],
    ['ed', 'OKP', 'Ed25519', undefined, undefined],
    [undefined, 'RSA', undefined, undefined, undefined],
  ])
  t.equal(s.keys[0]!.keyObject.type, 'public')
  t.ok(Object.isFrozen(s.keys) && Object.isFrozen(s.keys[0]))
})

t.test('parse: what a key set must be', async (t) => {
  const a = ec()
  t.match(parseOutcome(JSON.stringify(a.pub)), /^key_document_invalid: key document must be a JWK Set/, 'a lone JWK is not a set (RFC 8414 jwks_uri is a JWK Set)')
  t.match(parseOutcome(set({ ...a.pub, d: 'x' }, ec().pub)), /private key member \(d\)/, 'a private member anywhere refuses the whole set')
  t.match(parseOutcome(set({ kty: 'oct', k: 'c2VjcmV0' })), /private key member \(k\)/, 'so does a symmetric key')
  t.match(parseOutcome(set({ ...a.pub, kid: 7 })), /kid is not a string/)
  t.match(parseOutcome(set({ ...a.pub, use: 'enc' })), /no usable signing key \(a key has use other than sig\)/, 'encryption keys are not kept')
  t.match(parseOutcome(set({ ...a.pub, key_ops: ['encrypt'] })), /key_ops without verify/)
  t.match(parseOutcome(set({ ...a.pub, kid: 'k'.repeat(257) })), /kid is longer than 256/)
  t.equal(parseOutcome(set({ ...a.pub, use: 'enc' }, { ...a.pub, use: 'sig' })), 'ok', 'an enc key beside a sig key is skipped, not fatal')
  t.match(parseOutcome(set(...Array.from({ length: 33 }, () => a.pub))), /more than 32 keys/)
})

t.test('select: by kid, by alg\'s key type and curve, by the key\'s own alg', async (t) => {
  const p256 = ec()
  const p384 = ec('P-384')
  const s = parseJwks(set(
    { ...p256.pub, kid: 'a', alg: 'ES256' },
    { ...p384.pub, kid: 'b' },
    { ...ed(), kid: 'c' },
    { ...rsa(), kid: 'd', alg: 'PS256' },
    { ...rsa(), kid: 'same' },
    { ...ec().pub, kid: 'same' },
  ))
  const kids = (alg: string, kid?: string) => selectJwks(s, { alg, kid }).map((k) => `${k.kid}/${k.kty}`)
  t.same(kids('ES256', 'a'), ['a/EC'])
  t.same(kids('ES384', 'a'), [], 'a P-256 key never serves ES384')
  t.same(kids('ES384', 'b'), ['b/EC'])
  t.same(kids('EdDSA', 'c'), ['c/OKP'])
  t.same(kids('Ed25519', 'c'), ['c/OKP'], 'Ed25519 and EdDSA name the same keys')
  t.same(kids('ES256', 'c'), [], 'an OKP key never serves ES256')
  t.same(kids('PS256', 'd'), ['d/RSA'])
  t.same(kids('RS256', 'd'), [], 'a key bound to PS256 does not serve RS256 (RFC 7517 §4.4)')
  t.same(kids('RS256', 'same'), ['same/RSA'], 'one kid on two key types: the type decides (RFC 7517 §4.5)')
  t.same(kids('ES256', 'same'), ['same/EC'])
  t.same(kids('ES256', 'nope'), [])
  t.same(kids('ES256'), ['a/EC', 'same/EC'], 'without a kid, every key that fits')
  t.same(kids('HS256', 'a'), [], 'an algorithm outside the table selects nothing')
  t.same(kids('__proto__'), [])
})

interface Reader { reader: ReturnType<typeof createJwksReader>; advance(ms: number): void }
function reader(t: Test, cfg: Partial<KeysConfig> = {}, deps: JwksReaderDeps = {}): Reader {
  const clock = { ms: START }
  const r = createJwksReader(keysConfig(cfg), { now: () => clock.ms, ...deps })
  t.teardown(() => r.close())
  return { reader: r, advance: (ms) => { clock.ms += ms } }
}
let counter = 0
const freshPath = () => `/jwks/${++counter}.json`
async function outcome(p: Promise<{ kid: string | undefined }>): Promise<string> {
  try {
    return `ok:${(await p).kid}`
  } catch (err) {
    return err instanceof GatewayError ? err.code : `not a GatewayError: ${String(err)}`
  }
}

t.test('reader: a pinned jwks_uri on another host than the issuer; the key verifies the issuer\'s signature', async (t) => {
  const k = ec()
  const path = freshPath()
  host.route(path, json(set({ ...k.pub, kid: 'as-1', alg: 'ES256', use: 'sig' }), { contentType: 'application/json', headers: { 'cache-control': 'max-age=600' } }))
  const { reader: r } = reader(t)
  // The issuer is as.alice.test; its keys are served from bob.test (the operator pinned them there).
  const uri = new URL(host.url('bob.test', path))
  const key = await r.getKey(uri, 'https://as.alice.test', { alg: 'ES256', kid: 'as-1' })
  t.equal(key.kid, 'as-1')
  const data = Buffer.from('header.payload')
  t.ok(verify('sha256', data, { key: key.keyObject, dsaEncoding: 'ieee-p1363' }, sign('sha256', data, { key: k.privateKey, dsaEncoding: 'ieee-p1363' })))
  t.equal(await outcome(r.getKey(uri, 'https://as.alice.test', { alg: 'ES256', kid: 'as-1' })), 'ok:as-1')
  t.equal(host.count(path), 1, 'cached')
  t.equal(host.requests.at(-1)!.headers.accept, 'application/jwk-set+json, application/json')
})

t.test('reader: an unknown kid refreshes the set at most once per cooldown (rotation)', async (t) => {
  const k1 = ec()
  const k2 = ec()
  const path = freshPath()
  host.route(path, json(set({ ...k1.pub, kid: 'k1' }), { headers: { 'cache-control': 'max-age=3600' } }))
  const { reader: r, advance } = reader(t, { refetchCooldownMs: 30_000 })
  const uri = new URL(host.url('bob.test', path))
  const get = (kid: string) => outcome(r.getKey(uri, 'https://as.test', { alg: 'ES256', kid }))
  t.equal(await get('k2'), 'key_not_found')
  t.equal(await get('k2'), 'key_not_found')
  t.equal(host.count(path), 1, 'inside the cooldown: no refetch')
  host.route(path, json(set({ ...k1.pub, kid: 'k1' }, { ...k2.pub, kid: 'k2' }), { headers: { 'cache-control': 'max-age=3600' } }))
  advance(30_000)
  t.equal(await get('k2'), 'ok:k2', 'the rotated key is found after one refetch')
  t.equal(await get('k1'), 'ok:k1')
  t.equal(host.count(path), 2)
})

t.test('reader: a header without kid must select exactly one key', async (t) => {
  const path = freshPath()
  host.route(path, json(set({ ...ec().pub, kid: 'x' }, { ...ec().pub, kid: 'y' }, { ...ed(), kid: 'z' })))
  const { reader: r } = reader(t)
  const uri = new URL(host.url('bob.test', path))
  t.equal(await outcome(r.getKey(uri, 'https://as.test', { alg: 'EdDSA' })), 'ok:z', 'one Ed25519 key: no kid needed')
  t.equal(await outcome(r.getKey(uri, 'https://as.test', { alg: 'ES256' })), 'key_not_found', 'two P-256 keys: ambiguous')
})

t.test('reader: the same limits as DomainPoP key documents, per issuer', async (t) => {
  const paths = [freshPath(), freshPath(), freshPath()]
  for (const p of paths) host.route(p, json(set({ ...ec().pub, kid: 'k' })))
  host.route('/jwks/metadata-not-a-set', json({ issuer: 'https://as.test' }, { contentType: 'text/html' }))
  const refused: string[] = []
  const { reader: r } = reader(t, { maxUrlsPerIdentity: 2 }, { onRefused: (reason, issuer) => { refused.push(`${reason} ${issuer}`) } })
  const get = (p: string, issuer = 'https://as.test') => outcome(r.getKey(new URL(host.url('bob.test', p)), issuer, { alg: 'ES256', kid: 'k' }))
  t.equal(await get(paths[0]!), 'ok:k')
  t.equal(await get(paths[1]!), 'ok:k')
  t.equal(await get(paths[2]!), 'key_fetch_quota', 'a third set for one issuer is refused')
  t.same(refused, ['urls_per_owner https://as.test'])
  t.equal(host.count(paths[2]!), 0)
  t.equal(await get(paths[2]!, 'https://other-as.test'), 'ok:k', 'another issuer is counted apart')
  t.equal(await get('/jwks/metadata-not-a-set', 'https://third.test'), 'key_fetch_content_type', 'the response policy applies')
})
