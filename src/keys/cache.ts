// The DomainPoP key cache (PROTOCOL.md §2.4): key documents by URL, on the
// cached-document layer (document-cache.ts), so a busy identity costs one
// fetch per TTL, not one per request.
// Reads: a key URL that passed checkKeyUrl, its identity and the proof's kid.
// Returns: the ResolvedKey whose RFC 7638 thumbprint is kid.
// Throws: GatewayError — proof_jku_invalid (jku host ≠ identity),
// key_fetch_* / key_document_invalid from the fetch, key_not_found,
// key_fetch_busy. Never anything else.
//
// What is DomainPoP's own, and so lives here rather than in the layer below:
// - the jku host must be the identity, and the identity is the owner every
//   entry is accounted to (its URL and byte quotas, its in-flight cap);
// - kid is the RFC 7638 thumbprint the gateway computed (document.ts);
// - a kid missing from a fresh document refreshes it at most once per
//   refetchCooldownMs (key rotation), then key_not_found; a stranger cycling
//   random kids cannot turn the cache into a fetch amplifier;
// - keys are kept compact; only the hotKeys most recently used stay imported
//   as KeyObjects (hot-keys.ts), so memory per cached domain stays small.

import { GatewayError } from '../errors.js'
import type { Identity } from '../identity/domain.js'
import { parseKeyDocument } from './document.js'
import { createDocumentCache, quietly, stringBytes, type CacheEntryView, type DocumentCache, type DocumentCacheStats, type RefusalReason } from './document-cache.js'
import { createSafeFetcher } from './fetcher.js'
import { HotKeys } from './hot-keys.js'
import { JWK_SET_PROFILE } from './response-policy.js'
import type { FetchDocument, FetchOne, KeysConfig, ResolvedKey, StoredKey } from './types.js'
import type { PinLookup } from './thumbprint.js'

/** The document layer's counters (identities are its owners), with its refetches named for what they are here, and the hot set. */
export interface KeyCacheStats extends Omit<DocumentCacheStats, 'refetches'> {
  /** Refetches after a kid miss (at most one per URL per refetchCooldown). */
  readonly kidRefetches: number
  /** Keys held imported, ≤ hotKeys. */
  readonly hotKeys: number
  /** Re-imports of keys that had left the hot set. */
  readonly keyImports: number
}

export interface KeyCache {
  /** `client`: the address that asked; a URL the identity holds no document for is charged to (identity, client). */
  getKey(url: URL, identity: Identity, kid: string, client?: string): Promise<ResolvedKey>
  /** The key from `url` verified a proof: the document keeps its slot past its TTL and refetches without a quota check. */
  markProven(url: URL): void
  readonly size: number
  stats(): KeyCacheStats
  /** Up to `limit` cached key documents, most recently used first (the admin page). */
  list(limit: number): CacheEntryView[]
  close(): Promise<void>
}

export interface KeyCacheDeps {
  /** Clock for TTLs and cooldowns, ms since the epoch. */
  readonly now?: () => number
  /** Default: the safe undici fetcher (createSafeFetcher). */
  readonly fetchDocument?: FetchDocument
  /** Metrics hook: called once per fetch with 'ok' or the error code, and the fetch's wall time. */
  readonly onFetch?: (url: string, outcome: string, ms: number) => void
  /** Metrics hook: called once per re-import of a key that had left the hot set. */
  readonly onKeyImport?: () => void
  /** Called before a new fetch starts; throwing a GatewayError refuses it (not cached). The new-domain budget. */
  readonly beforeFetch?: (identity: Identity) => void
  /** Metrics and log hook: called once per fetch refused by the cache's own limits, before anything was fetched. */
  readonly onRefused?: (reason: RefusalReason, identity: Identity, client: string) => void
  /** An identity's pinned thumbprints (keys/trust.ts): keys they do not list are never imported. */
  readonly pinsFor?: PinLookup
  /** A document served stale through its host's outage (document-cache.ts). */
  readonly onStale?: (identity: string, url: string, first: boolean) => void
}

/**
 * A document's keys: the one key of a one-key document (the usual case) or
 * an array (≤ MAX_KEYS_PER_DOCUMENT): no array, let alone a Map, per cached
 * domain when one key is all there is (docs/benchmarks.md, "Key cache memory").
 */
type Keys = StoredKey | readonly StoredKey[]

const isKeyList = (keys: Keys): keys is readonly StoredKey[] => Array.isArray(keys)

/** A StoredKey object (one shape, nine slots) without its strings, estimated. */
const STORED_KEY_BYTES = 96

/** Heap a document's keys keep alive, estimated (the curve and alg strings are shared constants). */
export function storedKeysBytes(keys: Keys): number {
  const one = (k: StoredKey): number => STORED_KEY_BYTES + stringBytes(k.kid) + stringBytes(k.x) + stringBytes(k.y) + stringBytes(k.n) + stringBytes(k.e)
  if (!isKeyList(keys)) return one(keys)
  let n = 16 + 8 * keys.length
  for (const k of keys) n += one(k)
  return n
}

export function createKeyCache(cfg: KeysConfig, deps: KeyCacheDeps = {}): KeyCache {
  const ownFetcher = deps.fetchDocument ? undefined : createSafeFetcher(cfg)
  const injected = deps.fetchDocument
  const fetch: FetchOne = injected ? (request, signal) => injected(request.url, signal) : (request, signal) => ownFetcher!.fetch(request, signal)
  const hot = new HotKeys(cfg.hotKeys, () => quietly(() => deps.onKeyImport?.()))
  const { onFetch, beforeFetch, onRefused } = deps
  const docs: DocumentCache<Keys> = createDocumentCache<Keys>({
    limits: cfg,
    profile: JWK_SET_PROFILE,
    fetch,
    now: deps.now,
    parse: async (doc, request) => {
      const parsed = (await parseKeyDocument(doc.body, deps.pinsFor?.(request.owner))).map((k) => hot.admit(k))
      return parsed.length === 1 ? parsed[0]! : parsed
    },
    sizeOf: storedKeysBytes,
    onFetch,
    beforeFetch: beforeFetch && ((owner) => beforeFetch(owner as Identity)),
    onRefused: onRefused && ((reason, owner, client) => onRefused(reason, owner as Identity, client)),
    onStale: deps.onStale,
  })
  let closed = false

  const notFound = (): GatewayError => new GatewayError('key_not_found', 'the key document has no key with this kid')
  const find = (keys: Keys, kid: string): ResolvedKey | undefined => {
    if (!isKeyList(keys)) return keys.kid === kid ? hot.resolve(keys) : undefined
    for (const k of keys) if (k.kid === kid) return hot.resolve(k)
    return undefined
  }
  const pick = (keys: Keys, kid: string): ResolvedKey => find(keys, kid) ?? (() => { throw notFound() })()

  async function getKey(url: URL, identity: Identity, kid: string, client?: string): Promise<ResolvedKey> {
    if (closed) throw new GatewayError('key_fetch_failed', 'key cache is closed')
    // checkKeyUrl already enforced this; the per-identity quotas depend on it.
    if (url.hostname !== identity) throw new GatewayError('proof_jku_invalid', 'jku host must equal the identity')
    const cached = docs.peek(url.href)
    if (cached !== undefined) {
      const key = find(cached.value, kid)
      if (key !== undefined) return key
      // Key rotation: a kid the document lacks refreshes it, at most once per cooldown.
      const refreshed = await docs.refresh({ url, owner: identity, client }, cached)
      if (refreshed === cached) throw notFound()
      return pick(refreshed.value, kid)
    }
    return pick((await docs.get({ url, owner: identity, client })).value, kid)
  }

  return {
    getKey,
    markProven: (url) => { docs.markProven(url.href) },
    get size() { return docs.size },
    list: (limit) => docs.list(limit),
    stats: () => {
      const { refetches, ...s } = docs.stats()
      return { ...s, kidRefetches: refetches, hotKeys: hot.size, keyImports: hot.imports }
    },
    async close() {
      if (closed) return
      closed = true
      await docs.close()
      hot.clear()
      await ownFetcher?.close()
    },
  }
}
