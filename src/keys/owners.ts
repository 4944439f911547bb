// Who a cached document is accounted to (document-cache.ts), split out of the
// cache so the policy there reads on its own. Two kinds of account:
//
// - An *owner* (the identity, or the issuer's host): who vouches for the
//   documents. It holds its entries in two intrusive lists, oldest first:
//   positives (documents that parsed) and negatives (cached failures), so
//   that neither list needs a Map or Set per owner.
// - A *payer* (the pair owner + client address): who asked for a URL the
//   owner did not already hold. Failures and new fetches in flight are
//   charged here (issue 19: a stranger who names junk URLs spends their own
//   quota, never the identity's). A payer is a few counters, forgotten when
//   they reach zero.
//
// Measured before the split (bench/scale/key-cache-child.ts, heap per cached
// one-key domain): 527 bytes before per-owner accounting, 1,015 with a Map
// and a Set per owner, 717 with these intrusive lists.

import type { GatewayError } from '../errors.js'
import type { CachedDocument } from './document-cache.js'

export class Slot<T> implements CachedDocument<T> {
  /** The owner's next older and newer entries of the same kind (positive or negative). */
  older: Slot<T> | undefined = undefined
  newer: Slot<T> | undefined = undefined
  /** A key from this document verified a proof (markProven): it keeps its slot past its TTL and refetches without a quota check. */
  proven = false
  /** Served stale through an outage since its last good fetch (the stale hook's `first`). */
  servedStale = false
  /** A positive entry whose refetch failed: the failure is rethrown until then, and the slot kept. */
  failedUntilMs = 0
  failure: GatewayError | undefined = undefined
  // One shape for positive and negative entries (value or error is undefined).
  constructor(
    readonly key: string,
    readonly owner: Owner<T>,
    readonly value: T,
    readonly error: GatewayError | undefined,
    public fetchedAtMs: number,
    readonly expiresAtMs: number,
    readonly charge: number,
    /** Who paid for a negative entry; undefined for a positive one. */
    readonly payer: Payer | undefined,
  ) {}
}

/** An owner's entries of one kind, oldest first. */
export class SlotList<T> {
  count = 0
  bytes = 0
  oldest: Slot<T> | undefined = undefined
  newest: Slot<T> | undefined = undefined

  push(slot: Slot<T>): void {
    slot.older = this.newest
    if (this.newest !== undefined) this.newest.newer = slot
    else this.oldest = slot
    this.newest = slot
    this.count++
    this.bytes += slot.charge
  }

  unlink(slot: Slot<T>): void {
    if (slot.older !== undefined) slot.older.newer = slot.newer
    else this.oldest = slot.newer
    if (slot.newer !== undefined) slot.newer.older = slot.older
    else this.newest = slot.older
    slot.older = slot.newer = undefined
    this.count--
    this.bytes -= slot.charge
  }
}

export class Owner<T> {
  readonly positives = new SlotList<T>()
  readonly negatives = new SlotList<T>()
  /** Fetches in flight for this owner (any payer). */
  fetching = 0
  constructor(readonly name: string) {}
  get entries(): number { return this.positives.count + this.negatives.count }
  get bytes(): number { return this.positives.bytes + this.negatives.bytes }
  listOf(slot: Slot<T>): SlotList<T> { return slot.error === undefined ? this.positives : this.negatives }
}

/** One (owner, client address) pair's charges. */
export class Payer {
  /** Negative entries it caused that are still cached. */
  negatives = 0
  /** Fetches in flight it started. */
  fetching = 0
  /** Of those, of URLs its owner held no document for (they may become negatives). */
  fetchingNew = 0
  constructor(readonly key: string, readonly client: string) {}
  get charged(): number { return this.negatives + this.fetchingNew }
}

/** The owners and payers of one cache: created on first use, forgotten when empty. */
export class Accounts<T> {
  readonly owners = new Map<string, Owner<T>>()
  readonly payers = new Map<string, Payer>()

  owner(name: string): Owner<T> {
    let owner = this.owners.get(name)
    if (owner === undefined) {
      owner = new Owner<T>(name)
      this.owners.set(name, owner)
    }
    return owner
  }

  payer(owner: string, client: string): Payer {
    const key = `${owner}\n${client}`
    let payer = this.payers.get(key)
    if (payer === undefined) {
      payer = new Payer(key, client)
      this.payers.set(key, payer)
    }
    return payer
  }

  forgetIfEmpty(owner: Owner<T>, payer?: Payer): void {
    if (owner.entries === 0 && owner.fetching === 0 && this.owners.get(owner.name) === owner) this.owners.delete(owner.name)
    if (payer !== undefined) this.forgetPayerIfEmpty(payer)
  }

  forgetPayerIfEmpty(payer: Payer): void {
    if (payer.negatives === 0 && payer.fetching === 0 && this.payers.get(payer.key) === payer) this.payers.delete(payer.key)
  }

  clear(): void {
    this.owners.clear()
    this.payers.clear()
  }
}
