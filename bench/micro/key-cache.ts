// Key cache hit cost: getKey on a cached document whose key is in the hot
// set, the path every authenticated request takes. Standalone (not part of
// `npm run bench`): `node --expose-gc dist/bench/micro/key-cache.js [cache.js]`
// measures this build's src/keys/cache.js, or another build's when given its
// path (to compare two builds on one machine, alternating).
// Reports ns per lookup (best of ROUNDS) and young-generation collections
// per million lookups (a proxy for bytes allocated per lookup: a scavenge
// runs each time the semi-space fills, so with a fixed
// --max-semi-space-size more garbage means more scavenges).

import { generateKeyPairSync } from 'node:crypto'
import { PerformanceObserver } from 'node:perf_hooks'
import { pathToFileURL } from 'node:url'
import { calculateJwkThumbprint, type JWK } from 'jose'
import type { createKeyCache as CreateKeyCache } from '../../src/keys/cache.js'
import type { FetchDocument, KeysConfig } from '../../src/keys/types.js'
import type { Identity } from '../../src/identity/domain.js'

const modulePath = process.argv[2] ?? new URL('../../src/keys/cache.js', import.meta.url).pathname
const { createKeyCache } = (await import(pathToFileURL(modulePath).href)) as { createKeyCache: typeof CreateKeyCache }
const DOMAINS = 256
const LOOKUPS = 1_000_000
const ROUNDS = 5

const cfg: KeysConfig = {
  pathPrefix: '/.well-known/domainpop/', allowHttp: [], allowPrivateAddresses: false, allowPorts: [443], resolve: {}, caFile: undefined,
  timeoutMs: 3_000, maxBytes: 64 * 1024, cacheMinTtlMs: 60_000, cacheMaxTtlMs: 3_600_000, negativeTtlMs: 10_000,
  refetchCooldownMs: 30_000, cacheMaxEntries: 10_000, hotKeys: 1_024, maxInFlightPerDomain: 4, maxInFlight: 64,
  cacheMaxBytes: 32 * 1024 * 1024, maxUrlsPerIdentity: 8, maxBytesPerIdentity: 256 * 1024,
}
const jwk = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ format: 'jwk' }) as JWK
const kid = await calculateJwkThumbprint(jwk, 'sha256')
const body = JSON.stringify({ keys: [{ ...jwk, use: 'sig', alg: 'ES256' }] })
const fetchDocument: FetchDocument = async () => ({ status: 200, headers: { 'content-type': 'application/jwk-set+json', 'cache-control': 'max-age=3600' }, body: Buffer.from(body) })
const cache = createKeyCache(cfg, { fetchDocument, now: () => 1_900_000_000_000 })
// One URL object per domain, reused, as checkKeyUrlCached hands the same URL back for a repeated jku.
const targets = Array.from({ length: DOMAINS }, (_, i) => ({ url: new URL(`https://d${i}.example/.well-known/domainpop/keys/${kid}`), identity: `d${i}.example` as Identity }))
for (const x of targets) await cache.getKey(x.url, x.identity, kid)

let scavenges = 0
new PerformanceObserver((list) => { for (const e of list.getEntries()) if ((e as { detail?: { kind?: number } }).detail?.kind === 1) scavenges++ }).observe({ entryTypes: ['gc'] })
const gc = (globalThis as { gc?: () => void }).gc

let best = Infinity
let bestScavenges = 0
for (let round = 0; round < ROUNDS; round++) {
  gc?.()
  await new Promise((r) => setTimeout(r, 20)) // let the observer report the forced GC before counting
  const before = scavenges
  const t0 = process.hrtime.bigint()
  for (let i = 0; i < LOOKUPS; i++) {
    const x = targets[i & (DOMAINS - 1)]!
    await cache.getKey(x.url, x.identity, kid)
  }
  const ns = Number(process.hrtime.bigint() - t0) / LOOKUPS
  await new Promise((r) => setTimeout(r, 20)) // GC entries are delivered on a later turn of the event loop
  if (ns < best) { best = ns; bestScavenges = scavenges - before }
}
const s = cache.stats()
if (s.fetches !== DOMAINS) throw new Error(`expected ${DOMAINS} fetches, saw ${s.fetches}`)
process.stdout.write(`${modulePath}: ${best.toFixed(1)} ns/lookup (best of ${ROUNDS} × ${LOOKUPS.toLocaleString('en-US')}), ${bestScavenges} scavenges in that round\n`)
await cache.close()
