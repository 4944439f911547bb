// Revocations shared through Redis: one replica revokes, the others see it
// at once (pub/sub) or on start and reconnect (the hash); old entries go.
// Against a test-owned redis-server; skips loudly without the binary.

import t from 'tap'
import { randomUUID } from 'node:crypto'
import { Redis } from 'ioredis'
import { createRedisRevocations } from '../../../src/revocation/redis.js'
import type { RedisReplayConfig } from '../../../src/replay/redis.js'
import { redisServerBinary, startRedisServer, NO_REDIS } from '../../helpers/redis-server.js'
import { waitFor } from '../../helpers/harness.js'

if (!redisServerBinary()) {
  t.comment(NO_REDIS)
  t.pass(NO_REDIS)
} else {
  const redis = await startRedisServer()
  t.teardown(() => redis.close())
  const config = (prefix: string): RedisReplayConfig => ({ url: redis.url, mode: 'standalone', sentinelMaster: undefined, keyPrefix: prefix, timeoutMs: 250 })
  const HOUR = 3_600_000

  t.test('a revocation on one replica reaches another at once', async (t) => {
    const prefix = `t:${randomUUID()}:`
    const a = createRedisRevocations(config(prefix), { maxAgeMs: HOUR })
    const b = createRedisRevocations(config(prefix), { maxAgeMs: HOUR })
    t.teardown(async () => { await a.close(); await b.close() })
    await a.loaded(); await b.loaded()
    const at = Date.now()
    await a.revoke('alice.example', at)
    t.equal(a.notBefore('alice.example'), at, 'the revoking replica at once')
    await waitFor(async () => b.notBefore('alice.example') === at, 5_000)
    t.equal(b.notBefore('alice.example'), at, 'the other replica through pub/sub')
    t.equal(b.notBefore('bob.example'), undefined)
  })

  t.test('a replica that starts later reads the list; stale entries are dropped', async (t) => {
    const prefix = `t:${randomUUID()}:`
    const admin = new Redis({ port: redis.port, host: '127.0.0.1' })
    t.teardown(() => admin.quit())
    const now = Date.now()
    await admin.hset(`${prefix}sessions:revoked`, 'alice.example', String(now - 1000), 'old.example', String(now - 2 * HOUR))
    const c = createRedisRevocations(config(prefix), { maxAgeMs: HOUR })
    t.teardown(() => c.close())
    await c.loaded()
    t.equal(c.notBefore('alice.example'), now - 1000)
    t.equal(c.notBefore('old.example'), undefined, 'older than the longest lifetime: ignored')
    t.same(await admin.hkeys(`${prefix}sessions:revoked`), ['alice.example'], 'and deleted from the hash')
  })

  t.test('another key prefix is another fleet', async (t) => {
    const a = createRedisRevocations(config(`t:${randomUUID()}:`), { maxAgeMs: HOUR })
    const b = createRedisRevocations(config(`t:${randomUUID()}:`), { maxAgeMs: HOUR })
    t.teardown(async () => { await a.close(); await b.close() })
    await a.loaded(); await b.loaded()
    await a.revoke('alice.example', Date.now())
    await new Promise((r) => setTimeout(r, 200))
    t.equal(b.notBefore('alice.example'), undefined)
  })

  t.test('revoke fails loudly while Redis is unreachable', async (t) => {
    const dead = createRedisRevocations({ ...config('x:'), url: 'redis://127.0.0.1:1' }, { maxAgeMs: HOUR, onError: () => {} })
    t.teardown(() => dead.close())
    await t.rejects(dead.revoke('alice.example', Date.now()))
    t.equal(dead.notBefore('bob.example'), undefined, 'reads never throw')
  })
}
