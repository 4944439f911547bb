// The hot set: a bounded LRU of imported keys beside the key cache.
//
// A KeyObject holds ~2.7 KB of OpenSSL memory for P-256 (each EC key carries
// its own copy of the curve group), outside the V8 heap; 100,000 of them were
// +330 MB of RSS (docs/benchmarks.md, "Key cache memory"). The cache therefore
// keeps every key in its compact form (StoredKey: the public JWK members) and
// only the `maxEntries` most recently used ones imported. A key outside the
// hot set is imported again from members that already passed validation once:
// 55–65 µs for P-256, ~9 µs for Ed25519, ~3 µs for RSA on the bench machine
// (about one signature check), so the set should hold the working set of
// identities, not every identity ever seen.

import { createPublicKey } from 'node:crypto'
import { GatewayError } from '../errors.js'
import { publicJwk, storedKey } from './document.js'
import { Lru } from './lru.js'
import type { ResolvedKey, StoredKey } from './types.js'

export class HotKeys {
  readonly #lru: Lru<StoredKey, ResolvedKey>
  #imports = 0

  /** `onImport` is called once per re-import (for a metric). */
  constructor(maxEntries: number, private readonly onImport: () => void = () => {}) {
    this.#lru = new Lru(maxEntries)
  }

  get size(): number { return this.#lru.size }
  /** Imports of keys that had left the hot set (not counting first imports by the document parser). */
  get imports(): number { return this.#imports }

  /** Keep a key the document parser just imported hot; returns its compact form for the cache. */
  admit(key: ResolvedKey): StoredKey {
    const stored = storedKey(key.kid, key.alg, key)
    this.#lru.set(stored, key)
    return stored
  }

  /** The imported key for a stored one, importing it again if it left the hot set. */
  resolve(stored: StoredKey): ResolvedKey {
    const hot = this.#lru.get(stored)
    if (hot !== undefined) return hot
    let keyObject
    try {
      keyObject = createPublicKey({ key: publicJwk(stored), format: 'jwk' })
    } catch (err) {
      // Unreachable for members that imported once; fail closed all the same.
      throw new GatewayError('key_document_invalid', 'a cached key no longer imports', { cause: err })
    }
    this.#imports++
    this.onImport()
    const key: ResolvedKey = Object.freeze({ ...stored, keyObject })
    this.#lru.set(stored, key)
    return key
  }

  clear(): void { this.#lru.clear() }
}
