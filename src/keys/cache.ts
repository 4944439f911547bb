// The key cache (PROTOCOL.md §2.4): key documents by URL, so a busy identity
// costs one fetch per TTL, not one per request.
// Reads: a key URL that passed checkKeyUrl, its identity and the proof's kid.
// Returns: the ResolvedKey whose RFC 7638 thumbprint is kid.
// Throws: GatewayError — key_fetch_* / key_document_invalid from the fetch,
// key_not_found, key_fetch_busy. Never anything else.
//
// - Positive entries live for the document's own caching headers, clamped
//   (ttl.ts). Failures are cached for negativeTtlMs and the same error is
//   rethrown, so a broken domain costs one fetch per negativeTtlMs.
// - Concurrent misses for one URL share one fetch (single-flight).
// - A kid missing from a fresh document triggers at most one refetch per
//   refetchCooldownMs (key rotation), then key_not_found; a stranger cycling
//   random kids cannot turn the cache into a fetch amplifier.
// - At most maxInFlightPerDomain fetches per identity and maxInFlight in all;
//   beyond that key_fetch_busy at once: no queue that could grow without bound.
// - A bounded LRU of cacheMaxEntries (positive and negative entries alike).
// - Keys are kept compact; only the hotKeys most recently used stay imported
//   as KeyObjects (hot-keys.ts), so memory per cached domain stays small.

import { performance } from 'node:perf_hooks'
import { GatewayError, isGatewayError } from '../errors.js'
import type { Identity } from '../identity/domain.js'
import { parseKeyDocument } from './document.js'
import { createKeyFetcher } from './fetcher.js'
import { HotKeys } from './hot-keys.js'
import { Lru } from './lru.js'
import { checkResponseHead } from './response-policy.js'
import { cacheTtlMs } from './ttl.js'
import type { FetchDocument, KeysConfig, ResolvedKey, StoredKey } from './types.js'

export interface KeyCacheStats {
  readonly entries: number
  readonly hits: number
  readonly misses: number
  readonly negativeHits: number
  readonly fetches: number
  readonly kidRefetches: number
  readonly busyRejections: number
  readonly evictions: number
  readonly inFlight: number
  /** Keys held imported, ≤ hotKeys. */
  readonly hotKeys: number
  /** Re-imports of keys that had left the hot set. */
  readonly keyImports: number
}

export interface KeyCache {
  getKey(url: URL, identity: Identity, kid: string): Promise<ResolvedKey>
  readonly size: number
  stats(): KeyCacheStats
  close(): Promise<void>
}

export interface KeyCacheDeps {
  /** Clock for TTLs and cooldowns, ms since the epoch. */
  readonly now?: () => number
  /** Default: the safe undici fetcher (createKeyFetcher). */
  readonly fetchDocument?: FetchDocument
  /** Metrics hook: called once per fetch with 'ok' or the error code, and the fetch's wall time. */
  readonly onFetch?: (url: string, outcome: string, ms: number) => void
  /** Metrics hook: called once per re-import of a key that had left the hot set. */
  readonly onKeyImport?: () => void
  /** Called before a new fetch starts; throwing a GatewayError refuses it (not cached). The new-domain budget. */
  readonly beforeFetch?: (identity: Identity) => void
}

/**
 * `keys` is the one key of a one-key document (the usual case) or an array
 * (≤ MAX_KEYS_PER_DOCUMENT): no array, let alone a Map, per cached domain
 * when one key is all there is (docs/benchmarks.md, "Key cache memory").
 */
interface KeysEntry { readonly kind: 'keys'; readonly keys: StoredKey | readonly StoredKey[]; readonly fetchedAtMs: number; readonly expiresAtMs: number }
interface ErrorEntry { readonly kind: 'error'; readonly error: GatewayError; readonly expiresAtMs: number }
type Entry = KeysEntry | ErrorEntry

/** Runs a metrics hook: whatever it throws, it must never change an authentication outcome. */
function quietly(hook: () => void): void {
  try {
    hook()
  } catch {
    // swallowed on purpose
  }
}

const isKeyList = (keys: StoredKey | readonly StoredKey[]): keys is readonly StoredKey[] => Array.isArray(keys)

export function createKeyCache(cfg: KeysConfig, deps: KeyCacheDeps = {}): KeyCache {
  const now = deps.now ?? Date.now
  const ownFetcher = deps.fetchDocument ? undefined : createKeyFetcher(cfg)
  const fetchDocument: FetchDocument = deps.fetchDocument ?? ((url, signal) => ownFetcher!.fetchDocument(url, signal))
  const lru = new Lru<string, Entry>(cfg.cacheMaxEntries)
  const hot = new HotKeys(cfg.hotKeys, () => quietly(() => deps.onKeyImport?.()))
  const inFlight = new Map<string, Promise<KeysEntry>>()
  const inFlightByDomain = new Map<string, number>()
  const closer = new AbortController()
  let closed = false
  const counters = { hits: 0, misses: 0, negativeHits: 0, fetches: 0, kidRefetches: 0, busyRejections: 0 }

  const notFound = (): GatewayError => new GatewayError('key_not_found', 'the key document has no key with this kid')
  const find = (entry: KeysEntry, kid: string): ResolvedKey | undefined => {
    const keys = entry.keys
    if (!isKeyList(keys)) return keys.kid === kid ? hot.resolve(keys) : undefined
    for (const k of keys) if (k.kid === kid) return hot.resolve(k)
    return undefined
  }
  const pick = (entry: KeysEntry, kid: string): ResolvedKey => find(entry, kid) ?? (() => { throw notFound() })()

  async function getKey(url: URL, identity: Identity, kid: string): Promise<ResolvedKey> {
    if (closed) throw new GatewayError('key_fetch_failed', 'key cache is closed')
    // checkKeyUrl already enforced this; the cache's per-domain limits depend on it.
    if (url.hostname !== identity) throw new GatewayError('proof_jku_invalid', 'jku host must equal the identity')
    const href = url.href
    const t = now()
    const entry = lru.get(href)
    if (entry !== undefined && entry.expiresAtMs > t) {
      if (entry.kind === 'error') {
        counters.negativeHits++
        throw entry.error
      }
      const key = find(entry, kid)
      if (key !== undefined) {
        counters.hits++
        return key
      }
      if (t - entry.fetchedAtMs < cfg.refetchCooldownMs) throw notFound()
      return pick(await load(href, url, identity, entry), kid)
    }
    counters.misses++
    return pick(await load(href, url, identity, undefined), kid)
  }

  /** Join the fetch in flight for href, or start one if the limits allow. */
  function load(href: string, url: URL, identity: Identity, previous: KeysEntry | undefined): Promise<KeysEntry> {
    const pending = inFlight.get(href)
    if (pending !== undefined) return pending
    const domainCount = inFlightByDomain.get(identity) ?? 0
    if (inFlight.size >= cfg.maxInFlight || domainCount >= cfg.maxInFlightPerDomain) {
      counters.busyRejections++
      throw new GatewayError('key_fetch_busy', 'too many key fetches in flight; try again shortly')
    }
    deps.beforeFetch?.(identity)
    inFlightByDomain.set(identity, domainCount + 1)
    counters.fetches++
    if (previous !== undefined) counters.kidRefetches++
    const p = fetchAndStore(href, url, previous).finally(() => {
      inFlight.delete(href)
      const n = (inFlightByDomain.get(identity) ?? 1) - 1
      if (n === 0) inFlightByDomain.delete(identity)
      else inFlightByDomain.set(identity, n)
    })
    inFlight.set(href, p)
    return p
  }

  async function fetchAndStore(href: string, url: URL, previous: KeysEntry | undefined): Promise<KeysEntry> {
    const startedMs = performance.now()
    try {
      const doc = await fetchDocument(url, closer.signal)
      // The default fetcher already did these; an injected one gets the same policy.
      checkResponseHead(doc.status, doc.headers, cfg.maxBytes)
      if (doc.body.length > cfg.maxBytes) throw new GatewayError('key_fetch_too_large', `key document is larger than ${cfg.maxBytes} bytes`)
      const parsed = (await parseKeyDocument(doc.body)).map((k) => hot.admit(k))
      const keys = parsed.length === 1 ? parsed[0]! : parsed
      const t = now()
      const entry: KeysEntry = {
        kind: 'keys',
        keys,
        fetchedAtMs: t,
        expiresAtMs: t + cacheTtlMs(doc.headers, t, cfg.cacheMinTtlMs, cfg.cacheMaxTtlMs),
      }
      if (!closed) lru.set(href, entry)
      report(href, 'ok', startedMs)
      return entry
    } catch (err) {
      const error = isGatewayError(err) ? err : new GatewayError('key_fetch_failed', 'could not fetch the key document', { cause: err })
      report(href, error.code, startedMs)
      const t = now()
      if (!closed) {
        // A failed kid-miss refetch keeps the keys we already trust (restarting
        // the cooldown); any other failure is remembered briefly.
        if (previous !== undefined) lru.set(href, { ...previous, fetchedAtMs: t })
        else lru.set(href, { kind: 'error', error, expiresAtMs: t + cfg.negativeTtlMs })
      }
      throw error
    }
  }

  function report(href: string, outcome: string, startedMs: number): void {
    quietly(() => deps.onFetch?.(href, outcome, performance.now() - startedMs))
  }

  return {
    getKey,
    get size() { return lru.size },
    stats: () => ({ entries: lru.size, ...counters, evictions: lru.evictions, inFlight: inFlight.size, hotKeys: hot.size, keyImports: hot.imports }),
    async close() {
      if (closed) return
      closed = true
      closer.abort()
      await Promise.allSettled([...inFlight.values()])
      lru.clear()
      hot.clear()
      await ownFetcher?.close()
    },
  }
}
