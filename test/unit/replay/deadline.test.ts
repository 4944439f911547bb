// The per-call deadline around any ReplayStore (src/replay/deadline.ts): a
// store that never answers is refused at the deadline, with Retry-After, and
// never accepted. The timers are injected, so no test waits for time except
// the one that checks the real timer.

import t from 'tap'
import { withDeadline, type Timers } from '../../../src/replay/deadline.js'
import { createMemoryReplayStore } from '../../../src/replay/memory.js'
import { GatewayError } from '../../../src/errors.js'
import type { OutageLog, OutageReason } from '../../../src/replay/outage.js'
import type { ReplayStore } from '../../../src/replay/types.js'

/** Timers that fire only when the test says so. */
function manualTimers() {
  const pending = new Map<number, { fn: () => void; ms: number }>()
  let next = 0
  const timers: Timers = {
    setTimeout: (fn, ms) => { pending.set(++next, { fn, ms }); return next },
    clearTimeout: (h) => { pending.delete(h as number) },
  }
  const fireAll = () => { const all = [...pending.values()]; pending.clear(); for (const p of all) p.fn() }
  return { timers, pending, fireAll }
}

function recordingOutages() {
  const events: (OutageReason | 'up')[] = []
  let down = false
  const outages: OutageLog = {
    get isDown() { return down },
    down: (r) => { events.push(r); down = true },
    up: () => { events.push('up'); down = false },
  }
  return { outages, events }
}

const never = <T>() => new Promise<T>(() => {})
const hung = (closed = { count: 0 }): ReplayStore => ({ firstUse: never, healthy: never, close: async () => { closed.count++ } })

t.test('a store that never answers: every call is refused at the deadline with 503 replay_store_unavailable and Retry-After', async (t) => {
  const m = manualTimers()
  const rec = recordingOutages()
  const store = withDeadline(hung(), { timeoutMs: 250, timers: m.timers, outages: rec.outages })
  const calls = [store.firstUse('a', 60_000), store.firstUse('b', 60_000), store.firstUse('c', 60_000)]
  let settled = 0
  for (const c of calls) c.then(() => settled++, () => settled++)
  await new Promise((r) => setImmediate(r))
  t.equal(settled, 0, 'nothing settles before the deadline')
  t.same([...m.pending.values()].map((p) => p.ms), [250, 250, 250], 'one timer per call, of timeoutMs')
  m.fireAll()
  for (const c of calls) {
    const err = await c.then(() => undefined, (e: unknown) => e)
    t.type(err, GatewayError)
    t.match(err, { code: 'replay_store_unavailable', status: 503, retryAfterSec: 1 })
  }
  t.same(rec.events, ['timeout', 'timeout', 'timeout'], 'each timeout reported (the outage log keeps only the first)')
})

t.test('an answer in time passes through; its timer is cleared; success is reported', async (t) => {
  const m = manualTimers()
  const rec = recordingOutages()
  const store = withDeadline(createMemoryReplayStore({ maxEntries: 10 }), { timeoutMs: 250, timers: m.timers, outages: rec.outages })
  t.equal(await store.firstUse('k', 60_000), true)
  t.equal(await store.firstUse('k', 60_000), false, 'a replay stays a replay')
  t.equal(m.pending.size, 0, 'no timer left behind')
  t.same(rec.events, ['up', 'up'])
})

t.test('an answer after the deadline is ignored: the call was already refused', async (t) => {
  const m = manualTimers()
  let answer!: (v: boolean) => void
  const store = withDeadline({ firstUse: () => new Promise<boolean>((r) => { answer = r }), healthy: async () => true, close: async () => {} }, { timeoutMs: 100, timers: m.timers })
  const call = store.firstUse('k', 60_000)
  m.fireAll()
  answer(true)
  await t.rejects(call, { code: 'replay_store_unavailable' }, 'refused, even though the store later said "first use"')
})

t.test('any other failure becomes replay_store_unavailable with Retry-After, the cause kept', async (t) => {
  const rec = recordingOutages()
  const boom = new Error('READONLY You can\'t write against a read only replica')
  const broken: ReplayStore = { firstUse: async () => { throw boom }, healthy: async () => { throw boom }, close: async () => {} }
  const store = withDeadline(broken, { timeoutMs: 250, outages: rec.outages })
  const err = await store.firstUse('k', 60_000).then(() => undefined, (e: unknown) => e) as GatewayError
  t.match(err, { code: 'replay_store_unavailable', retryAfterSec: 1 })
  t.equal(err.cause, boom)
  t.notMatch(err.detail, /READONLY/, 'the store\'s own message is not sent to the client')
  t.equal(await store.healthy(), false, 'a throwing healthy() is false')
  t.same(rec.events, ['error'])

  const full = createMemoryReplayStore({ maxEntries: 1 })
  await full.firstUse('x', 60_000)
  const wrapped = withDeadline(full, { timeoutMs: 250 })
  await t.rejects(wrapped.firstUse('y', 60_000), { code: 'replay_store_unavailable', retryAfterSec: 1, detail: 'replay store is full' }, 'a full memory store gets Retry-After too')
})

t.test('healthy(): false at the deadline when the store hangs', async (t) => {
  const m = manualTimers()
  const store = withDeadline(hung(), { timeoutMs: 250, timers: m.timers })
  const h = store.healthy()
  m.fireAll()
  t.equal(await h, false)
})

t.test('close(): closes the inner store unless it belongs to someone else', async (t) => {
  const owned = { count: 0 }, lent = { count: 0 }
  await withDeadline(hung(owned), { timeoutMs: 1 }).close()
  await withDeadline(hung(lent), { timeoutMs: 1, closeInner: false }).close()
  t.same([owned.count, lent.count], [1, 0])
})

t.test('the real timer: a hung store is refused after timeoutMs, not much later', async (t) => {
  const store = withDeadline(hung(), { timeoutMs: 50 })
  const t0 = Date.now()
  await t.rejects(store.firstUse('k', 60_000), { code: 'replay_store_unavailable' })
  const took = Date.now() - t0
  t.ok(took >= 45 && took < 1_000, `refused after ${took} ms`)
})
