// Opened `cnf.jwe` keys (PROTOCOL.md §4), keyed by base64url(SHA-256(token)),
// so a client sending the same issuer token on every request costs one token
// signature check and one ECDH unwrap per token, not per request. An entry is
// put only after the issuer's signature verified and the JWE opened; it
// remembers the issuer key that verified it (a hit with another key from the
// issuer goes through the full check again, as dpop/token-cache.ts). Gone at
// the token's `exp` (no skew granted), bounded in entries, least recently
// used first out. One cache per built state: a reload (new encryption keys,
// new issuer policy) starts empty.

import type { JwksKey } from '../../keys/index.js'
import { Lru } from '../../keys/lru.js'
import type { SymmetricToken } from './token.js'

export interface OpenedEntry {
  readonly token: SymmetricToken
  readonly issuerKey: JwksKey
  /** The 32-byte key the proof is signed with. */
  readonly key: Buffer
  /** RFC 7638 thumbprint of the key as an oct JWK. */
  readonly thumbprint: string
  readonly expMs: number
}

export interface OpenedCache {
  get(hash: string, nowMs: number): OpenedEntry | undefined
  set(hash: string, entry: OpenedEntry, nowMs: number): void
  delete(hash: string): void
  readonly size: number
}

export function createOpenedCache(maxEntries: number): OpenedCache {
  const lru = new Lru<string, OpenedEntry>(maxEntries)
  return {
    get(hash, nowMs) {
      const e = lru.get(hash)
      if (e === undefined) return undefined
      if (e.expMs <= nowMs) { lru.delete(hash); return undefined }
      return e
    },
    set(hash, entry, nowMs) {
      if (entry.expMs > nowMs) lru.set(hash, entry)
    },
    delete: (hash) => lru.delete(hash),
    get size() { return lru.size },
  }
}
