// Child body of the key-cache memory case, run as
// `node --expose-gc key-cache-child.js <entries> <distinctKeys> <hotKeys>`: fills a
// real key cache (createKeyCache, the gateway's own LRU and document parser)
// with `entries` distinct identities d<i>.example, then reports heap and RSS
// before and after, each after a full GC; then looks up CHURN older entries
// again (keys that left the hot set are re-imported) and reports RSS once
// more, to show that churn through the hot set does not grow memory; then
// one identity names FLOOD new key URLs (issue 11, finding 1) and heap and RSS
// are read once more, to show the figures hold under that attack.
// The fetch is injected (no network):
// what is measured is what the cache keeps, not what fetching costs.
// Key pairs: `distinctKeys` P-256 pairs generated up front and reused round
// robin; every document is still parsed on its own, so each entry holds its
// own StoredKey and first KeyObject, as with distinct keys.

import { generateKeyPairSync } from 'node:crypto'
import { performance } from 'node:perf_hooks'
import { calculateJwkThumbprint, type JWK } from 'jose'
import { createKeyCache } from '../../src/keys/cache.js'
import type { FetchDocument, KeysConfig } from '../../src/keys/types.js'
import type { Identity } from '../../src/identity/domain.js'
import type { KeyCacheMemoryResult } from './types.js'

const entries = Number(process.argv[2] ?? 100_000)
const distinctKeys = Number(process.argv[3] ?? 1_000)
const hotKeys = Number(process.argv[4] ?? 1_024)
const CHURN = Math.min(entries, 20_000)
const BATCH = 32 // below maxInFlight, so no fill request is refused as busy

const gc = (globalThis as { gc?: () => void }).gc
if (!gc) throw new Error('run with --expose-gc')
const fullGc = () => { gc(); gc() }

const cfg: KeysConfig = {
  pathPrefix: '/.well-known/domainpop/', allowHttp: [], allowPrivateAddresses: false, allowPorts: [443], resolve: {}, caFile: undefined,
  timeoutMs: 3_000, maxBytes: 64 * 1024, cacheMinTtlMs: 60_000, cacheMaxTtlMs: 3_600_000, negativeTtlMs: 10_000,
  refetchCooldownMs: 30_000, cacheMaxEntries: entries, hotKeys, maxInFlightPerDomain: 4, maxInFlight: 64,
  // Large enough that only cacheMaxEntries bounds the fill (≈ 560 estimated bytes per domain).
  cacheMaxBytes: entries * 2048, maxUrlsPerIdentity: 8, maxBytesPerIdentity: 256 * 1024,
}

const docs: { body: string; kid: string }[] = []
for (let i = 0; i < distinctKeys; i++) {
  const jwk = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ format: 'jwk' }) as JWK
  docs.push({ body: JSON.stringify({ keys: [{ ...jwk, use: 'sig', alg: 'ES256' }] }), kid: await calculateJwkThumbprint(jwk, 'sha256') })
}
const HEADERS = { 'content-type': 'application/jwk-set+json', 'cache-control': 'max-age=3600' }
const FLOOD_HOST = 'flood.example'
const docIndex = (host: string) => (host === FLOOD_HOST ? 0 : Number(host.slice(1, host.indexOf('.'))) % distinctKeys)
const fetchDocument: FetchDocument = async (url) => ({ status: 200, headers: HEADERS, body: Buffer.from(docs[docIndex(url.hostname)]!.body) })

const cache = createKeyCache(cfg, { fetchDocument })
const lookup = (j: number) => {
  const doc = docs[j % distinctKeys]!
  const host = `d${j}.example`
  return cache.getKey(new URL(`https://${host}/.well-known/domainpop/keys/${doc.kid}`), host as Identity, doc.kid)
}
async function pass(from: number, to: number): Promise<number> {
  const t0 = performance.now()
  for (let i = from; i < to; i += BATCH) {
    const batch = []
    for (let j = i; j < Math.min(to, i + BATCH); j++) batch.push(lookup(j))
    await Promise.all(batch)
  }
  return performance.now() - t0
}

fullGc()
const before = process.memoryUsage()
const fillMs = await pass(0, entries)
if (cache.size !== entries) throw new Error(`cache holds ${cache.size} entries, expected ${entries}`)
fullGc()
const after = process.memoryUsage()
// The oldest CHURN entries: all outside the hot set, so each is imported again.
const importsBefore = cache.stats().keyImports
const churnMs = await pass(0, CHURN)
const churnImports = cache.stats().keyImports - importsBefore
if (cache.stats().fetches !== entries) throw new Error('the churn pass fetched again')
fullGc()
const afterChurn = process.memoryUsage()
// Under attack (issue 11, finding 1): one allowed identity names a new key URL on every lookup.
const statsBeforeFlood = cache.stats()
const FLOOD = 20_000
for (let i = 0; i < FLOOD; i++) {
  await cache.getKey(new URL(`https://${FLOOD_HOST}/.well-known/domainpop/keys/${i}`), FLOOD_HOST as Identity, docs[0]!.kid).catch((err: { code?: string }) => {
    if (err.code !== 'key_fetch_busy') throw err
  })
}
const statsAfterFlood = cache.stats()
fullGc()
const afterFlood = process.memoryUsage()
if (process.env.KC_DEBUG) console.error({ before, after, afterChurn, afterFlood })
const result: KeyCacheMemoryResult = {
  entries, distinctKeys, hotKeys, fillMs,
  heapUsedBeforeBytes: before.heapUsed, heapUsedAfterBytes: after.heapUsed,
  rssBeforeBytes: before.rss, rssAfterBytes: after.rss,
  heapBytesPerEntry: (after.heapUsed - before.heapUsed) / entries,
  churnLookups: CHURN, churnImports, churnMs, rssAfterChurnBytes: afterChurn.rss,
  floodLookups: FLOOD,
  floodFetches: statsAfterFlood.fetches - statsBeforeFlood.fetches,
  floodRefusals: statsAfterFlood.quotaRefusals - statsBeforeFlood.quotaRefusals,
  floodEvictions: statsAfterFlood.evictions - statsBeforeFlood.evictions,
  heapUsedAfterFloodBytes: afterFlood.heapUsed, rssAfterFloodBytes: afterFlood.rss,
}
// The cache must still be reachable when `after` is taken, or the GC would have freed it.
if (cache.stats().entries !== entries) throw new Error(`cache holds ${cache.stats().entries} entries, expected ${entries}`)
process.stdout.write(JSON.stringify(result) + '\n')
await cache.close()
