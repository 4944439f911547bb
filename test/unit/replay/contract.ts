// What every ReplayStore must do (src/replay/types.ts), as one suite that each
// implementation runs with its own factory: test/unit/replay/memory.test.ts,
// test/unit/replay/redis.test.ts. A new store passes this before it is used.

import type { Test } from 'tap'
import type { ReplayStore } from '../../../src/replay/types.js'

export interface StoreFactory {
  /** A fresh store: no key recorded by an earlier test is visible to it. */
  create(): Promise<ReplayStore>
  /** The TTL the suite uses: the store's own time passes through `elapse`. */
  readonly ttlMs: number
  /** Lets `ms` pass for the store (an injected clock, or real time for a server). */
  elapse(ms: number): Promise<void>
  /** A store that cannot answer (full, or no server behind it). */
  unavailable(): Promise<ReplayStore>
}

export function replayStoreContract(t: Test, f: StoreFactory): void {
  const withStore = (name: string, body: (t: Test, s: ReplayStore) => Promise<void>) =>
    t.test(name, async (t) => {
      const s = await f.create()
      t.teardown(() => s.close())
      await body(t, s)
    })

  withStore('contract: first use true, then false', async (t, s) => {
    t.equal(await s.firstUse('dp\nalice.test\nj1', f.ttlMs), true)
    t.equal(await s.firstUse('dp\nalice.test\nj1', f.ttlMs), false)
    t.equal(await s.firstUse('dp\nalice.test\nj1', f.ttlMs), false, 'still a replay on the third try')
  })

  withStore('contract: the TTL holds, then the key is free again', async (t, s) => {
    t.equal(await s.firstUse('k', f.ttlMs), true)
    await f.elapse(f.ttlMs / 2)
    t.equal(await s.firstUse('k', f.ttlMs), false, 'half the TTL later: a replay (and not re-armed by the refusal)')
    await f.elapse(f.ttlMs / 2 + 20)
    t.equal(await s.firstUse('k', f.ttlMs), true, 'past the TTL: free again')
    t.equal(await s.firstUse('k', f.ttlMs), false, 'and recorded again')
  })

  withStore('contract: distinct keys are independent', async (t, s) => {
    const keys = ['k', 'k\n', 'kk', 'K', 'dp\nalice.test\nj', 'dp\nbob.test\nj', 'dp\nalice.test\nj2', 'ü']
    for (const k of keys) t.equal(await s.firstUse(k, f.ttlMs), true, `${JSON.stringify(k)} first`)
    for (const k of keys) t.equal(await s.firstUse(k, f.ttlMs), false, `${JSON.stringify(k)} again`)
  })

  withStore('contract: 30 concurrent firstUse of one key → exactly one true', async (t, s) => {
    for (let round = 0; round < 5; round++) {
      const results = await Promise.all(Array.from({ length: 30 }, () => s.firstUse(`race${round}`, f.ttlMs)))
      t.equal(results.filter((r) => r === true).length, 1, `round ${round}: one winner`)
      t.equal(results.filter((r) => r === false).length, 29, `round ${round}: 29 replays`)
    }
  })

  withStore('contract: healthy() is true while the store answers', async (t, s) => {
    t.equal(await s.healthy(), true)
  })

  t.test('contract: close() resolves, and a second close() too', async (t) => {
    const s = await f.create()
    await s.firstUse('k', f.ttlMs)
    await t.resolves(s.close())
    await t.resolves(s.close())
  })

  t.test('contract: a store that cannot answer rejects with replay_store_unavailable (503), never true', async (t) => {
    const s = await f.unavailable()
    t.teardown(() => s.close())
    for (const k of ['fresh-1', 'fresh-2']) {
      await t.rejects(s.firstUse(k, f.ttlMs), { name: 'GatewayError', code: 'replay_store_unavailable', status: 503 }, k)
    }
  })
}
