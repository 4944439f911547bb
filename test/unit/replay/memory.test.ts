// The in-memory replay store (PROTOCOL.md §2.3 step 8): single use within a
// TTL, bounded, and fail closed when full. The clock is injected. It also
// runs the store contract (contract.ts).

import t from 'tap'
import { createMemoryReplayStore } from '../../../src/replay/memory.js'
import { GatewayError } from '../../../src/errors.js'
import { replayStoreContract } from './contract.js'

function clock(start = 1_000_000) {
  let ms = start
  return { now: () => ms, advance: (d: number) => { ms += d } }
}

t.test('first use true, second false', async (t) => {
  const c = clock()
  const store = createMemoryReplayStore({ maxEntries: 100, now: c.now })
  t.equal(await store.firstUse('alice.example|jti-1', 60_000), true)
  t.equal(await store.firstUse('alice.example|jti-1', 60_000), false)
  t.equal(await store.firstUse('alice.example|jti-1', 60_000), false, 'still a replay on the third try')
  t.equal(await store.firstUse('bob.example|jti-1', 60_000), true, 'keys are distinct per identity')
  t.equal(await store.firstUse('alice.example|jti-2', 60_000), true)
  t.equal(await store.healthy(), true)
})

t.test('expiry with an injected clock', async (t) => {
  const c = clock()
  const store = createMemoryReplayStore({ maxEntries: 100, now: c.now })
  t.equal(await store.firstUse('k', 60_000), true)
  c.advance(59_999)
  t.equal(await store.firstUse('k', 60_000), false, 'one millisecond before expiry: replay')
  c.advance(1)
  t.equal(await store.firstUse('k', 60_000), true, 'at expiry the key may be used again')
  t.equal(await store.firstUse('k', 60_000), false, 'and is recorded again')
  c.advance(60_000)
  t.equal(await store.firstUse('k', 60_000), true)
})

t.test('bounded: full of live entries → replay_store_unavailable (fail closed)', async (t) => {
  const c = clock()
  const store = createMemoryReplayStore({ maxEntries: 3, now: c.now })
  for (const k of ['a', 'b', 'c']) t.equal(await store.firstUse(k, 60_000), true)
  const err = await store.firstUse('d', 60_000).then(() => undefined, (e: unknown) => e)
  t.type(err, GatewayError)
  t.match(err, { code: 'replay_store_unavailable', status: 503 })
  t.equal(await store.firstUse('a', 60_000), false, 'a replay is still recognized when full')
  await t.rejects(store.firstUse('d', 60_000), { code: 'replay_store_unavailable' }, 'refused again: not silently forgotten')
  t.equal(await store.firstUse('b', 60_000), false, 'no live entry was evicted to make room')
  t.equal(await store.firstUse('c', 60_000), false)
})

t.test('bounded: expired entries are swept to make room', async (t) => {
  const c = clock()
  const store = createMemoryReplayStore({ maxEntries: 3, now: c.now })
  await store.firstUse('a', 10_000)
  c.advance(1_000)
  await store.firstUse('b', 10_000)
  await store.firstUse('c', 10_000)
  c.advance(9_000) // 'a' expired, 'b' and 'c' live
  t.equal(await store.firstUse('d', 10_000), true, 'room made by dropping the expired entry')
  t.equal(await store.firstUse('b', 10_000), false, 'live entries kept')
  await t.rejects(store.firstUse('e', 10_000), { code: 'replay_store_unavailable' })
  c.advance(10_000)
  for (const k of ['e', 'f', 'g']) t.equal(await store.firstUse(k, 10_000), true, `${k}: everything expired, all room back`)
})

t.test('concurrency: Promise.all of one key → exactly one true', async (t) => {
  const store = createMemoryReplayStore({ maxEntries: 10_000 })
  for (let round = 0; round < 20; round++) {
    const results = await Promise.all(Array.from({ length: 50 }, () => store.firstUse(`k${round}`, 60_000)))
    t.equal(results.filter(Boolean).length, 1, `round ${round}`)
  }
})

t.test('close empties the store', async (t) => {
  const store = createMemoryReplayStore({ maxEntries: 10 })
  await store.firstUse('k', 60_000)
  await store.close()
  t.equal(await store.firstUse('k', 60_000), true)
})

t.test('the store contract', async (t) => {
  const c = clock()
  replayStoreContract(t, {
    create: async () => createMemoryReplayStore({ maxEntries: 1_000, now: c.now }),
    ttlMs: 60_000,
    elapse: async (ms) => c.advance(ms),
    unavailable: async () => {
      const full = createMemoryReplayStore({ maxEntries: 1, now: c.now })
      await full.firstUse('the only room', 60_000)
      return full
    },
  })
})
