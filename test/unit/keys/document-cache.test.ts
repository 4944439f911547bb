// The cached-document layer (keys/document-cache.ts) with an injected fetch
// and an injected clock: no sockets (the key cache's tests cover those) and
// no sleeps. Documents here are plain JSON `{"v": <string>}`; parse returns
// the string, and sizeOf is its length, so byte accounting is easy to follow.

import t, { type Test } from 'tap'
import { createDocumentCache, ENTRY_OVERHEAD_BYTES, NEGATIVE_ENTRY_BYTES, NEGATIVES_PER_SLOT, stringBytes, type DocumentCache, type DocumentCacheLimits, type DocumentCacheOptions, type RefusalReason } from '../../../src/keys/document-cache.js'
import { JSON_PROFILE } from '../../../src/keys/response-policy.js'
import type { FetchedDocument, FetchRequest } from '../../../src/keys/types.js'
import { GatewayError } from '../../../src/errors.js'

const START = Date.parse('2030-01-01T00:00:00Z')

const LIMITS: DocumentCacheLimits = {
  maxBytes: 64 * 1024, cacheMinTtlMs: 60_000, cacheMaxTtlMs: 3_600_000, negativeTtlMs: 10_000, refetchCooldownMs: 30_000,
  cacheMaxEntries: 1_000, cacheMaxBytes: 1024 * 1024, maxInFlight: 64, maxInFlightPerDomain: 4, maxUrlsPerIdentity: 3, maxBytesPerIdentity: 64 * 1024,
}

interface Harness {
  docs: DocumentCache<string>
  /** Requests the fetch saw, in order. */
  seen: FetchRequest[]
  refused: Array<[RefusalReason, string]>
  /** path → body value (a string) or an error to throw; default: the path itself. */
  serve: Map<string, string | GatewayError>
  /** Requests parked until released (`hold` paths). */
  hold: Set<string>
  release(): void
  advance(ms: number): void
}

function harness(t: Test, limits: Partial<DocumentCacheLimits> = {}, opts: Partial<DocumentCacheOptions<string>> = {}): Harness {
  const clock = { ms: START }
  const seen: FetchRequest[] = []
  const refused: Array<[RefusalReason, string]> = []
  const serve = new Map<string, string | GatewayError>()
  const hold = new Set<string>()
  const parked: Array<() => void> = []
  const docs = createDocumentCache<string>({
    limits: { ...LIMITS, ...limits },
    profile: JSON_PROFILE,
    now: () => clock.ms,
    fetch: async (request) => {
      seen.push(request)
      const path = request.url.pathname
      if (hold.has(path)) await new Promise<void>((resolve) => parked.push(resolve))
      const answer = serve.get(path) ?? path
      if (answer instanceof GatewayError) throw answer
      return doc(answer)
    },
    parse: async (d) => (JSON.parse(d.body.toString()) as { v: string }).v,
    sizeOf: (v) => v.length,
    onRefused: (reason, owner) => { refused.push([reason, owner]) },
    ...opts,
  })
  t.teardown(() => docs.close())
  return {
    docs, seen, refused, serve, hold,
    release: () => { hold.clear(); for (const go of parked.splice(0)) go() },
    advance: (ms) => { clock.ms += ms },
  }
}

const doc = (v: string, headers: Record<string, string> = {}): FetchedDocument =>
  ({ status: 200, headers: { 'content-type': 'application/json', 'cache-control': 'max-age=600', ...headers }, body: Buffer.from(JSON.stringify({ v })) })
const req = (owner: string, path: string) => ({ url: new URL(`https://${owner}${path}`), owner })
/** "ok:<value>" or "<code>" */
async function outcome(p: Promise<{ value: string }>): Promise<string> {
  try {
    return `ok:${(await p).value}`
  } catch (err) {
    return err instanceof GatewayError ? err.code : `not a GatewayError: ${String(err)}`
  }
}
/** The charge of a positive entry for `https://<owner><path>` whose value is `path`. */
const charge = (owner: string, path: string): number => ENTRY_OVERHEAD_BYTES + stringBytes(`https://${owner}${path}`) + path.length

t.test('a hit is the same object, without I/O; peek never fetches', async (t) => {
  const h = harness(t)
  t.equal(h.docs.peek('https://a.test/x'), undefined, 'a miss')
  t.equal(h.seen.length, 0)
  const first = await h.docs.get(req('a.test', '/x'))
  t.equal(first.value, '/x')
  t.equal(h.docs.peek('https://a.test/x'), first, 'peek returns the cached entry itself')
  t.equal(await h.docs.get(req('a.test', '/x')), first)
  t.equal(h.seen.length, 1)
  t.match(h.docs.stats(), { entries: 1, hits: 2, misses: 1, fetches: 1, owners: 1, bytes: charge('a.test', '/x') })
  t.equal(h.seen[0]!.profile, JSON_PROFILE, 'the cache asks with its own media profile')
})

t.test('one owner can hold at most maxUrlsPerIdentity URLs; the next is refused before any fetch', async (t) => {
  const h = harness(t, { maxUrlsPerIdentity: 3 })
  for (const p of ['/1', '/2', '/3']) t.equal(await outcome(h.docs.get(req('a.test', p))), `ok:${p}`)
  t.equal(await outcome(h.docs.get(req('a.test', '/4'))), 'key_fetch_quota', 'a fourth URL is refused')
  t.equal(h.seen.length, 3, 'and was not fetched')
  t.same(h.refused, [['urls_per_owner', 'a.test']], 'the refusal is reported once, with its owner')
  t.equal(await outcome(h.docs.get(req('a.test', '/2'))), 'ok:/2', 'URLs it holds keep working')
  t.equal(await outcome(h.docs.get(req('b.test', '/4'))), 'ok:/4', 'another owner is not affected')
  t.match(h.docs.stats(), { quotaRefusals: 1, busyRejections: 0, entries: 4 })
  t.equal(h.docs.held('a.test'), 3)
})

t.test('fetches in flight count against the URL quota', async (t) => {
  const h = harness(t, { maxUrlsPerIdentity: 2, maxInFlightPerDomain: 10 })
  h.hold.add('/1').add('/2')
  const a = outcome(h.docs.get(req('a.test', '/1')))
  const b = outcome(h.docs.get(req('a.test', '/2')))
  t.equal(await outcome(h.docs.get(req('a.test', '/3'))), 'key_fetch_quota', 'two in flight: a third URL is refused')
  const joined = outcome(h.docs.get(req('a.test', '/1')))
  h.release()
  t.same(await Promise.all([a, b, joined]), ['ok:/1', 'ok:/2', 'ok:/1'], 'joining a fetch in flight is not a new URL')
  t.equal(h.seen.length, 2)
})

t.test('failures count against the quota too, and free their slot when they expire', async (t) => {
  const h = harness(t, { maxUrlsPerIdentity: 2, negativeTtlMs: 10_000 })
  h.serve.set('/gone1', new GatewayError('key_fetch_status')).set('/gone2', new GatewayError('key_fetch_status'))
  t.equal(await outcome(h.docs.get(req('a.test', '/gone1'))), 'key_fetch_status')
  t.equal(await outcome(h.docs.get(req('a.test', '/gone2'))), 'key_fetch_status')
  t.equal(await outcome(h.docs.get(req('a.test', '/ok'))), 'key_fetch_quota', 'two cached failures fill the quota')
  h.advance(10_000)
  t.equal(await outcome(h.docs.get(req('a.test', '/ok'))), 'ok:/ok', 'once they expire, a new URL may be fetched')
  t.equal(h.docs.held('a.test'), 1, 'the expired failures were dropped, not kept')
  t.equal(h.seen.length, 3)
})

t.test("an owner over its byte quota: a new document is refused, never a fresh one evicted for it, nor anyone else's (issue 19)", async (t) => {
  // Room for two of a.test's 1,000-byte documents, not three.
  const big = (n: number) => `/${n}${'x'.repeat(999)}`
  const perOwner = 2 * charge('a.test', big(1)) + 10
  const h = harness(t, { maxUrlsPerIdentity: 100, maxBytesPerIdentity: perOwner })
  t.equal(await outcome(h.docs.get(req('b.test', '/b'))), 'ok:/b')
  for (let i = 1; i <= 2; i++) t.equal(await outcome(h.docs.get(req('a.test', big(i)))), `ok:${big(i)}`)
  t.equal(await outcome(h.docs.get(req('a.test', big(3)))), 'key_fetch_quota', 'a third does not fit: it is the one refused')
  t.equal(h.docs.held('a.test'), 3, 'the two documents, and the refusal cached as a failure (charged to the client that named it)')
  t.ok(h.docs.peek(`https://a.test${big(1)}`) && h.docs.peek(`https://a.test${big(2)}`), 'the two fresh ones are kept')
  const fetched = h.seen.length
  t.equal(await outcome(h.docs.get(req('a.test', big(3)))), 'key_fetch_quota', 'refused again, before any fetch')
  t.equal(h.seen.length, fetched)
  t.equal(h.docs.peek('https://b.test/b')?.value, '/b', 'b.test kept its entry, though it is the least recently used')
  // A key of big(1) verified a proof; then both documents expire (max-age=600).
  t.ok(h.docs.markProven(`https://a.test${big(1)}`))
  h.advance(600_000)
  t.equal(await outcome(h.docs.get(req('a.test', big(3)))), `ok:${big(3)}`, 'expired documents make room ...')
  t.equal(h.docs.held('a.test'), 2, '... but only the one no proof vouched for went (and the expired failure)')
  t.equal(await outcome(h.docs.get(req('a.test', big(1)))), `ok:${big(1)}`, 'the proven one refetches without a quota check, though the owner is full')
  t.match(h.docs.stats(), { evictions: 0 })
})

t.test('a document larger than one owner may hold is refused and the refusal cached', async (t) => {
  const h = harness(t, { maxBytesPerIdentity: 600 })
  const path = `/${'y'.repeat(600)}`
  t.equal(await outcome(h.docs.get(req('a.test', path))), 'key_fetch_too_large')
  t.equal(await outcome(h.docs.get(req('a.test', path))), 'key_fetch_too_large')
  t.equal(h.seen.length, 1)
  t.equal(h.docs.stats().bytes, ENTRY_OVERHEAD_BYTES + stringBytes(`https://a.test${path}`) + NEGATIVE_ENTRY_BYTES, 'only the failure is held')
})

t.test('the whole cache is bounded by bytes, least recently used first out', async (t) => {
  const paths = ['/p1', '/p2', '/p3', '/p4']
  const one = charge('o1.test', '/p1')
  const h = harness(t, { cacheMaxBytes: 3 * one })
  for (let i = 0; i < 3; i++) await h.docs.get(req(`o${i + 1}.test`, paths[i]!))
  h.docs.peek('https://o1.test/p1') // o1 is now the most recent
  await h.docs.get(req('o4.test', '/p4'))
  t.equal(h.docs.size, 3)
  t.equal(h.docs.peek('https://o2.test/p2'), undefined, 'the least recently used went')
  t.ok(h.docs.peek('https://o1.test/p1'), 'the recently used stayed')
  t.ok(h.docs.stats().bytes <= 3 * one)
  t.equal(h.docs.stats().evictions, 1)
  t.equal(h.docs.stats().owners, 3, 'an owner with nothing left is forgotten')
})

t.test('refresh: at most once per cooldown; a failed refresh keeps what was trusted', async (t) => {
  const h = harness(t, { refetchCooldownMs: 30_000 })
  const first = await h.docs.get(req('a.test', '/k'))
  t.equal(await h.docs.refresh(req('a.test', '/k'), first), first, 'inside the cooldown: the same entry, no fetch')
  t.equal(h.seen.length, 1)
  h.advance(30_000)
  h.serve.set('/k', 'rotated')
  const second = await h.docs.refresh(req('a.test', '/k'), first)
  t.equal(second.value, 'rotated')
  t.equal(h.seen.length, 2)
  t.equal(h.docs.peek('https://a.test/k'), second, 'the new document replaced the old')
  t.equal(h.docs.stats().bytes, ENTRY_OVERHEAD_BYTES + stringBytes('https://a.test/k') + 'rotated'.length, 'and its charge')

  h.advance(30_000)
  h.serve.set('/k', new GatewayError('key_fetch_timeout'))
  t.equal(await outcome(h.docs.refresh(req('a.test', '/k'), second)), 'key_fetch_timeout', 'the failure is reported')
  t.equal(h.docs.peek('https://a.test/k'), second, 'the trusted document is kept')
  t.equal(await h.docs.refresh(req('a.test', '/k'), second), second, 'and the cooldown restarted')
  t.equal(h.seen.length, 3)
  t.equal(h.docs.stats().refetches, 2)
})

t.test('single flight: concurrent misses share one fetch; in-flight caps answer busy at once', async (t) => {
  const h = harness(t, { maxInFlight: 2, maxInFlightPerDomain: 1 })
  h.hold.add('/a').add('/b').add('/c')
  const many = Array.from({ length: 50 }, () => outcome(h.docs.get(req('a.test', '/a'))))
  t.equal(await outcome(h.docs.get(req('a.test', '/c'))), 'key_fetch_busy', 'a.test has a fetch in flight')
  const b = outcome(h.docs.get(req('b.test', '/b')))
  t.equal(await outcome(h.docs.get(req('c.test', '/c'))), 'key_fetch_busy', 'two in flight in all')
  t.same(h.refused, [['in_flight_per_owner', 'a.test'], ['in_flight', 'c.test']])
  h.release()
  t.ok((await Promise.all(many)).every((r) => r === 'ok:/a'))
  t.equal(await b, 'ok:/b')
  t.equal(h.seen.length, 2)
  t.match(h.docs.stats(), { busyRejections: 2, quotaRefusals: 0, inFlight: 0 })
})

t.test('a POST goes through with its body and its own cache key', async (t) => {
  const h = harness(t)
  const body = { contentType: 'application/x-www-form-urlencoded', bytes: 'token=abc' }
  const r = { url: new URL('https://as.test/introspect'), owner: 'as.test', method: 'POST' as const, body, key: 'introspect:abc' }
  t.equal(await outcome(h.docs.get(r)), 'ok:/introspect')
  t.equal(await outcome(h.docs.get(r)), 'ok:/introspect')
  t.equal(h.seen.length, 1)
  t.equal(h.seen[0]!.method, 'POST')
  t.same(h.seen[0]!.body, body)
  t.ok(h.docs.peek('introspect:abc'), 'cached under the key it named')
  t.equal(h.docs.peek('https://as.test/introspect'), undefined, 'not under its URL')
})

t.test('the response policy and error typing apply to any fetch; hooks cannot change outcomes', async (t) => {
  const fetched: string[] = []
  const h = harness(t, {}, {
    fetch: async (request) => {
      fetched.push(request.url.pathname)
      if (request.url.pathname === '/html') return { status: 200, headers: { 'content-type': 'text/html' }, body: Buffer.from('{}') }
      if (request.url.pathname === '/302') return { status: 302, headers: { 'content-type': 'application/json' }, body: Buffer.from('{}') }
      throw new TypeError('boom')
    },
    onFetch: () => { throw new Error('metrics down') },
    onRefused: () => { throw new Error('metrics down') },
  })
  t.equal(await outcome(h.docs.get(req('a.test', '/html'))), 'key_fetch_content_type')
  t.equal(await outcome(h.docs.get(req('a.test', '/302'))), 'key_fetch_redirect')
  t.equal(await outcome(h.docs.get(req('a.test', '/throws'))), 'key_fetch_failed')
  t.equal(await outcome(h.docs.get(req('a.test', '/x'))), 'key_fetch_quota', 'a throwing onRefused still refuses')
  t.same(fetched, ['/html', '/302', '/throws'])
})

t.test('beforeFetch can refuse a fetch; nothing is cached or held for it', async (t) => {
  let allow = false
  const h = harness(t, {}, { beforeFetch: () => { if (!allow) throw new GatewayError('key_fetch_busy', 'budget') } })
  t.equal(await outcome(h.docs.get(req('a.test', '/1'))), 'key_fetch_busy')
  t.equal(h.seen.length, 0)
  t.match(h.docs.stats(), { entries: 0, owners: 0 })
  allow = true
  t.equal(await outcome(h.docs.get(req('a.test', '/1'))), 'ok:/1')
})

t.test('close refuses new lookups and empties the cache', async (t) => {
  const h = harness(t)
  await h.docs.get(req('a.test', '/1'))
  await h.docs.close()
  t.equal(await outcome(h.docs.get(req('a.test', '/2'))), 'key_fetch_failed')
  t.match(h.docs.stats(), { entries: 0, bytes: 0, owners: 0 })
})

/** As `req`, from a client address. */
const from = (client: string, owner: string, path: string) => ({ ...req(owner, path), client })

t.test('issue 19: failures are charged to (owner, client): a stranger fills only its own quota, and is named when refused', async (t) => {
  const h = harness(t, { maxUrlsPerIdentity: 2 })
  h.serve.set('/junk1', new GatewayError('key_fetch_status')).set('/junk2', new GatewayError('key_fetch_status')).set('/junk3', new GatewayError('key_fetch_status'))
  t.equal(await outcome(h.docs.get(from('203.0.113.9', 'a.test', '/junk1'))), 'key_fetch_status')
  t.equal(await outcome(h.docs.get(from('203.0.113.9', 'a.test', '/junk2'))), 'key_fetch_status')
  t.equal(await outcome(h.docs.get(from('203.0.113.9', 'a.test', '/junk3'))), 'key_fetch_quota', 'the stranger\'s third junk URL: its own quota is spent')
  const refusals: unknown[] = []
  const h2 = harness(t, { maxUrlsPerIdentity: 1 }, { onRefused: (reason, owner, client) => { refusals.push([reason, owner, client]) } })
  h2.serve.set('/junk1', new GatewayError('key_fetch_status'))
  await outcome(h2.docs.get(from('203.0.113.9', 'a.test', '/junk1')))
  await outcome(h2.docs.get(from('203.0.113.9', 'a.test', '/junk2')))
  t.same(refusals, [['urls_per_owner', 'a.test', '203.0.113.9']], 'the refusal names the client that spent the quota')
  t.equal(await outcome(h.docs.get(from('198.51.100.7', 'a.test', '/alice'))), 'ok:/alice', 'the identity, from its own address, fetches its document')
  t.equal(await outcome(h.docs.get(from('198.51.100.7', 'a.test', '/alice2'))), 'ok:/alice2', 'and a second: its slots were never spent')
})

t.test('issue 19: failures from many addresses stay bounded per owner (oldest go) and never touch its documents', async (t) => {
  const h = harness(t, { maxUrlsPerIdentity: 2 })
  t.equal(await outcome(h.docs.get(from('198.51.100.7', 'a.test', '/alice'))), 'ok:/alice')
  for (let i = 0; i < 40; i++) {
    h.serve.set(`/junk${i}`, new GatewayError('key_fetch_status'))
    t.equal(await outcome(h.docs.get(from(`203.0.113.${i}`, 'a.test', `/junk${i}`))), 'key_fetch_status')
  }
  t.equal(h.docs.held('a.test'), 1 + NEGATIVES_PER_SLOT * 2, `one document and at most ${NEGATIVES_PER_SLOT} × maxUrlsPerIdentity failures`)
  t.equal(h.docs.peek('https://a.test/alice')?.value, '/alice', 'the document is still there')
  t.equal(await outcome(h.docs.get(from('198.51.100.7', 'a.test', '/alice2'))), 'ok:/alice2')
})

t.test('issue 19: a proven document keeps its slot past its TTL; its failed refetch keeps it too, rethrowing for negativeTtl', async (t) => {
  const h = harness(t, { maxUrlsPerIdentity: 1, negativeTtlMs: 10_000 })
  t.equal(await outcome(h.docs.get(from('198.51.100.7', 'a.test', '/alice'))), 'ok:/alice')
  t.ok(h.docs.markProven('https://a.test/alice'))
  t.notOk(h.docs.markProven('https://a.test/nothing'), 'nothing to mark')
  h.advance(600_000) // expired
  t.equal(await outcome(h.docs.get(from('203.0.113.9', 'a.test', '/junk'))), 'key_fetch_quota', 'an expired proven document is not a free slot for a stranger\'s URL')
  h.serve.set('/alice', new GatewayError('key_fetch_timeout'))
  const before = h.seen.length
  t.equal(await outcome(h.docs.get(from('198.51.100.7', 'a.test', '/alice'))), 'key_fetch_timeout', 'the refetch fails')
  t.equal(await outcome(h.docs.get(from('198.51.100.7', 'a.test', '/alice'))), 'key_fetch_timeout', 'rethrown from the cache ...')
  t.equal(h.seen.length, before + 1, '... without a second fetch')
  t.equal(h.docs.held('a.test'), 1, 'the slot is kept: no failure took its place')
  h.serve.delete('/alice')
  h.advance(10_000)
  t.equal(await outcome(h.docs.get(from('198.51.100.7', 'a.test', '/alice'))), 'ok:/alice', 'after negativeTtl it is refetched, without a quota check')
})

t.test('issue 19: in-flight fetches are capped per (owner, client): a stranger\'s slow fetches do not make the identity busy', async (t) => {
  const h = harness(t, { maxUrlsPerIdentity: 8, maxInFlightPerDomain: 2 })
  h.hold.add('/slow1').add('/slow2').add('/slow3')
  const a = outcome(h.docs.get(from('203.0.113.9', 'a.test', '/slow1')))
  const b = outcome(h.docs.get(from('203.0.113.9', 'a.test', '/slow2')))
  t.equal(await outcome(h.docs.get(from('203.0.113.9', 'a.test', '/slow3'))), 'key_fetch_busy', 'the stranger\'s own cap')
  t.equal(await outcome(h.docs.get(from('198.51.100.7', 'a.test', '/alice'))), 'ok:/alice', 'the identity is not busy')
  h.release()
  await Promise.all([a, b])
})
