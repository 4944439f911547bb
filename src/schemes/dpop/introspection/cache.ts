// Introspection answers kept per replica (issue 24, PROTOCOL.md §4
// "Introspection"). Keyed by base64url SHA-256 of the token (the same hash a
// DPoP proof's `ath` carries), never the token itself.
//
// - An active answer is kept until min(token `exp`, now + cacheTtl): never
//   past the token's own life, and no longer than the operator accepts a
//   revoked token to keep working (RFC 7662 §4: a cached answer "may be
//   stale"; the cacheTtl bounds how stale).
// - An inactive (or unusable) answer is kept for negativeTtl, so a client
//   repeating a dead token costs one call per negativeTtl.
// - Bounded in entries, least recently used first out. Pure but for the
//   clock the caller passes.

import type { ErrorCode } from '../../../errors.js'
import type { IntrospectedToken } from './answer.js'

/** The codes that are the issuer's definite word on a token (answer.ts): the only ones a negative entry holds. */
export const DEFINITE_CODES: ReadonlySet<string> = new Set<ErrorCode>(['token_inactive', 'token_unbound', 'token_expired', 'token_audience_mismatch', 'introspection_identity_mismatch', 'token_invalid'])

export type CachedAnswer =
  | { readonly active: true; readonly token: IntrospectedToken; readonly expiresAtMs: number }
  | { readonly active: false; readonly code: ErrorCode; readonly detail: string; readonly expiresAtMs: number }

export interface IntrospectionCache {
  get(hash: string, nowMs: number): CachedAnswer | undefined
  /** Keeps an active answer until min(exp, now + cacheTtl); returns the entry (undefined: not kept). */
  setActive(hash: string, token: IntrospectedToken, nowMs: number): CachedAnswer | undefined
  setInactive(hash: string, code: ErrorCode, detail: string, nowMs: number): CachedAnswer | undefined
  /** Puts an entry read from the shared cache, as it was. */
  put(hash: string, entry: CachedAnswer, nowMs: number): void
  readonly size: number
}

export interface IntrospectionCacheLimits {
  readonly cacheTtlMs: number
  readonly negativeTtlMs: number
  readonly maxEntries: number
}

export const MAX_CACHED_ANSWERS = 10_000

/** When an active answer stops being used: the token's exp, or cacheTtl from now, whichever is first. */
export function activeUntilMs(token: IntrospectedToken, nowMs: number, cacheTtlMs: number): number {
  const byTtl = nowMs + cacheTtlMs
  return token.expMs === undefined ? byTtl : Math.min(token.expMs, byTtl)
}

export function createIntrospectionCache(limits: IntrospectionCacheLimits): IntrospectionCache {
  if (!Number.isInteger(limits.maxEntries) || limits.maxEntries < 1) throw new RangeError('maxEntries must be a positive integer')
  // A Map keeps insertion order: a touch is delete + set, the least recently used is the first key.
  const map = new Map<string, CachedAnswer>()
  const put = (hash: string, e: CachedAnswer, nowMs: number): CachedAnswer | undefined => {
    if (!(e.expiresAtMs > nowMs)) return undefined
    map.delete(hash)
    map.set(hash, e)
    while (map.size > limits.maxEntries) map.delete(map.keys().next().value as string)
    return e
  }
  return {
    get(hash, nowMs) {
      const e = map.get(hash)
      if (e === undefined) return undefined
      if (e.expiresAtMs <= nowMs) {
        map.delete(hash)
        return undefined
      }
      map.delete(hash)
      map.set(hash, e)
      return e
    },
    setActive: (hash, token, nowMs) => put(hash, { active: true, token, expiresAtMs: activeUntilMs(token, nowMs, limits.cacheTtlMs) }, nowMs),
    setInactive: (hash, code, detail, nowMs) => put(hash, { active: false, code, detail, expiresAtMs: nowMs + limits.negativeTtlMs }, nowMs),
    put(hash, entry, nowMs) { put(hash, entry, nowMs) },
    get size() { return map.size },
  }
}
