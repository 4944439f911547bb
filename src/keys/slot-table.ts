// The cache's key → entry table, in recency order, with its byte total
// (document-cache.ts). A Map keeps insertion order, so a touch is delete +
// set and the least recently used entry is the first. No owner logic here:
// the cache decides what to evict, this only says what is oldest.

export interface Charged { readonly key: string; readonly charge: number }

export class SlotTable<S extends Charged> {
  readonly #map = new Map<string, S>()
  #bytes = 0

  get size(): number { return this.#map.size }
  /** Estimated bytes of every entry held. */
  get bytes(): number { return this.#bytes }

  /** The entry, without changing its recency. */
  get(key: string): S | undefined { return this.#map.get(key) }

  /** Marks `slot` (held under its key) as the most recently used. */
  touch(slot: S): void {
    this.#map.delete(slot.key)
    this.#map.set(slot.key, slot)
  }

  /** Adds `slot` as the most recently used; the caller removed any entry it replaces. */
  add(slot: S): void {
    this.#map.set(slot.key, slot)
    this.#bytes += slot.charge
  }

  /** Removes `slot` if it is the entry held under its key; whether it was. */
  remove(slot: S): boolean {
    if (this.#map.get(slot.key) !== slot) return false
    this.#map.delete(slot.key)
    this.#bytes -= slot.charge
    return true
  }

  /** The least recently used entry. */
  oldest(): S | undefined { return this.#map.values().next().value }

  clear(): void {
    this.#map.clear()
    this.#bytes = 0
  }
}
