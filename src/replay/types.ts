/**
 * Single-use records for proof `jti`s (PROTOCOL.md §2.3 step 8). Shared by all
 * replicas when backed by Redis. `firstUse` is atomic: of two concurrent calls
 * with one key, exactly one resolves true.
 */
export interface ReplayStore {
  /** True when `key` was not seen within its TTL (and is now recorded); false on replay. Rejects with GatewayError('replay_store_unavailable') when the store cannot answer. */
  firstUse(key: string, ttlMs: number): Promise<boolean>
  /** For /readyz. */
  healthy(): Promise<boolean>
  close(): Promise<void>
}
