// Verified access tokens (PROTOCOL.md §3), so that a client sending the same
// DPoP-bound token on every request costs one token parse and one token
// signature check per token, not per request. Only the token is cached: the
// proof is still read and verified, its `jti` still single use, and the ACL
// still decided on every request (the gate does that, not the scheme).
//
// - Keyed by SHA-256 of the token as sent, base64url: the same value a
//   proof's `ath` must equal (RFC 9449 §4.3 (12)), so the hash is computed
//   once per request and the cache never holds a token as its key.
// - An entry is put only after the token's signature verified with the
//   issuer's key; it remembers that key object. A hit still asks the issuer
//   key source for the token's key: the very same object means the set
//   that verified it is still the one in use; any other answer (a refreshed
//   set, another key) sends the token through the full signature check again,
//   and a key gone from the set refuses the token as before (issuers.ts).
// - Gone at `exp` (checked on every lookup, no clock skew granted: a token in
//   its skew window takes the full path), and bounded in entries and in
//   bytes, least recently used first out.
// - One cache per built state: a reload (new audience, algorithms, pinned
//   keys) starts empty.

import { createHash } from 'node:crypto'
import type { JwksKey } from '../../keys/index.js'
import type { AccessToken } from '../../proofs/access-token.js'

export interface TokenCacheLimits {
  readonly maxEntries: number
  /** Estimated bytes kept alive by all entries (the token's strings, its facts, the entry). */
  readonly maxBytes: number
}

/** 10,000 clients' tokens of ~1.5 KB each: a few MB at most. */
export const TOKEN_CACHE_DEFAULTS: TokenCacheLimits = { maxEntries: 10_000, maxBytes: 16 * 1024 * 1024 }

export interface CachedToken {
  readonly token: AccessToken
  /** The key whose signature check this entry stands for. */
  readonly key: JwksKey
  readonly expiresAtMs: number
  readonly bytes: number
}

export interface TokenCache {
  /** The entry for `hash` unless it expired at `nowMs` (then it is dropped). */
  get(hash: string, nowMs: number): CachedToken | undefined
  /** Remember a token whose signature `key` verified; a token already past `exp` is not kept. */
  set(hash: string, token: AccessToken, key: JwksKey, nowMs: number): void
  delete(hash: string): void
  readonly size: number
  readonly bytes: number
}

/** base64url(SHA-256(token)): the cache key and the proof's expected `ath`. */
export const tokenHash = (token: string): string => createHash('sha256').update(token).digest('base64url')

/**
 * `exp` in ms, read back from a token readAccessToken accepted (so its
 * payload is a JSON object with a finite numeric `exp`). Once per token, on a
 * miss; token.ts keeps its shape.
 */
function expiresAtMs(t: AccessToken): number {
  const payload = t.signingInput.slice(t.signingInput.indexOf('.') + 1)
  const exp = (JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { exp?: unknown }).exp
  return typeof exp === 'number' && Number.isFinite(exp) ? exp * 1000 : 0
}

/** Strings are counted at two bytes a character (V8 may keep either width). */
const entryBytes = (t: AccessToken): number =>
  256 + 2 * (t.issuer.length + t.signingInput.length + (t.sub?.length ?? 0) + (t.clientId?.length ?? 0) + (t.kid?.length ?? 0) + (t.jkt?.length ?? 0) + (t.x5tS256?.length ?? 0) + 43) +
  t.signature.length + t.scopes.reduce((n, s) => n + 2 * s.length + 16, 0)

export function createTokenCache(limits: TokenCacheLimits = TOKEN_CACHE_DEFAULTS): TokenCache {
  if (!Number.isInteger(limits.maxEntries) || limits.maxEntries < 1) throw new RangeError('maxEntries must be a positive integer')
  // A Map keeps insertion order: a touch is delete + set, the least recently used is the first key.
  const map = new Map<string, CachedToken>()
  let bytes = 0
  const drop = (hash: string, e: CachedToken): void => {
    map.delete(hash)
    bytes -= e.bytes
  }

  return {
    get(hash, nowMs) {
      const e = map.get(hash)
      if (e === undefined) return undefined
      if (e.expiresAtMs <= nowMs) {
        drop(hash, e)
        return undefined
      }
      map.delete(hash)
      map.set(hash, e)
      return e
    },
    set(hash, token, key, nowMs) {
      const e: CachedToken = { token, key, expiresAtMs: expiresAtMs(token), bytes: entryBytes(token) }
      if (!(e.expiresAtMs > nowMs)) return
      if (e.bytes > limits.maxBytes) return
      const old = map.get(hash)
      if (old !== undefined) drop(hash, old)
      map.set(hash, e)
      bytes += e.bytes
      for (const [h, first] of map) {
        if (map.size <= limits.maxEntries && bytes <= limits.maxBytes) break
        drop(h, first)
      }
    },
    delete(hash) {
      const e = map.get(hash)
      if (e !== undefined) drop(hash, e)
    },
    get size() { return map.size },
    get bytes() { return bytes },
  }
}
