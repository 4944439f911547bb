// The key cache against a real HTTPS key host (which counts requests) and an
// injected clock: no test sleeps to let a TTL pass.

import t, { type Test } from 'tap'
import { createKeyCache, type KeyCache, type KeyCacheDeps } from '../../../src/keys/cache.js'
import type { FetchedDocument, KeysConfig } from '../../../src/keys/index.js'
import { GatewayError } from '../../../src/errors.js'
import type { Identity } from '../../../src/identity/domain.js'
import { startKeyHost, json, gate, keysConfig, newSigningKey, type TestKey } from '../../helpers/key-host.js'

const host = await startKeyHost()
t.teardown(() => host.close())
const alice = 'alice.test' as Identity
const bob = 'bob.test' as Identity
const START = Date.parse('2030-01-01T00:00:00Z')

let pathCounter = 0
/** A fresh route path per test, so request counts never mix. */
const freshPath = (): string => `/.well-known/domainpop/t${++pathCounter}`
const keySet = (...keys: TestKey[]): { keys: unknown[] } => ({ keys: keys.map((k) => k.jwk) })

interface Harness { cache: KeyCache; clock: { ms: number }; advance(ms: number): void }
function harness(t: Test, cfg: Partial<KeysConfig> = {}, deps: Partial<KeyCacheDeps> = {}): Harness {
  const clock = { ms: START }
  const cache = createKeyCache(keysConfig(cfg), { now: () => clock.ms, ...deps })
  t.teardown(() => cache.close())
  return { cache, clock, advance: (ms) => { clock.ms += ms } }
}

/** "ok:<kid>" or "<code>" */
async function outcome(p: Promise<{ kid: string }>): Promise<string> {
  try {
    return `ok:${(await p).kid}`
  } catch (err) {
    return err instanceof GatewayError ? err.code : `not a GatewayError: ${String(err)}`
  }
}

t.test('a fetched key is served from cache afterwards', async (t) => {
  const k = await newSigningKey()
  const path = freshPath()
  host.route(path, json(keySet(k), { headers: { 'cache-control': 'max-age=600' } }))
  const { cache } = harness(t)
  const url = new URL(host.url('alice.test', path))
  const key = await cache.getKey(url, alice, k.kid)
  t.equal(key.kid, k.kid)
  t.equal(key.kty, 'EC')
  t.equal(await outcome(cache.getKey(url, alice, k.kid)), `ok:${k.kid}`)
  t.equal(host.count(path), 1)
  t.equal(cache.size, 1)
  t.match(cache.stats(), { hits: 1, misses: 1, fetches: 1, entries: 1, inFlight: 0 })
})

t.test('max-age is honored', async (t) => {
  const k = await newSigningKey()
  const path = freshPath()
  host.route(path, json(keySet(k), { headers: { 'cache-control': 'max-age=600' } }))
  const h = harness(t)
  const url = new URL(host.url('alice.test', path))
  await h.cache.getKey(url, alice, k.kid)
  h.advance(599_000)
  await h.cache.getKey(url, alice, k.kid)
  t.equal(host.count(path), 1, 'fresh at 599 s')
  h.advance(2_000)
  await h.cache.getKey(url, alice, k.kid)
  t.equal(host.count(path), 2, 'refetched at 601 s')
})

t.test('the TTL is clamped to [cacheMinTtl, cacheMaxTtl]', async (t) => {
  const k = await newSigningKey()
  const cases: Array<[string | undefined, number]> = [
    ['max-age=5', 60_000],
    ['no-store', 60_000],
    ['no-cache', 60_000],
    [undefined, 60_000],
    ['max-age=31536000', 3_600_000],
  ]
  for (const [cc, ttl] of cases) {
    const path = freshPath()
    host.route(path, json(keySet(k), { headers: cc === undefined ? {} : { 'cache-control': cc } }))
    const h = harness(t, { cacheMinTtlMs: 60_000, cacheMaxTtlMs: 3_600_000 })
    const url = new URL(host.url('alice.test', path))
    await h.cache.getKey(url, alice, k.kid)
    h.advance(ttl - 1)
    await h.cache.getKey(url, alice, k.kid)
    t.equal(host.count(path), 1, `${cc}: still cached just before ${ttl} ms`)
    h.advance(1)
    await h.cache.getKey(url, alice, k.kid)
    t.equal(host.count(path), 2, `${cc}: refetched at ${ttl} ms`)
  }
})

t.test('failures are cached for negativeTtl and the same error is rethrown', async (t) => {
  const k = await newSigningKey()
  const path = freshPath()
  host.route(path, json('oops', { status: 500 }))
  const h = harness(t, { negativeTtlMs: 10_000 })
  const url = new URL(host.url('alice.test', path))
  const first = await h.cache.getKey(url, alice, k.kid).catch((e: unknown) => e)
  t.ok(first instanceof GatewayError && first.code === 'key_fetch_status')
  const second = await h.cache.getKey(url, alice, k.kid).catch((e: unknown) => e)
  t.equal(second, first, 'the very same error')
  h.advance(9_999)
  t.equal(await outcome(h.cache.getKey(url, alice, k.kid)), 'key_fetch_status')
  t.equal(host.count(path), 1, 'one fetch while the failure is cached')
  t.equal(h.cache.stats().negativeHits, 2)

  host.route(path, json(keySet(k)))
  h.advance(1)
  t.equal(await outcome(h.cache.getKey(url, alice, k.kid)), `ok:${k.kid}`, 'recovers once it expires')
  t.equal(host.count(path), 2)
})

t.test('a document with a private key is refused and the refusal cached', async (t) => {
  const k = await newSigningKey()
  const path = freshPath()
  host.route(path, json({ keys: [{ ...k.jwk, d: k.privateKey.export({ format: 'jwk' }).d }] }))
  const h = harness(t)
  const url = new URL(host.url('alice.test', path))
  t.equal(await outcome(h.cache.getKey(url, alice, k.kid)), 'key_document_invalid')
  t.equal(await outcome(h.cache.getKey(url, alice, k.kid)), 'key_document_invalid')
  t.equal(host.count(path), 1)
})

/** The kid-miss cases: the document at `path` holds k1 only; k2 is the key not (yet) published. Cooldown 30 s. */
async function kidMissSetup(t: Test): Promise<{ k1: TestKey; k2: TestKey; path: string; h: Harness; url: URL }> {
  const k1 = await newSigningKey()
  const k2 = await newSigningKey()
  const path = freshPath()
  host.route(path, json(keySet(k1), { headers: { 'cache-control': 'max-age=3600' } }))
  return { k1, k2, path, h: harness(t, { refetchCooldownMs: 30_000 }), url: new URL(host.url('alice.test', path)) }
}

t.test('an unknown kid refetches at most once per cooldown', async (t) => {
  const { k1, k2, path, h, url } = await kidMissSetup(t)

  t.equal(await outcome(h.cache.getKey(url, alice, k2.kid)), 'key_not_found', 'not in the first document')
  t.equal(host.count(path), 1, 'no immediate second fetch for the document just fetched')
  for (let i = 0; i < 20; i++) t.equal(await outcome(h.cache.getKey(url, alice, `${k2.kid.slice(0, -2)}${i % 10}x`)), 'key_not_found')
  t.equal(host.count(path), 1, 'random kids inside the cooldown cost nothing')

  h.advance(30_000)
  t.equal(await outcome(h.cache.getKey(url, alice, k2.kid)), 'key_not_found')
  t.equal(host.count(path), 2, 'one refetch after the cooldown')
  t.equal(await outcome(h.cache.getKey(url, alice, k2.kid)), 'key_not_found')
  t.equal(host.count(path), 2, 'and the cooldown restarts')
  t.equal(await outcome(h.cache.getKey(url, alice, k1.kid)), `ok:${k1.kid}`, 'known keys keep working meanwhile')

  // Key rotation: the domain publishes k2; after the cooldown it is found.
  host.route(path, json(keySet(k1, k2), { headers: { 'cache-control': 'max-age=3600' } }))
  h.advance(30_000)
  t.equal(await outcome(h.cache.getKey(url, alice, k2.kid)), `ok:${k2.kid}`)
  t.equal(host.count(path), 3)
  t.equal(h.cache.stats().kidRefetches, 2)
})

t.test('concurrent unknown-kid lookups after the cooldown share one refetch', async (t) => {
  const { k1, k2, path, h, url } = await kidMissSetup(t)
  await h.cache.getKey(url, alice, k1.kid)
  h.advance(30_000)
  const results = await Promise.all(Array.from({ length: 100 }, () => outcome(h.cache.getKey(url, alice, k2.kid))))
  t.ok(results.every((r) => r === 'key_not_found'))
  t.equal(host.count(path), 2)
})

t.test('a failed kid-miss refetch keeps the keys already trusted', async (t) => {
  const { k1, k2, path, h, url } = await kidMissSetup(t)
  await h.cache.getKey(url, alice, k1.kid)
  host.route(path, json('down', { status: 503 }))
  h.advance(30_000)
  t.equal(await outcome(h.cache.getKey(url, alice, k2.kid)), 'key_fetch_status', 'the refetch error is reported')
  t.equal(await outcome(h.cache.getKey(url, alice, k1.kid)), `ok:${k1.kid}`, 'k1 still served')
  t.equal(await outcome(h.cache.getKey(url, alice, k2.kid)), 'key_not_found', 'and the cooldown applies again')
  t.equal(host.count(path), 2)
})

t.test('single-flight: 200 concurrent misses for one URL make exactly one request', async (t) => {
  const k = await newSigningKey()
  const path = freshPath()
  const g = gate(json(keySet(k)))
  host.route(path, g.route)
  const h = harness(t, { maxInFlight: 1, maxInFlightPerDomain: 1 })
  const url = new URL(host.url('alice.test', path))
  const all = Array.from({ length: 200 }, () => outcome(h.cache.getKey(url, alice, k.kid)))
  // Wait until the one request is parked at the host, then let it through.
  while (g.waiting() === 0) await new Promise((resolve) => setImmediate(resolve))
  t.equal(h.cache.stats().inFlight, 1)
  g.release()
  const results = await Promise.all(all)
  t.ok(results.every((r) => r === `ok:${k.kid}`), 'all 200 got the key')
  t.equal(host.count(path), 1, 'exactly one request reached the key host')
  t.match(h.cache.stats(), { fetches: 1, misses: 200, busyRejections: 0 })
})

t.test('in-flight caps: per domain and in all, busy at once, nothing queued', async (t) => {
  const k = await newSigningKey()
  const g = gate(json(keySet(k)))
  const paths = [freshPath(), freshPath(), freshPath()]
  for (const p of paths) host.route(p, g.route)
  const h = harness(t, { maxInFlightPerDomain: 2, maxInFlight: 3 })
  const aliceUrl = (i: number): URL => new URL(host.url('alice.test', paths[i]!))
  const bobUrl = (i: number): URL => new URL(host.url('bob.test', paths[i]!))

  const a0 = outcome(h.cache.getKey(aliceUrl(0), alice, k.kid))
  const a1 = outcome(h.cache.getKey(aliceUrl(1), alice, k.kid))
  t.equal(await outcome(h.cache.getKey(aliceUrl(2), alice, k.kid)), 'key_fetch_busy', 'third fetch for alice: busy')
  const a0again = outcome(h.cache.getKey(aliceUrl(0), alice, k.kid))
  const b0 = outcome(h.cache.getKey(bobUrl(0), bob, k.kid))
  t.equal(await outcome(h.cache.getKey(bobUrl(1), bob, k.kid)), 'key_fetch_busy', 'fourth fetch in all: busy')
  t.match(h.cache.stats(), { inFlight: 3, busyRejections: 2 })

  g.release()
  t.same(await Promise.all([a0, a1, a0again, b0]), Array(4).fill(`ok:${k.kid}`), 'joining a fetch in flight is never busy')
  t.equal(host.count(paths[2]!), 0, 'the refused fetch never happened (no queue)')
  t.equal(await outcome(h.cache.getKey(aliceUrl(2), alice, k.kid)), `ok:${k.kid}`, 'busy is not cached')
  t.equal(h.cache.stats().inFlight, 0)
})

t.test('the cache is a bounded LRU', async (t) => {
  const k = await newSigningKey()
  const [p1, p2, p3] = [freshPath(), freshPath(), freshPath()]
  for (const p of [p1, p2, p3]) host.route(p!, json(keySet(k), { headers: { 'cache-control': 'max-age=3600' } }))
  const h = harness(t, { cacheMaxEntries: 2 })
  const u = (p: string): URL => new URL(host.url('alice.test', p))
  await h.cache.getKey(u(p1!), alice, k.kid)
  await h.cache.getKey(u(p2!), alice, k.kid)
  await h.cache.getKey(u(p1!), alice, k.kid) // p1 is now the most recent
  await h.cache.getKey(u(p3!), alice, k.kid) // evicts p2
  t.equal(h.cache.size, 2)
  await h.cache.getKey(u(p1!), alice, k.kid)
  t.equal(host.count(p1!), 1, 'recently used entry kept')
  await h.cache.getKey(u(p2!), alice, k.kid)
  t.equal(host.count(p2!), 2, 'least recently used entry was evicted')
  t.equal(h.cache.size, 2)
  t.ok(h.cache.stats().evictions >= 2)
})

t.test('negative entries count against the bound too', async (t) => {
  const fetches: string[] = []
  const h = harness(t, { cacheMaxEntries: 3 }, {
    fetchDocument: async (url) => { fetches.push(url.pathname); throw new GatewayError('key_fetch_timeout') },
  })
  for (let i = 0; i < 10; i++) await outcome(h.cache.getKey(new URL(`https://alice.test/.well-known/domainpop/${i}`), alice, 'x'))
  t.equal(h.cache.size, 3)
  t.equal(fetches.length, 10)
})

t.test('a URL whose host is not the identity is refused without fetching', async (t) => {
  const fetches: string[] = []
  const h = harness(t, {}, { fetchDocument: async (url) => { fetches.push(url.href); throw new Error('unreachable') } })
  t.equal(await outcome(h.cache.getKey(new URL('https://evil.test/.well-known/domainpop/k'), alice, 'x')), 'proof_jku_invalid')
  t.same(fetches, [])
})

t.test('an injected fetcher gets the same response policy and error typing', async (t) => {
  const k = await newSigningKey()
  const body = Buffer.from(JSON.stringify(keySet(k)))
  const docs: Record<string, FetchedDocument> = {
    '/redirect': { status: 302, headers: { location: 'https://x/' }, body },
    '/type': { status: 200, headers: { 'content-type': 'text/html' }, body },
    '/big': { status: 200, headers: { 'content-type': 'application/json' }, body: Buffer.alloc(70 * 1024, 0x20) },
  }
  const h = harness(t, { pathPrefix: '/' }, {
    fetchDocument: async (url) => {
      if (url.pathname === '/throws') throw new TypeError('boom')
      return docs[url.pathname]!
    },
  })
  const get = (p: string): Promise<string> => outcome(h.cache.getKey(new URL(`https://alice.test${p}`), alice, k.kid))
  t.equal(await get('/redirect'), 'key_fetch_redirect')
  t.equal(await get('/type'), 'key_fetch_content_type')
  t.equal(await get('/big'), 'key_fetch_too_large')
  t.equal(await get('/throws'), 'key_fetch_failed', 'a non-GatewayError becomes key_fetch_failed')
})

t.test('onFetch reports each fetch once; a throwing hook changes nothing', async (t) => {
  const k = await newSigningKey()
  const ok = freshPath()
  const bad = freshPath()
  host.route(ok, json(keySet(k)))
  host.route(bad, json('x', { status: 404 }))
  const seen: Array<[string, string]> = []
  const h = harness(t, {}, { onFetch: (url, result, ms) => { seen.push([new URL(url).pathname, result]); t.ok(ms >= 0); throw new Error('hook bug') } })
  t.equal(await outcome(h.cache.getKey(new URL(host.url('alice.test', ok)), alice, k.kid)), `ok:${k.kid}`)
  await outcome(h.cache.getKey(new URL(host.url('alice.test', ok)), alice, k.kid))
  t.equal(await outcome(h.cache.getKey(new URL(host.url('alice.test', bad)), alice, k.kid)), 'key_fetch_status')
  t.same(seen, [[ok, 'ok'], [bad, 'key_fetch_status']])
})

t.test('close aborts fetches in flight and refuses new lookups', async (t) => {
  const k = await newSigningKey()
  const path = freshPath()
  const g = gate(json(keySet(k)))
  host.route(path, g.route)
  const cache = createKeyCache(keysConfig(), { now: () => START })
  const pending = outcome(cache.getKey(new URL(host.url('alice.test', path)), alice, k.kid))
  while (g.waiting() === 0) await new Promise((resolve) => setImmediate(resolve))
  await cache.close()
  t.equal(await pending, 'key_fetch_failed')
  t.equal(await outcome(cache.getKey(new URL(host.url('alice.test', path)), alice, k.kid)), 'key_fetch_failed')
  t.equal(cache.size, 0)
  g.release()
})

t.test('one identity naming a new key URL per request: refused past maxUrlsPerIdentity, before fetching; others keep their keys', async (t) => {
  const k = await newSigningKey()
  const paths = Array.from({ length: 20 }, () => freshPath())
  for (const p of paths) host.route(p, json(keySet(k), { headers: { 'cache-control': 'max-age=3600' } }))
  const bobPath = freshPath()
  host.route(bobPath, json(keySet(k), { headers: { 'cache-control': 'max-age=3600' } }))
  const refused: Array<[string, string]> = []
  const h = harness(t, { maxUrlsPerIdentity: 4 }, { onRefused: (reason, identity) => { refused.push([reason, identity]) } })
  t.equal(await outcome(h.cache.getKey(new URL(host.url('bob.test', bobPath)), bob, k.kid)), `ok:${k.kid}`)

  const results = []
  for (const p of paths) results.push(await outcome(h.cache.getKey(new URL(host.url('alice.test', p)), alice, k.kid)))
  t.same(results, [...Array(4).fill(`ok:${k.kid}`), ...Array(16).fill('key_fetch_quota')])
  t.equal(paths.reduce((n, p) => n + host.count(p), 0), 4, 'the key host saw four fetches, not twenty')
  t.equal(refused.length, 16)
  t.ok(refused.every(([reason, who]) => reason === 'urls_per_owner' && who === 'alice.test'))
  t.match(h.cache.stats(), { quotaRefusals: 16, entries: 5, owners: 2, evictions: 0 })

  t.equal(await outcome(h.cache.getKey(new URL(host.url('bob.test', bobPath)), bob, k.kid)), `ok:${k.kid}`)
  t.equal(host.count(bobPath), 1, 'bob.test was served from cache throughout')
  t.equal(await outcome(h.cache.getKey(new URL(host.url('alice.test', paths[0]!)), alice, k.kid)), `ok:${k.kid}`, 'alice keeps the URLs she has')

  // When alice's documents expire, their slots are free again (one fetch per TTL per slot, at most).
  h.advance(3_600_000)
  t.equal(await outcome(h.cache.getKey(new URL(host.url('alice.test', paths[10]!)), alice, k.kid)), `ok:${k.kid}`)
})

t.test('the cache is bounded by estimated bytes, and stats say how many', async (t) => {
  const k = await newSigningKey()
  const paths = [freshPath(), freshPath(), freshPath()]
  for (const p of paths) host.route(p, json(keySet(k), { headers: { 'cache-control': 'max-age=3600' } }))
  const h = harness(t)
  await h.cache.getKey(new URL(host.url('alice.test', paths[0]!)), alice, k.kid)
  const one = h.cache.stats().bytes
  t.ok(one > 300 && one < 1_000, `one P-256 document is charged ${one} bytes (the heap measured ≈ 720)`)
  const h2 = harness(t, { cacheMaxBytes: 2 * one + 1 })
  for (const p of paths) await h2.cache.getKey(new URL(host.url('alice.test', p)), alice, k.kid)
  t.equal(h2.cache.size, 2)
  t.ok(h2.cache.stats().bytes <= 2 * one + 1)
})
