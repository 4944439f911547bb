// Redis replay store: every replica records `jti`s in one Redis (or Valkey),
// so a proof accepted by one replica is a replay at all the others.
//
// One command per proof, `SET <prefix><key> 1 NX PX <ttl>`: Redis sets the key
// only when absent, atomically, so of any number of concurrent calls with one
// key exactly one gets OK (never a read-then-write). One connection, with
// ioredis's automatic pipelining: commands issued in the same tick go out in
// one write (docs/benchmarks.md, "Redis replay store").
//
// Fail closed: while the connection is not ready, commands are refused at once
// (no offline queue that grows while Redis is away) and firstUse rejects with
// replay_store_unavailable; the client reconnects on its own, with backoff.
// A connected Redis that stops answering is caught by the caller's deadline
// (deadline.ts) and, for the queue, by socketTimeout, which drops the
// connection (failing what is queued on it) and reconnects.

import type { Redis, Cluster, RedisOptions } from 'ioredis'
import { GatewayError } from '../errors.js'
import { REPLAY_RETRY_AFTER_SEC } from './deadline.js'
import type { OutageLog } from './outage.js'
import type { ReplayStore } from './types.js'
import type { Config } from '../config/types.js'

export type RedisReplayConfig = Pick<Config['replay'], 'url' | 'mode' | 'sentinelMaster' | 'keyPrefix' | 'timeoutMs'>

/** Reconnect backoff: 50 ms, 100 ms, ... capped at 1 s, so recovery is noticed within about a second. */
const retryStrategy = (times: number) => Math.min(times * 50, 1_000)

/** Connection options from a redis:/rediss: URL: host, port, user, password, db; TLS for rediss: (SNI = the host). */
export function connectionFromUrl(url: string): Pick<RedisOptions, 'host' | 'port' | 'username' | 'password' | 'db' | 'tls'> {
  const u = new URL(url)
  const host = u.hostname.replace(/^\[(.*)\]$/, '$1')
  const db = u.pathname.length > 1 ? Number(u.pathname.slice(1)) : undefined
  return {
    host,
    port: u.port === '' ? 6379 : Number(u.port),
    username: u.username === '' ? undefined : decodeURIComponent(u.username),
    password: u.password === '' ? undefined : decodeURIComponent(u.password),
    db: db !== undefined && Number.isInteger(db) ? db : undefined,
    tls: u.protocol === 'rediss:' ? { servername: host } : undefined,
  }
}

/** ioredis options for the store: fail fast while disconnected, never resend a command the caller has given up on. */
export function clientOptions(c: RedisReplayConfig): RedisOptions {
  return {
    enableAutoPipelining: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    autoResendUnfulfilledCommands: false,
    retryStrategy,
    connectTimeout: Math.max(1_000, c.timeoutMs * 4),
    // A connected server that stops answering: drop the socket (and the commands queued on it) and reconnect.
    socketTimeout: Math.max(1_000, c.timeoutMs * 4),
    disableClientInfo: true,
  }
}

type Client = Redis | Cluster

type IoRedis = { readonly Redis: typeof Redis; readonly Cluster: typeof Cluster }

/** A client for `c` (standalone, cluster or sentinel) with the store's fail-fast options; also used by revocation/redis.ts. */
export function connect({ Redis, Cluster }: IoRedis, c: RedisReplayConfig): Client {
  const conn = connectionFromUrl(c.url!)
  const opts = clientOptions(c)
  if (c.mode === 'cluster') {
    // The URL names one seed node; the others are discovered. Credentials and TLS apply to every node.
    const { host, port, ...nodeAuth } = conn
    return new Cluster([{ host, port }], { enableAutoPipelining: true, enableOfflineQueue: false, clusterRetryStrategy: retryStrategy, redisOptions: { ...opts, ...nodeAuth } })
  }
  if (c.mode === 'sentinel') {
    // The URL names one sentinel (others are learnt from it); its user/password/TLS are used for the sentinels and the master.
    const { host, port, tls, ...auth } = conn
    return new Redis({
      ...opts, ...auth, tls,
      sentinels: [{ host, port }], name: c.sentinelMaster!,
      sentinelUsername: auth.username, sentinelPassword: auth.password,
      enableTLSForSentinelMode: tls !== undefined, sentinelTLS: tls,
      sentinelRetryStrategy: retryStrategy,
    })
  }
  return new Redis({ ...opts, ...conn })
}

const unavailable = (detail: string, cause?: unknown) => new GatewayError('replay_store_unavailable', detail, { cause, retryAfterSec: REPLAY_RETRY_AFTER_SEC })

export function createRedisReplayStore(c: RedisReplayConfig, outages: OutageLog): ReplayStore {
  let client: Client | undefined
  let closed = false
  // ioredis is loaded only when a Redis store is configured (it adds about a
  // third of a second to a cold start). The first connection attempt: proofs
  // that arrive while a new store is still connecting (at start, or after a
  // reload that changed `replay`) wait for it, within the caller's deadline,
  // instead of failing; after it, a store that is not ready fails at once.
  const firstAttempt: Promise<void> = import('ioredis').then((mod) => {
    if (closed) return
    const cl = client = connect(mod, c)
    // Without an 'error' listener a refused connection would crash the process.
    cl.on('error', (err: Error) => { if (!closed) outages.down(cl.status === 'ready' ? 'error' : 'unreachable', err) })
    cl.on('close', () => { if (!closed) outages.down('unreachable') })
    cl.on('ready', () => outages.up())
    return new Promise<void>((resolve) => {
      const settle = () => { cl.off('ready', settle); cl.off('error', settle); cl.off('close', settle); resolve() }
      cl.on('ready', settle).on('error', settle).on('close', settle)
    })
  }, (err: unknown) => outages.down('error', err))
  const ready = () => client !== undefined && client.status === 'ready'

  return {
    async firstUse(key, ttlMs) {
      if (closed) throw unavailable('the replay store is closed')
      if (!ready()) await firstAttempt
      if (!ready()) {
        if (!closed) outages.down('unreachable')
        throw unavailable('the replay store is not connected')
      }
      let reply: string | null
      try {
        reply = await client!.set(c.keyPrefix + key, '1', 'PX', ttlMs, 'NX')
      } catch (err) {
        outages.down(ready() ? 'error' : 'unreachable', err)
        throw unavailable('the replay store failed', err)
      }
      return reply === 'OK'
    },
    async healthy() {
      if (!ready()) return false
      try {
        return (await client!.ping()) === 'PONG'
      } catch {
        return false
      }
    },
    async close() {
      if (closed) return
      closed = true
      const cl = client
      if (!cl) return // not loaded yet: firstAttempt sees `closed` and connects nothing
      // QUIT is answered after the commands already sent (a reload's old store
      // finishes what it started); a server that does not answer is cut off.
      if (cl.status === 'ready') {
        const cutOff = setTimeout(() => cl.disconnect(), Math.max(1_000, c.timeoutMs * 4))
        await cl.quit().catch(() => undefined)
        clearTimeout(cutOff)
      }
      cl.disconnect()
    },
  }
}
