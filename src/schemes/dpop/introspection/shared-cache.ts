// Introspection answers shared by replicas through the replay store's Redis
// (replay.store: redis), so N replicas cost one call per token per TTL, not
// N. Key `<keyPrefix>introspection:<sha256(token)>`, value the cached answer
// as JSON, expiring with it (PX). Best effort both ways: a Redis that is
// down, slow (past replay.timeout) or holding a value of another shape is a
// miss, never a refusal and never a wait longer than the deadline; the token
// is then introspected as if there were no shared cache.
//
// Trust: whoever can write this Redis can already erase used jtis; the
// entries hold no token, only its hash and what the issuer said about it.

import type { Redis, Cluster } from 'ioredis'
import { connect, type RedisReplayConfig } from '../../../replay/redis.js'
import { DEFINITE_CODES, type CachedAnswer } from './cache.js'
import type { ErrorCode } from '../../../errors.js'

export interface SharedAnswers {
  get(hash: string): Promise<CachedAnswer | undefined>
  set(hash: string, entry: CachedAnswer, nowMs: number): Promise<void>
  close(): Promise<void>
}

type Client = Redis | Cluster

/** What a value read back must look like before it is believed (a value another version wrote is a miss). */
export function readSharedAnswer(text: string | null): CachedAnswer | undefined {
  if (text === null) return undefined
  let v: unknown
  try {
    v = JSON.parse(text)
  } catch {
    return undefined
  }
  if (v === null || typeof v !== 'object') return undefined
  const e = v as Record<string, unknown>
  if (typeof e.expiresAtMs !== 'number') return undefined
  if (e.active === false) return typeof e.code === 'string' && DEFINITE_CODES.has(e.code) && typeof e.detail === 'string' ? { active: false, code: e.code as ErrorCode, detail: e.detail, expiresAtMs: e.expiresAtMs } : undefined
  if (e.active !== true || e.token === null || typeof e.token !== 'object') return undefined
  const t = e.token as Record<string, unknown>
  const optional = (x: unknown) => x === undefined || typeof x === 'string'
  if (typeof t.jkt !== 'string' || !optional(t.sub) || !optional(t.clientId) || !Array.isArray(t.scopes) || !t.scopes.every((s) => typeof s === 'string')) return undefined
  if (t.expMs !== undefined && typeof t.expMs !== 'number') return undefined
  return {
    active: true,
    expiresAtMs: e.expiresAtMs,
    token: { jkt: t.jkt, sub: t.sub as string | undefined, clientId: t.clientId as string | undefined, scopes: t.scopes as string[], expMs: t.expMs as number | undefined },
  }
}

export function createRedisSharedAnswers(c: RedisReplayConfig, opts: { onError?: (err: unknown) => void } = {}): SharedAnswers {
  let client: Client | undefined
  let closed = false
  const report = (err: unknown) => { if (!closed) opts.onError?.(err) }
  // The first connection attempt (as the replay store does): lookups made while a new state is still
  // connecting wait for it, within the deadline, instead of missing; after it, a client not ready is a miss.
  const ready = import('ioredis').then((mod) => {
    if (closed) return
    const cl = client = connect(mod, c)
    cl.on('error', report)
    return new Promise<void>((resolve) => {
      const settle = () => { cl.off('ready', settle); cl.off('error', settle); cl.off('close', settle); resolve() }
      cl.on('ready', settle).on('error', settle).on('close', settle)
    })
  }, report)
  const key = (hash: string) => `${c.keyPrefix}introspection:${hash}`
  /** The call, or undefined once replay.timeout has passed or it failed. */
  const bounded = async <T>(call: (cl: Client) => Promise<T>): Promise<T | undefined> => {
    await ready
    const cl = client
    if (cl === undefined || cl.status !== 'ready') return undefined
    let timer: ReturnType<typeof setTimeout> | undefined
    try {
      return await Promise.race([
        call(cl),
        new Promise<undefined>((r) => { timer = setTimeout(() => r(undefined), c.timeoutMs) }),
      ])
    } catch (err) {
      report(err)
      return undefined
    } finally {
      clearTimeout(timer)
    }
  }
  return {
    async get(hash) {
      return readSharedAnswer((await bounded((cl) => cl.get(key(hash)))) ?? null)
    },
    async set(hash, entry, nowMs) {
      const ttlMs = Math.floor(entry.expiresAtMs - nowMs)
      if (ttlMs < 1) return
      await bounded((cl) => cl.set(key(hash), JSON.stringify(entry), 'PX', ttlMs))
    },
    async close() {
      if (closed) return
      closed = true
      await ready
      if (client === undefined) return
      if (client.status === 'ready') await client.quit().catch(() => undefined)
      client.disconnect()
    },
  }
}
