// A bounded map that forgets the least recently used entry first. A Map keeps
// insertion order, so "touch" is delete + set and the oldest key is the first.

export class Lru<K, V> {
  readonly #map = new Map<K, V>()
  #evictions = 0

  constructor(readonly maxEntries: number) {
    if (!Number.isInteger(maxEntries) || maxEntries < 1) throw new RangeError('maxEntries must be a positive integer')
  }

  get size(): number { return this.#map.size }
  get evictions(): number { return this.#evictions }

  /** The value, marked as most recently used. */
  get(key: K): V | undefined {
    const v = this.#map.get(key)
    if (v === undefined) return undefined
    this.#map.delete(key)
    this.#map.set(key, v)
    return v
  }

  set(key: K, value: V): void {
    this.#map.delete(key)
    this.#map.set(key, value)
    while (this.#map.size > this.maxEntries) {
      this.#map.delete(this.#map.keys().next().value as K)
      this.#evictions++
    }
  }

  delete(key: K): void { this.#map.delete(key) }
  clear(): void { this.#map.clear() }
}
