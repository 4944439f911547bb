// Revocations shared through Redis (replay.store: redis): one hash
// `<keyPrefix>sessions:revoked` (identity → not-before, ms) and one pub/sub
// channel of the same name. Each replica keeps the list in memory, so the
// per-request check costs a Map lookup and no round trip:
//   - at start and after every reconnect it reads the hash (HGETALL), so a
//     revocation published while it was away is not missed;
//   - `revoke` writes the hash, then PUBLISHes "identity ms"; every
//     subscribed replica applies it at once.
// Entries older than the longest ticket or cookie lifetime (plus skew) are
// dropped: nothing minted before them is still alive.

import type { Redis, Cluster } from 'ioredis'
import { connect, type RedisReplayConfig } from '../replay/redis.js'
import { later, type Revocations } from './types.js'

type Client = Redis | Cluster

export interface RedisRevocationOptions {
  readonly maxAgeMs: number
  readonly now?: () => number
  /** Told about connection errors (they are retried on their own); never throws. */
  readonly onError?: (err: unknown) => void
}

export function createRedisRevocations(c: RedisReplayConfig, opts: RedisRevocationOptions): Revocations & { loaded(): Promise<void> } {
  const now = opts.now ?? Date.now
  const key = c.keyPrefix + 'sessions:revoked'
  const list = new Map<string, number>()
  let closed = false
  let cmd: Client | undefined, sub: Client | undefined
  const apply = (identity: string, ms: number) => {
    if (!Number.isFinite(ms) || now() - ms > opts.maxAgeMs) return
    list.set(identity, later(list.get(identity), ms)!)
  }
  const report = (err: unknown) => { if (!closed) opts.onError?.(err) }
  let firstLoad: () => void = () => {}
  const loadedOnce = new Promise<void>((r) => { firstLoad = r })
  let firstSubscribe: () => void = () => {}
  const subscribedOnce = new Promise<void>((r) => { firstSubscribe = r })
  const reload = async () => {
    try {
      const all = await cmd!.hgetall(key)
      const stale: string[] = []
      for (const [identity, v] of Object.entries(all)) {
        const ms = Number(v)
        if (now() - ms > opts.maxAgeMs) stale.push(identity)
        else apply(identity, ms)
      }
      if (stale.length > 0) await cmd!.hdel(key, ...stale)
    } catch (err) { report(err) } finally { firstLoad() }
  }

  const ready = import('ioredis').then((mod) => {
    if (closed) return
    // A subscribed connection can run nothing else (RESP2): one for commands, one for messages.
    cmd = connect(mod, c)
    sub = connect(mod, c)
    cmd.on('error', report)
    sub.on('error', report)
    cmd.on('ready', () => { void reload() })
    // Subscribe first, then read: a revocation published in between is seen by one or the other.
    sub.on('ready', () => { sub!.subscribe(key).then(() => { firstSubscribe(); if (cmd!.status === 'ready') void reload() }, (err: unknown) => { report(err); firstSubscribe() }) })
    sub.on('message', (channel: string, message: string) => {
      if (channel !== key) return
      const i = message.lastIndexOf(' ')
      if (i > 0) apply(message.slice(0, i), Number(message.slice(i + 1)))
    })
  }, report)

  return {
    notBefore(identity) {
      const t = list.get(identity)
      if (t !== undefined && now() - t > opts.maxAgeMs) { list.delete(identity); return undefined }
      return t
    },
    async revoke(identity, atMs) {
      apply(identity, atMs)
      await ready
      if (!cmd) throw new Error('the revocation store is closed')
      const ms = list.get(identity) ?? atMs
      await cmd.hset(key, identity, String(ms))
      await cmd.publish(key, `${identity} ${ms}`)
    },
    /** Resolves once subscribed and the hash was read the first time (tests, and start-up ordering). */
    loaded: async () => { await ready; await Promise.all([loadedOnce, subscribedOnce]) },
    async close() {
      if (closed) return
      closed = true
      await ready
      firstLoad(); firstSubscribe()
      for (const cl of [sub, cmd]) {
        if (!cl) continue
        if (cl.status === 'ready') await cl.quit().catch(() => undefined)
        cl.disconnect()
      }
    },
  }
}
