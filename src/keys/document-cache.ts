// The cached-document layer under every outbound fetch (PROTOCOL.md §2.4):
// DomainPoP key documents today, an issuer's RFC 8414 metadata and JWKS
// next, all with the same limits. Generic over what a document parses to.
// Reads: a request (URL, cache key, owner); a parse function given at
// construction. Returns: the cached entry. Throws: GatewayError only —
// key_fetch_* / whatever `parse` throws (cached), key_fetch_busy (not cached).
//
// - Every document is accounted to an *owner*: who vouches for it (the
//   identity for a DomainPoP jku, the issuer's host for its metadata and
//   JWKS). An owner holds at most maxUrlsPerIdentity documents and
//   maxBytesPerIdentity bytes of them; a new URL is refused (key_fetch_quota,
//   before anything is fetched) while its documents fill that. A fresh
//   document is never evicted for a new URL, and one whose key verified a
//   proof (markProven) keeps its slot past its TTL and is refetched without
//   any quota check: nothing a stranger does takes an identity's place.
// - What a request *asks for* that its owner does not hold is charged to the
//   *payer*, the pair (owner, client address) (issue 19): failures (cached
//   for negativeTtlMs) and new fetches in flight, at most maxUrlsPerIdentity
//   per pair, and at most maxInFlightPerDomain fetches in flight per pair. A
//   stranger naming junk URLs under alice's domain spends their own quota,
//   never alice's. An owner keeps at most NEGATIVES_PER_SLOT ×
//   maxUrlsPerIdentity failures from all payers together (its oldest go
//   first), so memory per owner stays bounded whatever the number of
//   addresses. The refusal hook names the client address that spent the quota.
// - Bookkeeping lives in owners.ts (owners, payers, their lists) and
//   slot-table.ts (recency and bytes); this file is the policy.
// - The whole cache is bounded by bytes (cacheMaxBytes) and entries
//   (cacheMaxEntries), least recently used first out. Bytes are an estimate
//   of what an entry keeps alive: the entry, its key and `sizeOf(value)`.
// - Positive entries live for the document's own caching headers, clamped
//   (ttl.ts). Failures are cached for negativeTtlMs and the same error is
//   rethrown, so a broken URL costs one fetch per negativeTtlMs; a document
//   whose refetch fails keeps its slot, rethrowing the failure for as long.
// - Concurrent misses for one key share one fetch (single flight).
// - refresh() refetches at most once per refetchCooldownMs (key rotation);
//   a failed refresh keeps the entry it had, restarting the cooldown.
// - Stale if error (RFC 5861 §4, keys.staleIfError): an expired document
//   that a proof vouched for (markProven) whose refetch fails for an outage
//   (the host unreachable, a timeout, a 5xx: GatewayError.outage) is served
//   as it was for up to staleIfErrorMs past its expiry, refetched every
//   negativeTtlMs meanwhile. Any answer ends it at once: a 200 replaces the
//   document (a key it no longer lists is gone), a 404 or a bad document is
//   the failure it always was.
// - At most maxInFlightPerDomain fetches per (owner, client address) and
//   maxInFlight in all; beyond that key_fetch_busy at once: no queue that
//   could grow without bound.
//
// Hot path: peek() on a fresh entry is one clock read, a Map get, the LRU
// touch (delete + set) and no allocation (bench/micro/key-cache.ts).

import { performance } from 'node:perf_hooks'
import { GatewayError, isGatewayError } from '../errors.js'
import { checkResponseHead } from './response-policy.js'
import { childSpan } from '../tracing/context.js'
import { cacheTtlMs } from './ttl.js'
import type { FetchedDocument, FetchOne, FetchRequest, KeysConfig, MediaProfile } from './types.js'
import { Accounts, Slot, type Owner, type Payer } from './owners.js'
import { SlotTable } from './slot-table.js'

export type DocumentCacheLimits = Pick<KeysConfig,
  'maxBytes' | 'cacheMinTtlMs' | 'cacheMaxTtlMs' | 'negativeTtlMs' | 'refetchCooldownMs' | 'cacheMaxEntries' | 'cacheMaxBytes'
  | 'maxInFlight' | 'maxInFlightPerDomain' | 'maxUrlsPerIdentity' | 'maxBytesPerIdentity' | 'staleIfErrorMs'>

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
  /** The client address that asked (http/client-address.ts): failures and new fetches are charged to (owner, client). */
  readonly client?: string
  /** The cache key; default url.href. A POST names its own (URL plus what identifies the body). */
  readonly key?: string
  readonly method?: FetchRequest['method']
  readonly body?: FetchRequest['body']
}

export interface DocumentCacheOptions<T> {
  readonly limits: DocumentCacheLimits
  /** Accept header and the response media types taken. */
  readonly profile: MediaProfile
  /** The document → the value kept (`request`: what was asked, its owner); throws a GatewayError for a document that must not be used: that is cached as a failure. */
  readonly parse: (doc: FetchedDocument, request: DocumentRequest) => Promise<T>
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
  /** Called once per fetch the cache refused before it started, with the client address whose quota was spent. */
  readonly onRefused?: (reason: RefusalReason, owner: string, client: string) => void
  /** Called each time an expired document is served through an outage (stale if error); `first` once per outage of that document. */
  readonly onStale?: (owner: string, url: string, first: boolean) => void
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
  /** Refused: the owner's documents, or the (owner, client) pair's failures and new fetches, fill maxUrlsPerIdentity. */
  readonly quotaRefusals: number
  /** Entries dropped for the global bounds. */
  readonly evictions: number
  /** Entries an owner lost to its own bounds: expired documents, or its oldest failures. */
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
  /** A key of the document at `key` verified a proof: it keeps its slot past its TTL and refetches without a quota check. False when not held. */
  markProven(key: string): boolean
  /** Entries held by `owner` (documents and failures). */
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
/** An owner keeps at most this many × maxUrlsPerIdentity failures, from all payers together. */
export const NEGATIVES_PER_SLOT = 4
/** A JS string: header plus one byte per character (URLs, base64url and kids are one-byte strings). */
export const stringBytes = (s: string | undefined): number => (s === undefined ? 0 : 16 + s.length)

/** Runs a hook: whatever it throws, it must never change an outcome. */
export function quietly(hook: () => void): void {
  try {
    hook()
  } catch {
    // swallowed on purpose
  }
}

const busy = (): GatewayError => new GatewayError('key_fetch_busy', 'too many key fetches in flight; try again shortly')

export function createDocumentCache<T>(opts: DocumentCacheOptions<T>): DocumentCache<T> {
  const { limits, profile } = opts
  const now = opts.now ?? Date.now
  const table = new SlotTable<Slot<T>>()
  const accounts = new Accounts<T>()
  const inFlight = new Map<string, Promise<Slot<T>>>()
  const closer = new AbortController()
  let closed = false
  const counters = { hits: 0, misses: 0, negativeHits: 0, fetches: 0, refetches: 0, busyRejections: 0, quotaRefusals: 0, evictions: 0, ownerEvictions: 0 }

  function peek(key: string): CachedDocument<T> | undefined {
    const slot = table.get(key)
    if (slot === undefined) return undefined
    if (slot.expiresAtMs <= now()) {
      // An expired document whose refetch failed: the failure, for negativeTtlMs.
      if (slot.failure === undefined || slot.failedUntilMs <= now()) return undefined
      // ... unless it is served stale through an outage (RFC 5861 §4).
      if (servesStale(slot, slot.failure, now())) {
        table.touch(slot)
        stale(slot)
        return slot
      }
      counters.negativeHits++
      throw slot.failure
    }
    table.touch(slot)
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
    const owner = accounts.owner(request.owner)
    const payer = accounts.payer(owner.name, request.client ?? '')
    if (inFlight.size >= limits.maxInFlight) return refuse('in_flight', owner, payer, busy())
    if (payer.fetching >= limits.maxInFlightPerDomain) return refuse('in_flight_per_owner', owner, payer, busy())
    const held = table.get(key)
    // A document the owner already holds (fresh, expired or proven) refetches without a quota check.
    const known = held !== undefined && held.owner === owner && held.error === undefined ? held : undefined
    if (known === undefined) {
      dropExpired(owner)
      if (payer.charged >= limits.maxUrlsPerIdentity) {
        return refuse('urls_per_owner', owner, payer, new GatewayError('key_fetch_quota', 'this client has too many failed or pending key URLs for this identity; retry when they expire'))
      }
      // The payer's own new fetches in flight count too (one client's burst cannot overshoot); others' do not.
      if (owner.positives.count + payer.fetchingNew >= limits.maxUrlsPerIdentity) {
        return refuse('urls_per_owner', owner, payer, new GatewayError('key_fetch_quota', 'this identity has too many key URLs cached; reuse one, or retry when they expire'))
      }
    }
    try {
      opts.beforeFetch?.(owner.name)
    } catch (err) {
      accounts.forgetIfEmpty(owner, payer)
      throw err
    }
    counters.fetches++
    if (previous !== undefined) counters.refetches++
    owner.fetching++
    payer.fetching++
    if (known === undefined) payer.fetchingNew++
    // A child span of the request that started the fetch (a no-op call while tracing is off; src/tracing/).
    const p = childSpan('popgate.key_fetch', { 'url.full': request.url.href, 'popgate.key_owner': owner.name }, () => fetchAndStore(key, request, owner, payer, previous ?? known))
    inFlight.set(key, p)
    return p
  }

  function refuse(reason: RefusalReason, owner: Owner<T>, payer: Payer, error: GatewayError): never {
    if (reason === 'urls_per_owner') counters.quotaRefusals++
    else counters.busyRejections++
    accounts.forgetIfEmpty(owner, payer)
    quietly(() => opts.onRefused?.(reason, owner.name, payer.client))
    throw error
  }

  /** Drops the owner's expired failures and expired documents no proof vouched for (the owner stays: the caller is using it). */
  function dropExpired(owner: Owner<T>): void {
    const t = now()
    for (const list of [owner.negatives, owner.positives]) {
      for (let slot = list.oldest; slot !== undefined;) {
        const next = slot.newer
        if (slot.expiresAtMs <= t && !slot.proven && slot.failedUntilMs <= t) {
          remove(slot)
          counters.ownerEvictions++
        }
        slot = next
      }
    }
  }

  async function fetchAndStore(key: string, request: DocumentRequest, owner: Owner<T>, payer: Payer, previous: Slot<T> | undefined): Promise<Slot<T>> {
    const startedMs = performance.now()
    const href = request.url.href
    const isNew = previous === undefined
    // Bookkeeping and store happen in one synchronous step, so nothing can see the fetch both done and not yet stored.
    const settle = (): void => {
      inFlight.delete(key)
      owner.fetching--
      payer.fetching--
      if (isNew) payer.fetchingNew--
    }
    let slot: Slot<T>
    try {
      let doc: FetchedDocument
      let value: T
      try {
        doc = await opts.fetch({ url: request.url, method: request.method, body: request.body, profile, maxBytes: limits.maxBytes }, closer.signal)
        // The safe fetcher already did these; an injected one gets the same policy.
        checkResponseHead(doc.status, doc.headers, limits.maxBytes, profile)
        if (doc.body.length > limits.maxBytes) throw new GatewayError('key_fetch_too_large', `key document is larger than ${limits.maxBytes} bytes`)
        value = await opts.parse(doc, request)
      } finally {
        settle()
      }
      const charge = ENTRY_OVERHEAD_BYTES + stringBytes(key) + opts.sizeOf(value)
      if (charge > limits.maxBytesPerIdentity) throw new GatewayError('key_fetch_too_large', 'key document takes more memory than one identity may hold')
      const t = now()
      slot = new Slot<T>(key, owner, value, undefined, t, t + cacheTtlMs(doc.headers, t, limits.cacheMinTtlMs, limits.cacheMaxTtlMs), charge, undefined)
      slot.proven = previous?.proven === true
      if (!closed && !storeDocument(slot)) throw new GatewayError('key_fetch_quota', 'this identity has too many key URLs cached; reuse one, or retry when they expire')
    } catch (err) {
      const error = isGatewayError(err) ? err : new GatewayError('key_fetch_failed', 'could not fetch the key document', { cause: err })
      // A document refused for the owner's bounds is cached as a failure too, charged to the payer who named it.
      const kept = closed ? undefined : storeFailure(key, owner, payer, previous, error)
      accounts.forgetIfEmpty(owner, payer)
      report(href, error.code, startedMs)
      // An outage, and a document a proof vouched for within staleIfError: served as it was (RFC 5861 §4).
      if (kept !== undefined && servesStale(kept, error, now())) {
        stale(kept)
        return kept
      }
      throw error
    }
    accounts.forgetIfEmpty(owner, payer)
    report(href, 'ok', startedMs)
    return slot
  }

  /** RFC 5861 §4: an expired, proven document may stand in while its host is down, for staleIfErrorMs past its expiry. */
  function servesStale(slot: Slot<T>, error: GatewayError, t: number): boolean {
    return error.outage && slot.proven && slot.error === undefined && slot.expiresAtMs <= t && t < slot.expiresAtMs + (limits.staleIfErrorMs ?? 0)
  }

  function stale(slot: Slot<T>): void {
    const first = !slot.servedStale
    slot.servedStale = true
    quietly(() => opts.onStale?.(slot.owner.name, slot.key, first))
  }

  /** A failed fetch: a document already held keeps its slot (restarting the cooldown; returned); anything else is a failure charged to the payer. */
  function storeFailure(key: string, owner: Owner<T>, payer: Payer, previous: Slot<T> | undefined, error: GatewayError): Slot<T> | undefined {
    const t = now()
    if (previous !== undefined) {
      let kept = previous
      if (table.get(previous.key) !== previous) {
        // Evicted while the refetch ran: put it back (it is still the newest document we trust).
        kept = new Slot<T>(previous.key, owner, previous.value, undefined, t, previous.expiresAtMs, previous.charge, undefined)
        kept.proven = previous.proven
        kept.servedStale = previous.servedStale
        add(kept)
      }
      kept.fetchedAtMs = t
      if (kept.expiresAtMs <= t) {
        kept.failure = error
        kept.failedUntilMs = t + limits.negativeTtlMs
      }
      return kept
    }
    const slot = new Slot<T>(key, owner, undefined as T, error, t, t + limits.negativeTtlMs, ENTRY_OVERHEAD_BYTES + stringBytes(key) + NEGATIVE_ENTRY_BYTES, payer)
    const old = table.get(key)
    // Never over a document someone trusts: a failure for a URL whose document another owner holds is not cached.
    if (old !== undefined && old.error === undefined) return undefined
    add(slot)
    payer.negatives++
    while (owner.negatives.count > NEGATIVES_PER_SLOT * limits.maxUrlsPerIdentity) {
      remove(owner.negatives.oldest!)
      counters.ownerEvictions++
    }
    restoreGlobalBounds()
    return undefined
  }

  /**
   * A fetched document: the newest of its owner, within the owner's bounds
   * without pushing out a fresh or proven one; false (nothing stored) when
   * only that would make room (several clients' new URLs fetched at once, or
   * a document too big for what the owner already holds).
   */
  function storeDocument(slot: Slot<T>): boolean {
    add(slot)
    const owner = slot.owner
    const over = (): boolean => owner.positives.count > limits.maxUrlsPerIdentity || owner.positives.bytes > limits.maxBytesPerIdentity
    if (over()) dropExpired(owner)
    if (over()) {
      remove(slot)
      return false
    }
    restoreGlobalBounds()
    return true
  }

  /** Adds `slot` in place of whatever its key held. */
  function add(slot: Slot<T>): void {
    const old = table.get(slot.key)
    if (old !== undefined) {
      remove(old)
      if (old.owner !== slot.owner) accounts.forgetIfEmpty(old.owner, old.payer)
    }
    table.add(slot)
    slot.owner.listOf(slot).push(slot)
  }

  function remove(slot: Slot<T>): void {
    if (!table.remove(slot)) return
    slot.owner.listOf(slot).unlink(slot)
    // The owner is kept even if this empties it: the caller may be using it (its forgetting is the caller's).
    if (slot.payer !== undefined) {
      slot.payer.negatives--
      accounts.forgetPayerIfEmpty(slot.payer)
    }
  }

  /** The cache as a whole forgets the least recently used, whoever's (never the entry just added: it is the newest). */
  function restoreGlobalBounds(): void {
    while (table.size > 1 && (table.size > limits.cacheMaxEntries || table.bytes > limits.cacheMaxBytes)) {
      const victim = table.oldest()!
      remove(victim)
      accounts.forgetIfEmpty(victim.owner, victim.payer)
      counters.evictions++
    }
  }

  function report(href: string, outcome: string, startedMs: number): void {
    quietly(() => opts.onFetch?.(href, outcome, performance.now() - startedMs))
  }

  return {
    peek,
    get,
    refresh,
    markProven(key) {
      const slot = table.get(key)
      if (slot === undefined || slot.error !== undefined) return false
      slot.proven = true
      return true
    },
    held: (owner) => accounts.owners.get(owner)?.entries ?? 0,
    list(limit) {
      const all = [...table.values()]
      const out: CacheEntryView[] = []
      for (let i = all.length - 1; i >= 0 && out.length < limit; i--) {
        const s = all[i]!
        out.push({ url: s.key, owner: s.owner.name, fetchedAtMs: s.fetchedAtMs, expiresAtMs: s.expiresAtMs, failed: s.error?.code })
      }
      return out
    },
    get size() { return table.size },
    stats: () => ({ entries: table.size, bytes: table.bytes, owners: accounts.owners.size, ...counters, inFlight: inFlight.size }),
    async close() {
      if (closed) return
      closed = true
      closer.abort()
      await Promise.allSettled([...inFlight.values()])
      table.clear()
      accounts.clear()
    },
  }
}
