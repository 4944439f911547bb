// The Redis replay store against a test-owned redis-server: the store
// contract, the exact command it sends, and failing closed (a dead Redis, a
// hung one, a closed store) with recovery on its own. Skips loudly without a
// redis-server binary.

import t from 'tap'
import { randomUUID } from 'node:crypto'
import { Redis } from 'ioredis'
import { createRedisReplayStore, connectionFromUrl, type RedisReplayConfig } from '../../../src/replay/redis.js'
import { withDeadline } from '../../../src/replay/deadline.js'
import { createOutageLog, type OutageLog, type OutageReason } from '../../../src/replay/outage.js'
import { createLogger } from '../../../src/log.js'
import type { ReplayStore } from '../../../src/replay/types.js'
import { redisServerBinary, startRedisServer, NO_REDIS, type RedisServer } from '../../helpers/redis-server.js'
import { memoryLog, waitFor } from '../../helpers/harness.js'
import { replayStoreContract } from './contract.js'

t.test('connectionFromUrl: host, port, user, password, db, TLS for rediss:', async (t) => {
  t.same(connectionFromUrl('redis://127.0.0.1:6380'), { host: '127.0.0.1', port: 6380, username: undefined, password: undefined, db: undefined, tls: undefined })
  t.same(connectionFromUrl('rediss://gw:p%40ss@redis.internal/3'), { host: 'redis.internal', port: 6379, username: 'gw', password: 'p@ss', db: 3, tls: { servername: 'redis.internal' } })
  t.same(connectionFromUrl('redis://:secret@[::1]:7000/0'), { host: '::1', port: 7000, username: undefined, password: 'secret', db: 0, tls: undefined })
})

/** An outage log that counts what it was told and also logs for real (to memory). */
function recordingOutages() {
  const log = memoryLog()
  const counted: OutageReason[] = []
  const outages: OutageLog = createOutageLog(createLogger('info', log.stream), (r) => counted.push(r), 'redis')
  const lines = (re: RegExp) => log.lines.filter((l) => re.test(String(l.msg))).length
  return { outages, counted, lines }
}

const config = (url: string, prefix = `t:${randomUUID()}:`): RedisReplayConfig => ({ url, mode: 'standalone', sentinelMaster: undefined, keyPrefix: prefix, timeoutMs: 250 })

async function ready(s: ReplayStore): Promise<ReplayStore> {
  await waitFor(() => s.healthy(), 5_000)
  return s
}

async function runAgainst(redis: RedisServer): Promise<void> {
  t.test('the store contract', async (t) => {
    replayStoreContract(t, {
      create: () => ready(createRedisReplayStore(config(redis.url), recordingOutages().outages)),
      ttlMs: 1_000,
      elapse: (ms) => new Promise((r) => setTimeout(r, ms)), // the server's own clock: real time is the only one
      unavailable: async () => createRedisReplayStore(config('redis://127.0.0.1:1'), recordingOutages().outages),
    })
  })

  t.test('one SET NX PX per jti, under the key prefix', async (t) => {
    const prefix = `gw:${randomUUID()}:`
    const store = await ready(createRedisReplayStore(config(redis.url, prefix), recordingOutages().outages))
    const peek = new Redis(redis.port, '127.0.0.1')
    t.teardown(async () => { await store.close(); peek.disconnect() })
    t.equal(await store.firstUse('dp\nalice.test\nj1', 5_000), true)
    t.equal(await peek.get(`${prefix}dp\nalice.test\nj1`), '1')
    const pttl = await peek.pttl(`${prefix}dp\nalice.test\nj1`)
    t.ok(pttl > 4_000 && pttl <= 5_000, `PTTL ${pttl} ms`)
    t.equal(await store.firstUse('dp\nalice.test\nj1', 5_000), false)
    t.ok(await peek.pttl(`${prefix}dp\nalice.test\nj1`) <= pttl, 'a replay does not extend the TTL')
    t.same(await peek.keys(`${prefix}*`), [`${prefix}dp\nalice.test\nj1`], 'nothing else written')
    await peek.set(`${prefix}taken`, 'x')
    t.equal(await store.firstUse('taken', 5_000), false, 'any existing key counts as used')
  })

  t.test('Redis killed: fail fast and closed, logged once; restarted: recovers on its own, logged once', async (t) => {
    const rec = recordingOutages()
    const store = withDeadline(await ready(createRedisReplayStore(config(redis.url), rec.outages)), { timeoutMs: 250, outages: rec.outages })
    t.teardown(() => store.close())
    t.equal(await store.firstUse('before', 60_000), true)
    await redis.stop()
    await waitFor(async () => !(await store.healthy()), 5_000)
    const t0 = Date.now()
    for (let i = 0; i < 20; i++) {
      await t.rejects(store.firstUse(`during-${i}`, 60_000), { code: 'replay_store_unavailable', retryAfterSec: 1 })
    }
    t.ok(Date.now() - t0 < 1_000, `20 refusals took ${Date.now() - t0} ms: no waiting on a dead server`)
    t.same(rec.counted, ['unreachable'], 'one outage counted')
    t.equal(rec.lines(/replay store unavailable/), 1, 'one log line for the outage, not one per request')
    await redis.start()
    await waitFor(() => store.healthy(), 5_000)
    t.equal(await store.firstUse('after', 60_000), true)
    t.equal(rec.lines(/answering again/), 1, 'recovery logged once')
    t.same(rec.counted, ['unreachable'])
  })

  t.test('Redis hung (SIGSTOP): each call ends at the deadline with 503, /readyz false; resumed: recovers', async (t) => {
    const rec = recordingOutages()
    const store = withDeadline(await ready(createRedisReplayStore(config(redis.url), rec.outages)), { timeoutMs: 150, outages: rec.outages })
    t.teardown(async () => { redis.resume(); await store.close() })
    redis.pause()
    const t0 = Date.now()
    const results = await Promise.allSettled(Array.from({ length: 10 }, (_, i) => store.firstUse(`hung-${i}`, 60_000)))
    const took = Date.now() - t0
    t.ok(results.every((r) => r.status === 'rejected' && (r.reason as { code?: string }).code === 'replay_store_unavailable'), 'all refused')
    t.ok(took >= 140 && took < 1_500, `ended at the deadline (${took} ms)`)
    t.equal(await store.healthy(), false, 'healthy() is false within its own deadline')
    t.equal(rec.counted.length, 1, `one outage counted (${rec.counted.join()})`)
    redis.resume()
    await waitFor(async () => (await store.firstUse(`after-${randomUUID()}`, 60_000).catch(() => false)) === true, 10_000)
    t.equal(await store.healthy(), true)
  })

  t.test('a new store: calls made while it first connects wait for the connection (no 503 at start or after a reload)', async (t) => {
    const store = withDeadline(createRedisReplayStore(config(redis.url), recordingOutages().outages), { timeoutMs: 2_000 })
    t.teardown(() => store.close())
    t.same(await Promise.all([store.firstUse('x', 60_000), store.firstUse('x', 60_000), store.firstUse('y', 60_000)]), [true, false, true])
  })

  t.test('after close(): rejects with replay_store_unavailable, does not hang', async (t) => {
    const store = await ready(createRedisReplayStore(config(redis.url), recordingOutages().outages))
    await store.close()
    await t.rejects(store.firstUse('k', 1_000), { code: 'replay_store_unavailable' })
    t.equal(await store.healthy(), false)
  })
}

if (!redisServerBinary()) {
  console.error(`# ${NO_REDIS}`)
  t.test('Redis store tests', { skip: NO_REDIS }, async () => {})
} else {
  const redis = await startRedisServer()
  t.teardown(() => redis.close())
  await runAgainst(redis)
}
