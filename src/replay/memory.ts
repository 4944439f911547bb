// In-memory replay store: one process only. Bounded: when full of unexpired
// entries it refuses new ones (fail closed: 503) rather than forget one early,
// since forgetting a live jti would let its proof be replayed.

import { GatewayError } from '../errors.js'
import type { ReplayStore } from './types.js'

export function createMemoryReplayStore(opts: { maxEntries: number; now?: () => number }): ReplayStore {
  const now = opts.now ?? Date.now
  // Map keeps insertion order. TTLs differ per call, so expiry is not strictly
  // ordered; the sweep drops expired entries from the front and stops at the
  // first live one, which is enough because TTLs here are all about equal.
  const expiresAt = new Map<string, number>()
  const sweep = (t: number) => {
    for (const [k, exp] of expiresAt) {
      if (exp > t) break
      expiresAt.delete(k)
    }
  }
  return {
    async firstUse(key, ttlMs) {
      const t = now()
      const exp = expiresAt.get(key)
      if (exp !== undefined && exp > t) return false
      sweep(t) // amortized O(1): stops at the first live entry
      if (expiresAt.size >= opts.maxEntries) throw new GatewayError('replay_store_unavailable', 'replay store is full')
      expiresAt.delete(key) // re-insert at the back
      expiresAt.set(key, t + ttlMs)
      return true
    },
    async healthy() { return true },
    async close() { expiresAt.clear() },
  }
}
