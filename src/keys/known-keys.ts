// The key records (issue 25, key-change transparency): per identity, every
// key the gateway accepted for it, with its algorithm, the scheme that used
// it, where it came from, when it was first and last seen, and its state.
// Kept where the replay store is (memory: this process; Redis: every
// replica, known-keys-redis.ts), so that replicas agree on what is held and
// what was approved. keys/trust.ts is the only writer on the request path.
//
// `record` is the one atomic step: it creates the record when absent and says
// whether this call created it, so of any number of replicas and retries
// exactly one sees `created` (one key_first_seen event per key, not one per
// request).

import { GatewayError } from '../errors.js'

/** accepted: in use; held: waits for `popgate keys approve` (newKeys: hold); approved: an operator approved it. */
export type KnownKeyState = 'accepted' | 'held' | 'approved'

/** A key as a scheme accepted it, after its signature verified. */
export interface SeenKey {
  readonly identity: string
  /** RFC 7638 SHA-256 thumbprint, base64url. */
  readonly thumbprint: string
  readonly alg: string | undefined
  /** The scheme that used it: domainpop, dpop, http-signature. */
  readonly scheme: string
  /** The document it came from (a key URL, a JWKS URL, a signatures directory). */
  readonly url: string | undefined
}

export interface KnownKey {
  readonly identity: string
  readonly thumbprint: string
  readonly alg: string | undefined
  readonly scheme: string | undefined
  readonly url: string | undefined
  /** Undefined: approved before it was ever seen. */
  readonly firstSeenMs: number | undefined
  readonly lastSeenMs: number | undefined
  readonly state: KnownKeyState
  readonly approvedAtMs: number | undefined
}

export interface Recorded {
  /** This call created the record. */
  readonly created: boolean
  readonly record: KnownKey
  /** How many other keys the identity had when this one was recorded (or now, when it existed). */
  readonly others: number
}

export interface KnownKeyStore {
  /**
   * The key's record, created when absent: `held` when `policy` is hold and
   * the identity already had other keys, else `accepted` (an identity's first
   * key is trusted on first use, as ssh's accept-new; pin to trust none unseen).
   * Rejects with replay_store_unavailable when the backing cannot answer.
   */
  record(key: SeenKey, policy: 'accept' | 'hold', atMs: number): Promise<Recorded>
  /** Sets last seen (best effort: the caller does not wait for it to matter). */
  touch(identity: string, thumbprint: string, atMs: number): Promise<void>
  /** Marks the key approved, creating its record if it was never seen; returns the record. */
  approve(identity: string, thumbprint: string, atMs: number): Promise<KnownKey>
  /** Every record, or one identity's, in no particular order. */
  list(identity?: string): Promise<KnownKey[]>
  close(): Promise<void>
}

export const unavailable = (cause?: unknown): GatewayError =>
  new GatewayError('replay_store_unavailable', 'the key records cannot be read or written; try again shortly', { cause, retryAfterSec: 1 })

/** The record a first sighting creates. */
export function newRecord(key: SeenKey, state: KnownKeyState, atMs: number): KnownKey {
  return { identity: key.identity, thumbprint: key.thumbprint, alg: key.alg, scheme: key.scheme, url: key.url, firstSeenMs: atMs, lastSeenMs: atMs, state, approvedAtMs: undefined }
}

/** The record an approval leaves: the seen facts kept, state approved. */
export function approvedRecord(identity: string, thumbprint: string, old: KnownKey | undefined, atMs: number): KnownKey {
  return old !== undefined
    ? { ...old, state: 'approved', approvedAtMs: atMs }
    : { identity, thumbprint, alg: undefined, scheme: undefined, url: undefined, firstSeenMs: undefined, lastSeenMs: undefined, state: 'approved', approvedAtMs: atMs }
}

/** The records of one process (replay.store: memory); bounded: beyond maxKeys new keys are refused as an outage, never forgotten silently. */
export function createMemoryKnownKeys(opts: { maxKeys?: number } = {}): KnownKeyStore {
  const max = opts.maxKeys ?? 100_000
  const byIdentity = new Map<string, Map<string, KnownKey>>()
  let size = 0
  const of = (identity: string): Map<string, KnownKey> => {
    let m = byIdentity.get(identity)
    if (m === undefined) byIdentity.set(identity, m = new Map())
    return m
  }
  return {
    async record(key, policy, atMs) {
      const keys = of(key.identity)
      const existing = keys.get(key.thumbprint)
      if (existing !== undefined) return { created: false, record: existing, others: keys.size - 1 }
      if (size >= max) throw unavailable()
      const others = keys.size
      const record = newRecord(key, policy === 'hold' && others > 0 ? 'held' : 'accepted', atMs)
      keys.set(key.thumbprint, record)
      size++
      return { created: true, record, others }
    },
    async touch(identity, thumbprint, atMs) {
      const keys = byIdentity.get(identity)
      const r = keys?.get(thumbprint)
      if (r !== undefined) keys!.set(thumbprint, { ...r, lastSeenMs: atMs, firstSeenMs: r.firstSeenMs ?? atMs })
    },
    async approve(identity, thumbprint, atMs) {
      const keys = of(identity)
      const old = keys.get(thumbprint)
      if (old === undefined && size >= max) throw unavailable()
      if (old === undefined) size++
      const record = approvedRecord(identity, thumbprint, old, atMs)
      keys.set(thumbprint, record)
      return record
    },
    async list(identity) {
      if (identity !== undefined) return [...(byIdentity.get(identity)?.values() ?? [])]
      return [...byIdentity.values()].flatMap((m) => [...m.values()])
    },
    async close() { byIdentity.clear(); size = 0 },
  }
}
