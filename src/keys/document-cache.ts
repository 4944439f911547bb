// The cached-document layer under every outbound fetch (PROTOCOL.md §2.4):
// DomainPoP key documents today, an issuer's RFC 8414 metadata and JWKS
// next, all with the same limits. Generic over what a document parses to.
// Reads: a request (URL, cache key, owner); a parse function given at
// construction. Returns: the cached entry. Throws: GatewayError only —
// key_fetch_* / whatever `parse` throws (cached), key_fetch_busy (not cached).
//
// - Every entry is accounted to an *owner*: who vouches for the document
//   (the identity for a DomainPoP jku, the issuer for its JWKS). An owner
//   holds at most maxUrlsPerIdentity entries (cached or in flight) and
//   maxBytesPerIdentity bytes: a new URL beyond the first bound is refused
//   before anything is fetched (onRefused), and beyond the second the owner's
//   own oldest entries go. So one owner naming a new URL on every request
//   cannot make the gateway fetch without end, nor push anyone else out.
// - The whole cache is bounded by bytes (cacheMaxBytes) and entries
//   (cacheMaxEntries), least recently used first out. Bytes are an estimate
//   of what an entry keeps alive: the entry, its key and `sizeOf(value)`.
// - Positive entries live for the document's own caching headers, clamped
//   (ttl.ts). Failures are cached for negativeTtlMs and the same error is
//   rethrown, so a broken URL costs one fetch per negativeTtlMs.
// - Concurrent misses for one key share one fetch (single flight).
// - refresh() refetches at most once per refetchCooldownMs (key rotation);
//   a failed refresh keeps the entry it had, restarting the cooldown.
// - At most maxInFlightPerDomain fetches per owner and maxInFlight in all;
//   beyond that key_fetch_busy at once: no queue that could grow without bound.
//
// Hot path: peek() on a fresh entry is one clock read, a Map get, the LRU
// touch (delete + set) and no allocation (bench/micro/key-cache.ts).

import { performance } from 'node:perf_hooks'
import { GatewayError, isGatewayError } from '../errors.js'
import { checkResponseHead } from './response-policy.js'
import { childSpan } from '../tracing/context.js'
import { cacheTtlMs } from './ttl.js'
import type { FetchedDocument, FetchOne, FetchRequest, KeysConfig, MediaProfile } from './types.js'

export type DocumentCacheLimits = Pick<KeysConfig,
  'maxBytes' | 'cacheMinTtlMs' | 'cacheMaxTtlMs' | 'negativeTtlMs' | 'refetchCooldownMs' | 'cacheMaxEntries' | 'cacheMaxBytes'
  | 'maxInFlight' | 'maxInFlightPerDomain' | 'maxUrlsPerIdentity' | 'maxBytesPerIdentity'>

/** Why a fetch was refused before it started (a metrics label). */
export type RefusalReason = 'in_flight' | 'in_flight_per_owner' | 'urls_per_owner'

/** A cached document as its users see it. The same object is returned on every hit. */
export interface CachedDocument<T> {
  readonly value: T
  readonly fetchedAtMs: number
  readonly expiresAtMs: number
}

export interface DocumentRequest {
  readonly url: URL
  /** Who vouches for the document; its quotas apply. */
  readonly owner: string
  /** The cache key; default url.href. A POST names its own (URL plus what identifies the body). */
  readonly key?: string
  readonly method?: FetchRequest['method']
  readonly body?: FetchRequest['body']
}

export interface DocumentCacheOptions<T> {
  readonly limits: DocumentCacheLimits
  /** Accept header and the response media types taken. */
  readonly profile: MediaProfile
  /** The document → the value kept. Throws a GatewayError for a document that must not be used; that is cached as a failure. */
  readonly parse: (doc: FetchedDocument) => Promise<T>
  /** Bytes `value` keeps alive, estimated; the entry and its key are counted by the cache. */
  readonly sizeOf: (value: T) => number
  /** The one outbound seam (the safe fetcher's `fetch`, or a test double). */
  readonly fetch: FetchOne
  /** Clock for TTLs and cooldowns, ms since the epoch. */
  readonly now?: () => number
  /** Called once per fetch with 'ok' or the error code, and its wall time. */
  readonly onFetch?: (url: string, outcome: string, ms: number) => void
  /** Called before a fetch starts, after the cache's own limits passed; throwing a GatewayError refuses it (not cached). */
  readonly beforeFetch?: (owner: string) => void
  /** Called once per fetch the cache refused before it started. */
  readonly onRefused?: (reason: RefusalReason, owner: string) => void
}

export interface DocumentCacheStats {
  readonly entries: number
  /** Estimated bytes held, ≤ cacheMaxBytes. */
  readonly bytes: number
  /** Owners holding an entry or a fetch in flight. */
  readonly owners: number
  readonly hits: number
  readonly misses: number
  readonly negativeHits: number
  readonly fetches: number
  /** Fetches of a key that had a fresh entry (refresh()). */
  readonly refetches: number
  /** Refused: in-flight caps. */
  readonly busyRejections: number
  /** Refused: the owner already holds maxUrlsPerIdentity entries. */
  readonly quotaRefusals: number
  /** Entries dropped for the global bounds. */
  readonly evictions: number
  /** Entries an owner lost to its own newer ones (maxUrlsPerIdentity, maxBytesPerIdentity). */
  readonly ownerEvictions: number
  readonly inFlight: number
}

/** One cached entry as the admin page shows it (admin/page.ts): never the document itself. */
export interface CacheEntryView {
  readonly url: string
  /** The identity or issuer that vouches for it. */
  readonly owner: string
  readonly fetchedAtMs: number
  readonly expiresAtMs: number
  /** A remembered failure: its code. */
  readonly failed: string | undefined
}

export interface DocumentCache<T> {
  /** The fresh entry for `key`, without I/O; undefined on a miss; throws a cached failure. */
  peek(key: string): CachedDocument<T> | undefined
  /** peek(), else fetch within the limits (single flight). */
  get(request: DocumentRequest): Promise<CachedDocument<T>>
  /** Fetch again, unless `current` was fetched less than refetchCooldownMs ago: then `current`. */
  refresh(request: DocumentRequest, current: CachedDocument<T>): Promise<CachedDocument<T>>
  /** Entries held by `owner`. */
  held(owner: string): number
  /** Up to `limit` entries, most recently used first (the admin page). */
  list(limit: number): CacheEntryView[]
  readonly size: number
  stats(): DocumentCacheStats
  close(): Promise<void>
}

/**
 * The entry object, the Map slots that point at it and its owner's
 * bookkeeping (for an owner with one entry, the usual case), as measured by
 * bench/scale/key-cache-child.ts: 717 heap bytes per one-key P-256 domain,
 * of which the key URL and the key's strings are ≈ 380.
 */
export const ENTRY_OVERHEAD_BYTES = 340
/** A cached failure: the error object and its captured stack, estimated. */
export const NEGATIVE_ENTRY_BYTES = 512
/** A JS string: header plus one byte per character (URLs, base64url and kids are one-byte strings). */
export const stringBytes = (s: string | undefined): number => (s === undefined ? 0 : 16 + s.length)

class Slot<T> implements CachedDocument<T> {
  /** The owner's next older and newer entries (an intrusive list: no Map or Set per owner). */
  older: Slot<T> | undefined = undefined
  newer: Slot<T> | undefined = undefined
  // One shape for positive and negative entries (value or error is undefined).
  constructor(
    readonly key: string,
    readonly owner: Owner<T>,
    readonly value: T,
    readonly error: GatewayError | undefined,
    public fetchedAtMs: number,
    readonly expiresAtMs: number,
    readonly charge: number,
  ) {}
}

/**
 * What one owner holds: counters and the ends of its list of entries,
 * oldest fetched first. Measured (bench/scale/key-cache-child.ts, heap per
 * cached one-key domain): 527 bytes before per-owner accounting, 1,015 with
 * a Map and a Set per owner, 717 with this.
 */
class Owner<T> {
  entries = 0
  bytes = 0
  /** Fetches in flight for this owner. */
  fetching = 0
  /** Of those, fetches of keys it held no entry for when they started (they count against its URL quota). */
  fetchingNew = 0
  oldest: Slot<T> | undefined = undefined
  newest: Slot<T> | undefined = undefined
  constructor(readonly name: string) {}
}

/** Runs a hook: whatever it throws, it must never change an outcome. */
export function quietly(hook: () => void): void {
  try {
    hook()
  } catch {
    // swallowed on purpose
  }
}

export function createDocumentCache<T>(opts: DocumentCacheOptions<T>): DocumentCache<T> {
  const { limits, profile } = opts
  const now = opts.now ?? Date.now
  /** key → entry; insertion order is recency (least recently used first). */
  const slots = new Map<string, Slot<T>>()
  const owners = new Map<string, Owner<T>>()
  const inFlight = new Map<string, Promise<Slot<T>>>()
  const closer = new AbortController()
  let closed = false
  let bytes = 0
  const counters = { hits: 0, misses: 0, negativeHits: 0, fetches: 0, refetches: 0, busyRejections: 0, quotaRefusals: 0, evictions: 0, ownerEvictions: 0 }

  function peek(key: string): CachedDocument<T> | undefined {
    const slot = slots.get(key)
    if (slot === undefined || slot.expiresAtMs <= now()) return undefined
    slots.delete(key)
    slots.set(key, slot)
    if (slot.error !== undefined) {
      counters.negativeHits++
      throw slot.error
    }
    counters.hits++
    return slot
  }

  async function get(request: DocumentRequest): Promise<CachedDocument<T>> {
    if (closed) throw new GatewayError('key_fetch_failed', 'key cache is closed')
    const key = request.key ?? request.url.href
    const fresh = peek(key)
    if (fresh !== undefined) return fresh
    counters.misses++
    return load(key, request, undefined)
  }

  async function refresh(request: DocumentRequest, current: CachedDocument<T>): Promise<CachedDocument<T>> {
    if (closed) throw new GatewayError('key_fetch_failed', 'key cache is closed')
    if (now() - current.fetchedAtMs < limits.refetchCooldownMs) return current
    return load(request.key ?? request.url.href, request, current as Slot<T>)
  }

  /** Join the fetch in flight for key, or start one if the limits allow. */
  function load(key: string, request: DocumentRequest, previous: Slot<T> | undefined): Promise<Slot<T>> {
    const pending = inFlight.get(key)
    if (pending !== undefined) return pending
    const owner = ownerOf(request.owner)
    if (inFlight.size >= limits.maxInFlight) return refuse('in_flight', owner, busy('too many key fetches in flight; try again shortly'))
    if (owner.fetching >= limits.maxInFlightPerDomain) return refuse('in_flight_per_owner', owner, busy('too many key fetches in flight; try again shortly'))
    const isNew = slots.get(key)?.owner !== owner
    if (isNew && heldBy(owner) >= limits.maxUrlsPerIdentity) {
      return refuse('urls_per_owner', owner, new GatewayError('key_fetch_quota', 'this identity has too many key URLs cached; reuse one, or retry when they expire'))
    }
    try {
      opts.beforeFetch?.(owner.name)
    } catch (err) {
      forgetIfEmpty(owner)
      throw err
    }
    counters.fetches++
    if (previous !== undefined) counters.refetches++
    owner.fetching++
    if (isNew) owner.fetchingNew++
    // A child span of the request that started the fetch (a no-op call while tracing is off; src/tracing/).
    const p = childSpan('popgate.key_fetch', { 'url.full': request.url.href, 'popgate.key_owner': owner.name }, () => fetchAndStore(key, request, owner, isNew, previous))
    inFlight.set(key, p)
    return p
  }

  function refuse(reason: RefusalReason, owner: Owner<T>, error: GatewayError): never {
    if (reason === 'urls_per_owner') counters.quotaRefusals++
    else counters.busyRejections++
    forgetIfEmpty(owner)
    quietly(() => opts.onRefused?.(reason, owner.name))
    throw error
  }

  /** Entries the owner holds plus new keys it is fetching; expired entries are dropped first. */
  function heldBy(owner: Owner<T>): number {
    const t = now()
    for (let slot = owner.oldest; slot !== undefined;) {
      const next = slot.newer
      // The owner stays in the owners map even if this empties it: the caller is about to use it.
      if (slot.expiresAtMs <= t) remove(slot, false)
      slot = next
    }
    return owner.entries + owner.fetchingNew
  }

  async function fetchAndStore(key: string, request: DocumentRequest, owner: Owner<T>, isNew: boolean, previous: Slot<T> | undefined): Promise<Slot<T>> {
    const startedMs = performance.now()
    const href = request.url.href
    // Bookkeeping and store happen in one synchronous step, so nothing can see the fetch both done and not yet stored.
    const settle = (): void => {
      inFlight.delete(key)
      owner.fetching--
      if (isNew) owner.fetchingNew--
    }
    let doc: FetchedDocument
    let value: T
    let slot: Slot<T>
    try {
      try {
        doc = await opts.fetch({ url: request.url, method: request.method, body: request.body, profile, maxBytes: limits.maxBytes }, closer.signal)
        // The safe fetcher already did these; an injected one gets the same policy.
        checkResponseHead(doc.status, doc.headers, limits.maxBytes, profile)
        if (doc.body.length > limits.maxBytes) throw new GatewayError('key_fetch_too_large', `key document is larger than ${limits.maxBytes} bytes`)
        value = await opts.parse(doc)
      } catch (err) {
        settle()
        throw err
      }
      settle()
      const charge = ENTRY_OVERHEAD_BYTES + stringBytes(key) + opts.sizeOf(value)
      if (charge > limits.maxBytesPerIdentity) throw new GatewayError('key_fetch_too_large', 'key document takes more memory than one identity may hold')
      const t = now()
      slot = new Slot<T>(key, owner, value, undefined, t, t + cacheTtlMs(doc.headers, t, limits.cacheMinTtlMs, limits.cacheMaxTtlMs), charge)
    } catch (err) {
      const error = isGatewayError(err) ? err : new GatewayError('key_fetch_failed', 'could not fetch the key document', { cause: err })
      const t = now()
      if (!closed) {
        // A failed refresh keeps the document we already trust (restarting
        // the cooldown); any other failure is remembered briefly.
        if (previous !== undefined) keep(previous, owner, t)
        else store(new Slot<T>(key, owner, undefined as T, error, t, t + limits.negativeTtlMs, ENTRY_OVERHEAD_BYTES + stringBytes(key) + NEGATIVE_ENTRY_BYTES))
      }
      forgetIfEmpty(owner)
      report(href, error.code, startedMs)
      throw error
    }
    if (!closed) store(slot)
    forgetIfEmpty(owner)
    report(href, 'ok', startedMs)
    return slot
  }

  function keep(previous: Slot<T>, owner: Owner<T>, t: number): void {
    if (slots.get(previous.key) === previous) {
      previous.fetchedAtMs = t
      return
    }
    // Evicted while the refresh ran: put it back (it is still the newest document we trust).
    store(new Slot<T>(previous.key, owner, previous.value, undefined, t, previous.expiresAtMs, previous.charge))
  }

  /** Adds `slot` as the newest entry of the cache and of its owner, then restores the bounds. */
  function store(slot: Slot<T>): void {
    const old = slots.get(slot.key)
    // The same key under another owner (two issuers pinning one jwks_uri): that owner may now hold nothing.
    if (old !== undefined) remove(old, old.owner !== slot.owner)
    const owner = slot.owner
    slots.set(slot.key, slot)
    slot.older = owner.newest
    if (owner.newest !== undefined) owner.newest.newer = slot
    else owner.oldest = slot
    owner.newest = slot
    owner.entries++
    owner.bytes += slot.charge
    bytes += slot.charge
    // The new slot is the newest in both orders, so with more than one entry
    // the oldest is never the slot just added.
    // The owner pays for its own churn first ...
    while (owner.entries > 1 && (owner.entries > limits.maxUrlsPerIdentity || owner.bytes > limits.maxBytesPerIdentity)) {
      remove(owner.oldest!, false)
      counters.ownerEvictions++
    }
    // ... then the cache as a whole forgets the least recently used.
    while (slots.size > 1 && (slots.size > limits.cacheMaxEntries || bytes > limits.cacheMaxBytes)) {
      remove(slots.values().next().value as Slot<T>, true)
      counters.evictions++
    }
  }

  function remove(slot: Slot<T>, forgetOwner: boolean): void {
    if (slots.get(slot.key) !== slot) return
    slots.delete(slot.key)
    bytes -= slot.charge
    const owner = slot.owner
    if (slot.older !== undefined) slot.older.newer = slot.newer
    else owner.oldest = slot.newer
    if (slot.newer !== undefined) slot.newer.older = slot.older
    else owner.newest = slot.older
    slot.older = slot.newer = undefined
    owner.entries--
    owner.bytes -= slot.charge
    if (forgetOwner) forgetIfEmpty(owner)
  }

  function ownerOf(name: string): Owner<T> {
    let owner = owners.get(name)
    if (owner === undefined) {
      owner = new Owner<T>(name)
      owners.set(name, owner)
    }
    return owner
  }

  function forgetIfEmpty(owner: Owner<T>): void {
    if (owner.entries === 0 && owner.fetching === 0 && owners.get(owner.name) === owner) owners.delete(owner.name)
  }

  function report(href: string, outcome: string, startedMs: number): void {
    quietly(() => opts.onFetch?.(href, outcome, performance.now() - startedMs))
  }

  return {
    peek,
    get,
    refresh,
    held: (owner) => owners.get(owner)?.entries ?? 0,
    list(limit) {
      const all = [...slots.values()]
      const out: CacheEntryView[] = []
      for (let i = all.length - 1; i >= 0 && out.length < limit; i--) {
        const s = all[i]!
        out.push({ url: s.key, owner: s.owner.name, fetchedAtMs: s.fetchedAtMs, expiresAtMs: s.expiresAtMs, failed: s.error?.code })
      }
      return out
    },
    get size() { return slots.size },
    stats: () => ({ entries: slots.size, bytes, owners: owners.size, ...counters, inFlight: inFlight.size }),
    async close() {
      if (closed) return
      closed = true
      closer.abort()
      await Promise.allSettled([...inFlight.values()])
      slots.clear()
      owners.clear()
      bytes = 0
    },
  }
}

const busy = (detail: string): GatewayError => new GatewayError('key_fetch_busy', detail)
