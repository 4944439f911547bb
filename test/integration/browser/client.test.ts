// The browser client (src/browser/, shipped as dist/browser/popgate.js) run
// in Node's WebCrypto against a real gateway: it makes a key, has it
// published, answers the challenge, gets a ticket whose HMAC key it derived
// with WebCrypto (ECDH → HKDF → HMAC, non-extractable) and rides on it; a
// second client on the same store reuses the key without publishing again;
// Ed25519 keys work; a refused identity gets the gateway's problem+json; a
// ticket the gateway refuses is dropped and a proof sent instead.

import t, { type Test } from 'tap'
import { startUpstream, startTestGateway } from '../../helpers/harness.js'
import { startKeyHost, keysConfig } from '../../helpers/identity.js'
import { loadBrowserModule, type BrowserEvent } from '../../helpers/browser-client.js'
import { calculateJwkThumbprint } from 'jose'

const ORIGIN = 'https://gw.test'
const ACL = `version: 1
rules:
  - id: api
    path: /api/**
    read: [alice.test]
    write: [alice.test]
  - id: strict
    path: /strict
    read: [alice.test]
    sessions: false
`

async function setup(t: Test) {
  const up = await startUpstream()
  const kh = await startKeyHost()
  const gw = await startTestGateway({ upstream: up.url, publicOrigin: ORIGIN, acl: ACL, extraConfig: `${keysConfig()}\nsessions:\n  tickets: { enabled: true }\n` })
  t.teardown(async () => { await gw.close(); await up.close(); await kh.close() })
  const mod = await loadBrowserModule()
  const published: Record<string, string>[] = []
  const publishKey = (identity: string) => async (jwk: Record<string, string>) => {
    published.push(jwk)
    const kid = await calculateJwkThumbprint(jwk, 'sha256')
    await kh.store.put({ id: kid, jwk: { ...jwk, use: 'sig' }, expiresAtMs: Date.now() + 3600_000 })
    return kh.keyUrl(identity, kid)
  }
  const statuses: number[] = []
  const recordingFetch: typeof fetch = async (u, i) => { const r = await fetch(u, i); statuses.push(r.status); return r }
  return { up, kh, gw, mod, published, publishKey, statuses, recordingFetch }
}

t.test('key made and published once, challenge answered, then a ticket for ten more calls; a reload reuses the key', async (t) => {
  const { up, gw, mod, published, publishKey, statuses, recordingFetch } = await setup(t)
  const store = mod.memoryKeyStore()
  const events: BrowserEvent[] = []
  const client = await mod.createBrowserClient({ identity: 'alice.test', publishKey: publishKey('alice.test'), audience: ORIGIN, store, fetch: recordingFetch, onEvent: (e) => events.push(e) })
  t.equal(client.keyCreated, true)
  t.equal(client.alg, 'ES256')
  t.equal(published.length, 1, 'published once')
  t.strictSame(Object.keys(published[0]!).sort(), ['crv', 'kty', 'x', 'y'], 'only the public members are published')
  t.equal(client.kid, await calculateJwkThumbprint(published[0]!, 'sha256'), 'kid is the RFC 7638 thumbprint (jose agrees)')

  const first = await client.fetch(`${gw.url}/api/x`)
  t.equal(first.status, 200)
  t.equal(up.seen.at(-1)!.headers['x-pop-identity'], 'alice.test')
  t.equal(up.seen.at(-1)!.headers['x-pop-auth-method'], 'domainpop')
  for (let i = 0; i < 10; i++) {
    const r = await client.fetch(`${gw.url}/api/${i}`, { method: i % 2 ? 'POST' : 'GET', body: i % 2 ? 'x' : undefined })
    t.equal(r.status, 200)
    t.equal(up.seen.at(-1)!.headers['x-pop-auth-method'], 'session', `call ${i} on the ticket`)
  }
  t.strictSame(statuses, [401, ...Array(11).fill(200)], 'one challenge, one proof, then tickets only')
  t.strictSame(events.slice(0, 4).map((e) => e.type), ['key', 'published', 'response', 'challenge'])
  t.ok(events.some((e) => e.type === 'ticket'), 'a ticket event')
  t.equal(events.filter((e) => e.type === 'ticket-used').length, 10)

  const again = await mod.createBrowserClient({ identity: 'alice.test', publishKey: publishKey('alice.test'), audience: ORIGIN, store, fetch: recordingFetch })
  t.equal(again.keyCreated, false, 'the key is found in the store')
  t.equal(again.kid, client.kid, 'the same key')
  t.equal(published.length, 1, 'and not published again')
  t.equal((await again.fetch(`${gw.url}/api/y`)).status, 200)
})

t.test('Ed25519 where WebCrypto has it; a proof on every request with session: none', async (t) => {
  const { up, gw, mod, publishKey, statuses, recordingFetch } = await setup(t)
  const client = await mod.createBrowserClient({ identity: 'alice.test', publishKey: publishKey('alice.test'), audience: ORIGIN, store: mod.memoryKeyStore(), fetch: recordingFetch, algorithm: 'Ed25519', session: 'none' })
  t.equal(client.alg, 'Ed25519')
  for (let i = 0; i < 3; i++) t.equal((await client.fetch(`${gw.url}/api/e`)).status, 200)
  t.strictSame(statuses, [401, 200, 200, 200])
  t.equal(up.seen.at(-1)!.headers['x-pop-auth-method'], 'domainpop', 'no ticket asked')
})

t.test('a denied identity gets the problem+json; a path that refuses sessions gets a proof after the ticket is refused', async (t) => {
  const { up, gw, mod, publishKey, statuses, recordingFetch } = await setup(t)
  const mallory = await mod.createBrowserClient({ identity: 'evil.test', publishKey: publishKey('evil.test'), audience: ORIGIN, store: mod.memoryKeyStore(), fetch: recordingFetch })
  const denied = await mallory.fetch(`${gw.url}/api/x`)
  t.equal(denied.status, 403)
  t.equal(denied.headers.get('content-type'), 'application/problem+json')
  t.match(await denied.json(), { code: 'forbidden' })

  const events: BrowserEvent[] = []
  const alice = await mod.createBrowserClient({ identity: 'alice.test', publishKey: publishKey('alice.test'), audience: ORIGIN, store: mod.memoryKeyStore(), fetch: recordingFetch, onEvent: (e) => events.push(e) })
  statuses.length = 0
  t.equal((await alice.fetch(`${gw.url}/api/x`)).status, 200)
  t.equal((await alice.fetch(`${gw.url}/strict`)).status, 200, 'the refused ticket is dropped and a proof sent')
  t.equal(up.seen.at(-1)!.headers['x-pop-auth-method'], 'domainpop')
  t.strictSame(statuses, [401, 200, 401, 200])
  t.ok(events.some((e) => e.type === 'ticket-refused' && e.status === 401))
})

t.test('the challenge parser reads quoted and token params of several challenges', async (t) => {
  const mod = await loadBrowserModule()
  t.strictSame(mod.parseChallenges('DomainPoP realm="https://b.example", nonce="n\\"1", algs="ES256 EdDSA", DPoP algs=ES256, error=use_dpop_nonce'), [
    { scheme: 'DomainPoP', params: { realm: 'https://b.example', nonce: 'n"1', algs: 'ES256 EdDSA' } },
    { scheme: 'DPoP', params: { algs: 'ES256', error: 'use_dpop_nonce' } },
  ])
})
