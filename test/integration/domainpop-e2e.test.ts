// The seed flow end to end over real sockets (issue "DomainPoP", done-when 1):
// 401 with nonce → key published on the identity's domain over HTTPS →
// proof → 200, and the upstream sees the identity headers.

import t, { type Test } from 'tap'
import { startUpstream, startTestGateway, rawRequest, waitFor } from '../helpers/harness.js'
import { startKeyHost, keysConfig } from '../helpers/identity.js'
import { createDomainPopFetch } from '../../src/client/fetch.js'
import { signDomainPopProof } from '../../src/client/proof.js'

const ORIGIN = 'https://gw.test'

async function setup(t: Test, opts: { now?: () => number } = {}) {
  const up = await startUpstream()
  const kh = await startKeyHost()
  const gw = await startTestGateway({ upstream: up.url, publicOrigin: ORIGIN, extraConfig: keysConfig(), now: opts.now })
  t.teardown(async () => { await gw.close(); await up.close(); await kh.close() })
  return { up, kh, gw }
}

t.test('challenge → proof → 200 with identity headers upstream', async (t) => {
  const { up, kh, gw } = await setup(t)
  const { key, keyUrl } = await kh.publish('alice.test')
  const seen: number[] = []
  const f = createDomainPopFetch({ identity: 'alice.test', keyUrl, privateKey: key, audience: ORIGIN,
    fetch: async (u, i) => { const r = await fetch(u, i); seen.push(r.status); return r } })
  const res = await f(`${gw.url}/foo`)
  t.equal(res.status, 200)
  t.equal(await res.text(), 'upstream ok')
  t.same(seen, [401, 200], 'first call was challenged, the retry carried a proof')
  const h = up.seen[0]!.headers
  t.equal(h['x-pop-identity'], 'alice.test')
  t.equal(h['x-pop-auth-method'], 'domainpop')
  t.equal(h['x-pop-key-thumbprint'], key.kid)
  t.notOk(h.authorization, 'Authorization is not forwarded')
  t.equal(kh.requests.length, 1, 'one key fetch')

  // The nonce is cached: the next call needs no challenge, and the key comes from cache.
  const again = await f(`${gw.url}/reports/q3`)
  t.equal(again.status, 200)
  t.same(seen, [401, 200, 200])
  t.equal(kh.requests.length, 1, 'key served from cache')
})

t.test('authorize before fetching: an identity the ACL does not allow gets 403 and the key host gets zero requests', async (t) => {
  const { up, kh, gw } = await setup(t)
  const { key, keyUrl } = await kh.publish('bob.test')
  const f = createDomainPopFetch({ identity: 'bob.test', keyUrl, privateKey: key, audience: ORIGIN })
  const res = await f(`${gw.url}/foo`)
  t.equal(res.status, 403)
  const body = await res.json() as { code: string }
  t.equal(body.code, 'forbidden')
  t.match(res.headers.get('www-authenticate'), /error="insufficient_scope"/)
  t.equal(kh.requests.length, 0, 'nothing fetched for a forbidden identity')
  t.equal(up.seen.length, 0)
  // Even a write by alice on a read-only rule is refused before fetching.
  const alice = await kh.publish('alice.test')
  const fa = createDomainPopFetch({ identity: 'alice.test', keyUrl: alice.keyUrl, privateKey: alice.key, audience: ORIGIN })
  t.equal((await fa(`${gw.url}/foo`, { method: 'POST', body: 'x' })).status, 403)
  t.equal(kh.requests.length, 0)
})

t.test('a replayed proof is refused; the upstream saw it once', async (t) => {
  const { up, kh, gw } = await setup(t)
  const { key, keyUrl } = await kh.publish('alice.test')
  const nonce = (await rawRequest(gw.url, { path: '/foo' })).headers['domainpop-nonce'] as string
  const proof = signDomainPopProof(key, { identity: 'alice.test', keyUrl, audience: ORIGIN, method: 'GET', path: '/foo', nonce })
  const first = await rawRequest(gw.url, { path: '/foo', headers: [['Authorization', `DomainPoP ${proof}`]] })
  t.equal(first.status, 200)
  const second = await rawRequest(gw.url, { path: '/foo', headers: [['Authorization', `DomainPoP ${proof}`]] })
  t.equal(second.status, 401)
  t.equal(JSON.parse(second.body).code, 'proof_replayed')
  t.match(second.headers['www-authenticate'], /error="invalid_proof"/)
  t.ok(second.headers['domainpop-nonce'], 'every 401 carries a fresh nonce')
  t.equal(up.seen.length, 1)
})

t.test('200 concurrent first proofs from one domain cause exactly one key fetch', async (t) => {
  const { up, kh, gw } = await setup(t)
  const { key, keyUrl } = await kh.publish('alice.test')
  const nonce = (await rawRequest(gw.url, { path: '/foo' })).headers['domainpop-nonce'] as string
  const results = await Promise.all(Array.from({ length: 200 }, () => {
    const proof = signDomainPopProof(key, { identity: 'alice.test', keyUrl, audience: ORIGIN, method: 'GET', path: '/foo', nonce })
    return rawRequest(gw.url, { path: '/foo', headers: [['Authorization', `DomainPoP ${proof}`]] })
  }))
  t.same(new Set(results.map((r) => r.status)), new Set([200]))
  t.equal(kh.requests.length, 1)
  t.equal(up.seen.length, 200)
})

t.test('a nonce past half its life brings a fresh DomainPoP-Nonce on the 200', async (t) => {
  let nowMs = Date.now()
  const { kh, gw } = await setup(t, { now: () => nowMs })
  const { key, keyUrl } = await kh.publish('alice.test')
  const nonce = (await rawRequest(gw.url, { path: '/foo' })).headers['domainpop-nonce'] as string
  const call = () => rawRequest(gw.url, { path: '/foo', headers: [['Authorization', `DomainPoP ${signDomainPopProof(key, { identity: 'alice.test', keyUrl, audience: ORIGIN, method: 'GET', path: '/foo', nonce, iatSec: Math.floor(nowMs / 1000) })}`]] })
  const young = await call()
  t.equal(young.status, 200)
  t.notOk(young.headers['domainpop-nonce'], 'young nonce: no refresh')
  nowMs += 200_000 // ttl 300 s
  const old = await call()
  t.equal(old.status, 200)
  t.ok(old.headers['domainpop-nonce'], 'old nonce: fresh one offered')
  t.not(old.headers['domainpop-nonce'], nonce)
  nowMs += 120_000 // past the ttl
  const stale = await call()
  t.equal(stale.status, 401)
  t.equal(JSON.parse(stale.body).code, 'nonce_stale')
  t.match(stale.headers['www-authenticate'], /error="use_nonce"/)
})

t.test('a client that leaves while its key is being fetched is not forwarded, and nothing hangs', async (t) => {
  const { up, kh, gw } = await setup(t)
  const { key, keyUrl } = await kh.publish('alice.test')
  kh.delayMs = 300
  const nonce = (await rawRequest(gw.url, { path: '/foo' })).headers['domainpop-nonce'] as string
  const proof = signDomainPopProof(key, { identity: 'alice.test', keyUrl, audience: ORIGIN, method: 'GET', path: '/foo', nonce })
  const net = await import('node:net')
  const sock = net.connect(gw.gw.http.port, '127.0.0.1', () => sock.end(`GET /foo HTTP/1.1\r\nHost: gw.test\r\nAuthorization: DomainPoP ${proof}\r\n\r\n`))
  sock.on('data', () => {})
  await new Promise((r) => sock.on('close', r))
  // The key fetch finishes after the client left: wait for it, not for a guessed time.
  await waitFor(() => { const k = gw.gw.holder.current.keys.stats(); return k.fetches === 1 && k.inFlight === 0 })
  await waitFor(() => gw.log.lines.some((l) => l.msg === 'access'))
  const pool = gw.gw.holder.current.upstream.pool.stats
  t.equal(pool.running + pool.pending, 0, 'no upstream exchange left running')
  t.equal(up.seen.length, 0, 'nothing forwarded for a client that is gone')
})

t.test('Ed25519 keys work end to end', async (t) => {
  const { up, kh, gw } = await setup(t)
  const { key, keyUrl } = await kh.publish('alice.test', 'Ed25519')
  const f = createDomainPopFetch({ identity: 'alice.test', keyUrl, privateKey: key, audience: ORIGIN })
  t.equal((await f(`${gw.url}/foo`)).status, 200)
  t.equal(up.seen[0]!.headers['x-pop-key-thumbprint'], key.kid)
})
