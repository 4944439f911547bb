// The reference key host (PROTOCOL.md §2.1): publishes public keys only, to
// the domain's own authenticated user, serves them as JWK sets with a cache
// lifetime, expires and revokes them. Real sockets on 127.0.0.1:0; the clock
// is injected.

import t from 'tap'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { generateKeyPairSync, type KeyObject } from 'node:crypto'
import { mkdtemp, writeFile, readdir, rm, mkdir } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { calculateJwkThumbprint, type JWK } from 'jose'
import { createKeyHostHandler, bearerTokenFromFile, checkPublishableJwk } from '../../../src/keyhost/server.js'
import { createMemoryKeyStore, createDirKeyStore, type KeyStore } from '../../../src/keyhost/store.js'

const TOKEN = 'tok-' + 'x'.repeat(40)
const PREFIX = '/.well-known/domainpop/keys'
const ORIGIN = 'https://alice.test'

const dir = await mkdtemp(join(tmpdir(), 'popgate-keyhost-'))
t.teardown(() => rm(dir, { recursive: true, force: true }))
const tokenFile = join(dir, 'token')
await writeFile(tokenFile, TOKEN + '\n') // a trailing newline, as editors write it

const publicJwk = (k: KeyObject): JWK => k.export({ format: 'jwk' }) as JWK
const ecKey = () => generateKeyPairSync('ec', { namedCurve: 'P-256' })
const EC = ecKey()
const EC_PUBLIC = publicJwk(EC.publicKey)

interface Host { url: string; clock: { ms: number }; store: KeyStore; close(): Promise<void> }

async function startHost(opts: { store?: KeyStore; keyTtlMs?: number; cacheMaxAgeSec?: number } = {}): Promise<Host> {
  const clock = { ms: Date.UTC(2030, 0, 1) }
  const store = opts.store ?? createMemoryKeyStore()
  const handler = createKeyHostHandler({
    identity: 'alice.test', store, authorize: bearerTokenFromFile(tokenFile), publicOrigin: ORIGIN,
    keyTtlMs: opts.keyTtlMs, cacheMaxAgeSec: opts.cacheMaxAgeSec, now: () => clock.ms,
  })
  const server = http.createServer(handler)
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  const port = (server.address() as AddressInfo).port
  return {
    url: `http://127.0.0.1:${port}`, clock, store,
    close: () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()) }),
  }
}

const auth = (token = TOKEN) => ({ authorization: `Bearer ${token}` })
const post = (h: Host, body: unknown, headers: Record<string, string> = auth()) =>
  fetch(h.url + PREFIX, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body) })

const host = await startHost({ keyTtlMs: 3600_000, cacheMaxAgeSec: 600 })
t.teardown(() => host.close())

t.test('POST a public JWK with the right token → 201 with keyUrl; GET serves it', async (t) => {
  const res = await post(host, EC_PUBLIC)
  t.equal(res.status, 201)
  const body = await res.json() as { keyUrl: string; kid: string; expiresAt: string }
  const kid = await calculateJwkThumbprint(EC_PUBLIC, 'sha256')
  t.equal(body.kid, kid, 'the id is the RFC 7638 thumbprint')
  t.equal(body.keyUrl, `${ORIGIN}${PREFIX}/${kid}`)
  t.equal(body.expiresAt, new Date(host.clock.ms + 3600_000).toISOString())

  const got = await fetch(`${host.url}${PREFIX}/${kid}`)
  t.equal(got.status, 200)
  t.equal(got.headers.get('content-type'), 'application/jwk-set+json')
  t.equal(got.headers.get('cache-control'), 'max-age=600')
  const doc = await got.json() as { keys: JWK[] }
  t.same(doc, { keys: [{ kty: 'EC', crv: 'P-256', x: EC_PUBLIC.x, y: EC_PUBLIC.y, use: 'sig' }] })
  t.notOk('d' in doc.keys[0]!)
})

t.test('publishing needs the token: wrong or missing → 401, nothing stored', async (t) => {
  const k = publicJwk(ecKey().publicKey)
  const kid = await calculateJwkThumbprint(k, 'sha256')
  for (const [why, headers] of [
    ['no Authorization', {}],
    ['wrong token', auth('tok-wrong')],
    ['token plus a suffix', auth(TOKEN + 'x')],
    ['token prefix', auth(TOKEN.slice(0, -1))],
    ['other scheme', { authorization: `Basic ${TOKEN}` }],
    ['lowercase scheme', { authorization: `bearer ${TOKEN}` }],
    ['trailing garbage', { authorization: `Bearer ${TOKEN} x` }],
  ] as [string, Record<string, string>][]) {
    const res = await post(host, k, headers)
    t.equal(res.status, 401, why)
    t.equal(res.headers.get('www-authenticate'), 'Bearer')
  }
  t.equal(await host.store.get(kid), undefined)
  t.equal((await fetch(`${host.url}${PREFIX}/${kid}`)).status, 404)
})

t.test('an empty token file lets nobody publish', async (t) => {
  const empty = join(dir, 'empty-token')
  await writeFile(empty, '\n')
  const check = bearerTokenFromFile(empty)
  const fake = (authorization?: string) => ({ headers: authorization === undefined ? {} : { authorization } }) as http.IncomingMessage
  for (const a of [undefined, '', 'Bearer', 'Bearer ', 'Bearer \n']) t.equal(check(fake(a)), false, JSON.stringify(a))
  t.equal(bearerTokenFromFile(tokenFile)(fake(`Bearer ${TOKEN}`)), true, 'the real token works')
})

t.test('private members → 400, whole document refused', async (t) => {
  const full = EC.privateKey.export({ format: 'jwk' }) as Record<string, unknown>
  for (const m of ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k']) {
    const body = m === 'd' ? full : { ...EC_PUBLIC, [m]: 'AAAA' }
    const res = await post(host, body)
    t.equal(res.status, 400, `member ${m}`)
    t.match(await res.json(), { error: 'invalid_key', error_description: new RegExp(`private member "${m}"`) })
  }
  t.same(await host.store.list().then((l) => l.filter((k) => 'd' in k.jwk)), [], 'no private key was ever stored')
})

t.test('unsupported or broken keys → 400', async (t) => {
  const cases: [string, unknown][] = [
    ['symmetric', { kty: 'oct', k: 'AAAA' }],
    ['oct without k', { kty: 'oct' }],
    ['EC P-521', publicJwk(generateKeyPairSync('ec', { namedCurve: 'P-521' }).publicKey)],
    ['secp256k1', publicJwk(generateKeyPairSync('ec', { namedCurve: 'secp256k1' }).publicKey)],
    ['X25519 (not a signing key)', publicJwk(generateKeyPairSync('x25519').publicKey)],
    ['Ed448', publicJwk(generateKeyPairSync('ed448').publicKey)],
    ['RSA 1024', publicJwk(generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey)],
    ['RSA 2047', publicJwk(generateKeyPairSync('rsa', { modulusLength: 2047 }).publicKey)],
    ['EC point not on the curve', { ...EC_PUBLIC, y: EC_PUBLIC.x }],
    ['EC without y', { kty: 'EC', crv: 'P-256', x: EC_PUBLIC.x }],
    ['use enc', { ...EC_PUBLIC, use: 'enc' }],
    ['no kty', {}],
    ['a JWK set instead of a JWK', { keys: [EC_PUBLIC] }],
    ['an array', [EC_PUBLIC]],
    ['null', null],
    ['a string', 'abc'],
  ]
  for (const [why, body] of cases) {
    const res = await post(host, JSON.stringify(body))
    t.equal(res.status, 400, why)
  }
  t.equal((await post(host, '{not json')).status, 400, 'not JSON')
  const big = { ...EC_PUBLIC, pad: 'x'.repeat(20_000) }
  const status = await post(host, JSON.stringify(big)).then((r) => r.status, () => 'connection closed')
  t.not(status, 201, 'a body over 16 KiB is never accepted')
  t.equal(status, 413, 'a body over 16 KiB gets an answer')
})

t.test('accepted key types, cleaned to their public members', async (t) => {
  const rsa = publicJwk(generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey)
  const ed = publicJwk(generateKeyPairSync('ed25519').publicKey)
  const p384 = publicJwk(generateKeyPairSync('ec', { namedCurve: 'P-384' }).publicKey)
  for (const [why, k] of [['RSA 2048', rsa], ['Ed25519', ed], ['P-384', p384]] as [string, JWK][]) {
    const res = await post(host, { ...k, kid: 'mine', x5u: 'https://evil.example/' })
    t.equal(res.status, 201, why)
  }
  t.same(checkPublishableJwk({ ...EC_PUBLIC, kid: 'k', ext: true, key_ops: ['sign'], x5c: ['AAAA'] }), { ...EC_PUBLIC, use: 'sig' }, 'unknown members dropped')
})

t.test('a key expires after its TTL; Cache-Control never outlives it', async (t) => {
  const h = await startHost({ keyTtlMs: 1000_000, cacheMaxAgeSec: 600 })
  t.teardown(() => h.close())
  const k = publicJwk(ecKey().publicKey)
  const { kid } = await (await post(h, k)).json() as { kid: string }
  const get = () => fetch(`${h.url}${PREFIX}/${kid}`)
  t.equal((await get()).headers.get('cache-control'), 'max-age=600')
  h.clock.ms += 1000_000 - 100_000 // 100 s left
  t.equal((await get()).headers.get('cache-control'), 'max-age=100', 'clamped to the remaining lifetime')
  h.clock.ms += 100_000 - 1
  t.equal((await get()).status, 200, 'one millisecond before expiry')
  h.clock.ms += 1
  t.equal((await get()).status, 404, 'expired')
})

t.test('DELETE revokes (with the token only)', async (t) => {
  const k = publicJwk(ecKey().publicKey)
  const { kid } = await (await post(host, k)).json() as { kid: string }
  const del = (headers: Record<string, string>) => fetch(`${host.url}${PREFIX}/${kid}`, { method: 'DELETE', headers })
  t.equal((await del({})).status, 401, 'no token')
  t.equal((await del(auth('nope'))).status, 401, 'wrong token')
  t.equal((await fetch(`${host.url}${PREFIX}/${kid}`)).status, 200, 'still served')
  t.equal((await del(auth())).status, 204)
  t.equal((await fetch(`${host.url}${PREFIX}/${kid}`)).status, 404, 'revoked')
  t.equal((await del(auth())).status, 404, 'twice: not found')
})

t.test('other methods and paths → 404', async (t) => {
  t.equal((await fetch(`${host.url}/`)).status, 404)
  t.equal((await fetch(`${host.url}${PREFIX}`)).status, 404, 'no listing')
  t.equal((await fetch(`${host.url}${PREFIX}/`)).status, 404)
  t.equal((await fetch(`${host.url}${PREFIX}/nope`, { method: 'PUT', body: '{}' })).status, 404)
})

t.test('dir store: survives a new store instance on the same dir', async (t) => {
  const storeDir = join(dir, 'keys')
  const h1 = await startHost({ store: createDirKeyStore(storeDir) })
  const k = publicJwk(ecKey().publicKey)
  const { kid } = await (await post(h1, k)).json() as { kid: string }
  await h1.close()
  t.same(await readdir(storeDir), [`${kid}.json`], 'one file per key, no temp file left')

  const h2 = await startHost({ store: createDirKeyStore(storeDir) })
  t.teardown(() => h2.close())
  const got = await fetch(`${h2.url}${PREFIX}/${kid}`)
  t.equal(got.status, 200)
  t.same((await got.json() as { keys: JWK[] }).keys[0]!.x, k.x)
  t.equal((await h2.store.list()).length, 1)
  t.equal((await fetch(`${h2.url}${PREFIX}/${kid}`, { method: 'DELETE', headers: auth() })).status, 204)
  t.same(await readdir(storeDir), [], 'revoked: the file is gone')
})

t.test('path traversal ids are rejected', async (t) => {
  const storeDir = join(dir, 'trav', 'keys')
  await mkdir(storeDir, { recursive: true })
  const outside = join(dir, 'trav', 'secret.json')
  const stored = { id: 'secret', jwk: EC_PUBLIC, expiresAtMs: Date.UTC(2100, 0, 1) }
  await writeFile(outside, JSON.stringify(stored))
  const store = createDirKeyStore(storeDir)
  for (const id of ['../../secret', '..%2Fsecret', '..\\secret', '/etc/passwd', 'a/b', '.', '..', '', 'x'.repeat(65), 'secret.json', 'a\0b']) {
    t.equal(await store.get(id), undefined, `get ${JSON.stringify(id)}`)
    t.equal(await store.delete(id), false, `delete ${JSON.stringify(id)}`)
    await t.rejects(store.put({ ...stored, id }), `put ${JSON.stringify(id)}`)
  }
  t.same(await readdir(join(dir, 'trav')), ['keys', 'secret.json'], 'nothing written or removed outside the dir')

  const h = await startHost({ store })
  t.teardown(() => h.close())
  for (const path of [`${PREFIX}/../secret`, `${PREFIX}/..%2Fsecret`, `${PREFIX}/..%2F..%2Fsecret`, `${PREFIX}/%2e%2e/secret`]) {
    const res = await new Promise<number>((resolve, reject) => {
      // http.request sends the path verbatim (fetch would normalize "..").
      http.request({ host: '127.0.0.1', port: new URL(h.url).port, path, agent: false }, (r) => { r.resume(); resolve(r.statusCode!) }).on('error', reject).end()
    })
    t.equal(res, 404, path)
  }
  const del = await new Promise<number>((resolve, reject) => {
    http.request({ host: '127.0.0.1', port: new URL(h.url).port, path: `${PREFIX}/../secret`, method: 'DELETE', headers: auth(), agent: false }, (r) => { r.resume(); resolve(r.statusCode!) }).on('error', reject).end()
  })
  t.equal(del, 404, 'DELETE ../secret with the token')
  t.same(await readdir(join(dir, 'trav')), ['keys', 'secret.json'])
})
