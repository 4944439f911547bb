// Key records shared through Redis (replay.store: redis), so every replica
// agrees on what is held and what an operator approved (known-keys.ts).
//   <prefix>keys:{<identity>}:records  hash thumbprint → JSON (alg, scheme, url, firstSeenMs, state, approvedAtMs)
//   <prefix>keys:{<identity>}:seen     hash thumbprint → last seen (ms)
//   <prefix>keys:identities            set of identities with records (for `keys list` without an identity)
// `record` and `approve` are Lua scripts, so each is one atomic step: of two
// replicas seeing one new key at once, exactly one creates its record. The
// braces keep an identity's two hashes in one cluster slot.
// Fail fast, as the replay store: no offline queue, and every call has the
// replay store's deadline (replay.timeout); a failure rejects with
// replay_store_unavailable and trust.ts decides what that means per policy.

import type { Redis, Cluster } from 'ioredis'
import { connect, type RedisReplayConfig } from '../replay/redis.js'
import { approvedRecord, newRecord, unavailable, type KnownKey, type KnownKeyStore, type Recorded } from './known-keys.js'

type Client = Redis | Cluster

const RECORD = `
local cur = redis.call('HGET', KEYS[1], ARGV[1])
local n = redis.call('HLEN', KEYS[1])
if cur then return {0, cur, n - 1} end
local rec = ARGV[2]
if n > 0 and ARGV[4] == 'hold' then rec = ARGV[3] end
redis.call('HSET', KEYS[1], ARGV[1], rec)
redis.call('HSET', KEYS[2], ARGV[1], ARGV[5])
return {1, rec, n}`

const APPROVE = `
local cur = redis.call('HGET', KEYS[1], ARGV[1])
local rec
if cur then rec = cjson.decode(cur) else rec = cjson.decode(ARGV[2]) end
rec['state'] = 'approved'
rec['approvedAtMs'] = tonumber(ARGV[3])
local out = cjson.encode(rec)
redis.call('HSET', KEYS[1], ARGV[1], out)
return out`

/** What is stored per key (identity and thumbprint are in the key names). */
const stored = (r: KnownKey): string => JSON.stringify({ alg: r.alg, scheme: r.scheme, url: r.url, firstSeenMs: r.firstSeenMs, state: r.state, approvedAtMs: r.approvedAtMs })

function read(identity: string, thumbprint: string, json: string, lastSeen: string | undefined): KnownKey {
  const v = JSON.parse(json) as Partial<Record<keyof KnownKey, unknown>>
  const str = (x: unknown): string | undefined => (typeof x === 'string' ? x : undefined)
  const num = (x: unknown): number | undefined => (typeof x === 'number' && Number.isFinite(x) ? x : undefined)
  const seen = lastSeen === undefined ? undefined : Number(lastSeen)
  const state = v.state === 'held' || v.state === 'approved' ? v.state : 'accepted'
  return {
    identity, thumbprint, alg: str(v.alg), scheme: str(v.scheme), url: str(v.url),
    firstSeenMs: num(v.firstSeenMs), lastSeenMs: Number.isFinite(seen) ? seen : num(v.firstSeenMs), state, approvedAtMs: num(v.approvedAtMs),
  }
}

export function createRedisKnownKeys(c: RedisReplayConfig, opts: { onError?: (err: unknown) => void } = {}): KnownKeyStore {
  const prefix = c.keyPrefix + 'keys:'
  const records = (identity: string) => `${prefix}{${identity}}:records`
  const seen = (identity: string) => `${prefix}{${identity}}:seen`
  const index = prefix + 'identities'
  let client: Client | undefined
  let closed = false
  // As the replay store: the first connection attempt is waited for (within the deadline), later ones are not.
  const firstAttempt: Promise<void> = import('ioredis').then((mod) => {
    if (closed) return
    const cl = client = connect(mod, c)
    cl.on('error', (err: unknown) => { if (!closed) opts.onError?.(err) })
    return new Promise<void>((resolve) => {
      const settle = () => { cl.off('ready', settle); cl.off('error', settle); cl.off('close', settle); resolve() }
      cl.on('ready', settle).on('error', settle).on('close', settle)
    })
  }, (err: unknown) => opts.onError?.(err))

  /** One call within replay.timeout, or replay_store_unavailable. */
  async function call<T>(run: (cl: Client) => Promise<T>): Promise<T> {
    if (closed) throw unavailable()
    if (client?.status !== 'ready') await firstAttempt
    const cl = client
    if (cl === undefined || cl.status !== 'ready') throw unavailable()
    let timer: NodeJS.Timeout | undefined
    try {
      return await Promise.race([
        run(cl),
        new Promise<never>((_, reject) => { timer = setTimeout(() => reject(unavailable()), c.timeoutMs) }),
      ])
    } catch (err) {
      throw err instanceof Error && (err as { code?: string }).code === 'replay_store_unavailable' ? err : unavailable(err)
    } finally {
      clearTimeout(timer)
    }
  }

  return {
    async record(key, policy, atMs): Promise<Recorded> {
      const accepted = stored(newRecord(key, 'accepted', atMs))
      const held = stored(newRecord(key, 'held', atMs))
      const reply = await call((cl) => cl.eval(RECORD, 2, records(key.identity), seen(key.identity), key.thumbprint, accepted, held, policy, String(atMs)) as Promise<[number, string, number]>)
      const [created, json, others] = reply
      if (created === 1) void call((cl) => cl.sadd(index, key.identity)).catch(() => undefined)
      return { created: created === 1, record: read(key.identity, key.thumbprint, json, created === 1 ? String(atMs) : undefined), others: Number(others) }
    },
    async touch(identity, thumbprint, atMs) {
      await call((cl) => cl.hset(seen(identity), thumbprint, String(atMs)))
    },
    async approve(identity, thumbprint, atMs) {
      const blank = stored(approvedRecord(identity, thumbprint, undefined, atMs))
      const json = await call((cl) => cl.eval(APPROVE, 1, records(identity), thumbprint, blank, String(atMs)) as Promise<string>)
      await call((cl) => cl.sadd(index, identity))
      return read(identity, thumbprint, json, undefined)
    },
    async list(identity) {
      const identities = identity !== undefined ? [identity] : await call((cl) => cl.smembers(index))
      const out: KnownKey[] = []
      for (const id of identities) {
        const [recs, last] = await call((cl) => Promise.all([cl.hgetall(records(id)), cl.hgetall(seen(id))]))
        for (const [t, json] of Object.entries(recs)) out.push(read(id, t, json, last[t]))
      }
      return out
    },
    async close() {
      if (closed) return
      closed = true
      await firstAttempt
      const cl = client
      if (!cl) return
      if (cl.status === 'ready') await cl.quit().catch(() => undefined)
      cl.disconnect()
    },
  }
}
