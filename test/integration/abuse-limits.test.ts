// Abuse limits: failed authentications per client and per claimed identity
// (429 + Retry-After), and the budget of new identity domains fetched per minute.

import t, { type Test } from 'tap'
import { startUpstream, startTestGateway, rawRequest } from '../helpers/harness.js'
import { startKeyHost, keysConfig } from '../helpers/identity.js'
import { signDomainPopProof } from '../../src/client/proof.js'
import { generateClientKey } from '../../src/client/keys.js'
import { createRateWindow } from '../../src/limits/window.js'

const ORIGIN = 'https://gw.test'
const ACL = `version: 1
rules:
  - path: /public/**
    public: true
  - path: /foo
    read: [alice.test, eu.alice.test, bob.test]
`

async function setup(t: Test, limits: string) {
  const up = await startUpstream()
  const kh = await startKeyHost()
  const gw = await startTestGateway({ upstream: up.url, publicOrigin: ORIGIN, acl: ACL, extraConfig: `${keysConfig()}\nlimits:\n${limits}` })
  t.teardown(async () => { await gw.close(); await up.close(); await kh.close() })
  const nonce = async () => (await rawRequest(gw.url, { path: '/foo' })).headers['domainpop-nonce'] as string
  return { up, kh, gw, nonce }
}

t.test('failed authentications per client address: then 429 with Retry-After, even for a valid proof', async (t) => {
  const { kh, gw, nonce } = await setup(t, '  failedAuthPerClientPerMinute: 3')
  const { key, keyUrl } = await kh.publish('alice.test')
  for (let i = 0; i < 5; i++) t.equal((await rawRequest(gw.url, { path: '/foo' })).status, 401, 'bare challenges do not count')
  for (let i = 0; i < 3; i++) t.equal((await rawRequest(gw.url, { path: '/foo', headers: [['Authorization', 'DomainPoP x.y.z']] })).status, 400)
  const valid = signDomainPopProof(key, { identity: 'alice.test', keyUrl, audience: ORIGIN, method: 'GET', path: '/foo', nonce: await nonce() })
  const res = await rawRequest(gw.url, { path: '/foo', headers: [['Authorization', `DomainPoP ${valid}`]] })
  t.equal(res.status, 429)
  t.equal(JSON.parse(res.body).code, 'rate_limited')
  t.ok(Number(res.headers['retry-after']) >= 1, 'Retry-After given')
  t.equal(kh.requests.length, 0, 'no key fetched while limited')
  t.equal((await rawRequest(gw.url, { path: '/public/x' })).status, 200, 'public routes are not limited')
})

t.test('failed authentications per claimed identity: then 429 before the key fetch', async (t) => {
  const { kh, gw, nonce } = await setup(t, '  failedAuthPerIdentityPerMinute: 2\n  failedAuthPerClientPerMinute: 1000')
  const { key, keyUrl } = await kh.publish('alice.test')
  const other = await generateClientKey('ES256') // signs with a key alice never published
  for (let i = 0; i < 2; i++) {
    const forged = signDomainPopProof({ ...other, kid: key.kid }, { identity: 'alice.test', keyUrl, audience: ORIGIN, method: 'GET', path: '/foo', nonce: await nonce() })
    const r = await rawRequest(gw.url, { path: '/foo', headers: [['Authorization', `DomainPoP ${forged}`]] })
    t.equal(JSON.parse(r.body).code, 'proof_signature_invalid')
  }
  const fetchesBefore = kh.requests.length
  const valid = signDomainPopProof(key, { identity: 'alice.test', keyUrl, audience: ORIGIN, method: 'GET', path: '/foo', nonce: await nonce() })
  const res = await rawRequest(gw.url, { path: '/foo', headers: [['Authorization', `DomainPoP ${valid}`]] })
  t.equal(res.status, 429)
  t.equal(kh.requests.length, fetchesBefore)
  // Another identity is unaffected.
  const bob = await kh.publish('bob.test')
  const bobProof = signDomainPopProof(bob.key, { identity: 'bob.test', keyUrl: bob.keyUrl, audience: ORIGIN, method: 'GET', path: '/foo', nonce: await nonce() })
  t.equal((await rawRequest(gw.url, { path: '/foo', headers: [['Authorization', `DomainPoP ${bobProof}`]] })).status, 200)
})

t.test('new identity domains fetched per minute are capped; cached domains keep working', async (t) => {
  const { kh, gw, nonce } = await setup(t, '  newKeyDomainsPerMinute: 1')
  const alice = await kh.publish('alice.test')
  const eu = await kh.publish('eu.alice.test')
  const call = async (id: string, k: typeof alice) => rawRequest(gw.url, { path: '/foo', headers: [['Authorization', `DomainPoP ${signDomainPopProof(k.key, { identity: id, keyUrl: k.keyUrl, audience: ORIGIN, method: 'GET', path: '/foo', nonce: await nonce() })}`]] })
  t.equal((await call('alice.test', alice)).status, 200)
  const second = await call('eu.alice.test', eu)
  t.equal(second.status, 401)
  t.equal(JSON.parse(second.body).code, 'key_fetch_busy')
  t.equal((await call('alice.test', alice)).status, 200, 'a cached domain is not affected')
  t.equal(kh.requests.length, 1)
})

t.test('rate window: sliding estimate, retry-after, bounded keys', async (t) => {
  const w = createRateWindow({ limit: 3, windowMs: 60_000, maxKeys: 10 })
  const t0 = 6_000_000
  for (let i = 0; i < 3; i++) w.hit('a', t0)
  t.ok(w.retryAfterSec('a', t0) > 0)
  t.equal(w.retryAfterSec('b', t0), 0)
  // Half way into the next window, half of the previous count still weighs.
  t.ok(w.retryAfterSec('a', t0 + 90_000) === 0, '3 × 0.5 = 1.5 < 3')
  w.hit('a', t0 + 90_000); w.hit('a', t0 + 90_000)
  t.ok(w.retryAfterSec('a', t0 + 90_000) > 0, '1.5 + 2 ≥ 3')
  t.equal(w.retryAfterSec('a', t0 + 300_000), 0, 'forgotten after two windows')
  for (let i = 0; i < 50; i++) w.hit(`k${i}`, t0 + 300_000)
  t.ok(w.size <= 10, 'never more than maxKeys remembered')
})

t.test('too many header fields → 431, not a silently truncated header list', async (t) => {
  const up = await startUpstream()
  const gw = await startTestGateway({ upstream: up.url, extraConfig: 'limits:\n  maxHeaderCount: 20' })
  t.teardown(async () => { await gw.close(); await up.close() })
  const many: [string, string][] = Array.from({ length: 25 }, (_, i) => [`X-H${i}`, 'v'])
  const res = await rawRequest(gw.url, { path: '/public/x', headers: many })
  t.equal(res.status, 431)
  t.equal(JSON.parse(res.body).code, 'headers_too_large')
  // A second Authorization hidden past the count limit is not silently dropped.
  const hidden = await rawRequest(gw.url, { path: '/foo', headers: [['Authorization', 'DomainPoP a.b.c'], ...many, ['Authorization', 'DomainPoP d.e.f']] })
  t.equal(hidden.status, 431)
  t.equal((await rawRequest(gw.url, { path: '/public/x', headers: many.slice(0, 10) })).status, 200)
  t.equal(up.seen.length, 1)
  t.equal(await gw.metrics.value('popgate_rate_limited_total', { scope: 'header_count' }), 2)
})

t.test('slowloris: a client that never finishes its headers is cut off after timeouts.clientHeaders', async (t) => {
  const up = await startUpstream()
  const gw = await startTestGateway({ upstream: up.url, extraConfig: 'timeouts:\n  clientHeaders: 400ms\n  clientRequest: 800ms' })
  t.teardown(async () => { await gw.close(); await up.close() })
  const net = await import('node:net')
  const started = Date.now()
  const out = await new Promise<string>((resolve) => {
    const s = net.connect(gw.gw.http.port, '127.0.0.1', () => s.write('GET /public/x HTTP/1.1\r\nHost: gw.test\r\nX-Slow: '))
    let text = ''
    const drip = setInterval(() => { if (!s.destroyed) s.write('a') }, 100) // keeps sending, never finishes
    s.on('data', (d) => { text += d })
    s.on('close', () => { clearInterval(drip); resolve(text) })
    s.on('error', () => {})
  })
  const tookMs = Date.now() - started
  t.match(out, /^HTTP\/1\.1 408/, 'answered 408')
  t.ok(tookMs < 3000, `cut off after ${tookMs} ms (limit 400 ms, checked every ≤ 200 ms)`)
  t.equal(up.seen.length, 0)
})
