import t from 'tap'
import { createSingleFlight } from '../../../../../src/schemes/dpop/introspection/single-flight.js'

/** A call the test settles by hand, counting how often it was started. */
function manual<V>() {
  let calls = 0
  let settle: { resolve(v: V): void; reject(e: unknown): void } | undefined
  const call = () => { calls++; return new Promise<V>((resolve, reject) => { settle = { resolve, reject } }) }
  return { call, get calls() { return calls }, get settle() { return settle! } }
}

t.test('50 concurrent callers of one key share one call', async (t) => {
  const sf = createSingleFlight<string>()
  const m = manual<string>()
  const all = Array.from({ length: 50 }, () => sf.run('k', m.call))
  t.equal(m.calls, 1)
  t.equal(sf.inFlight, 1)
  m.settle.resolve('v')
  t.same(await Promise.all(all), Array(50).fill('v'))
  t.equal(sf.inFlight, 0, 'gone once settled')
})

t.test('another key gets its own call', async (t) => {
  const sf = createSingleFlight<string>()
  const a = manual<string>(), b = manual<string>()
  const pa = sf.run('a', a.call), pb = sf.run('b', b.call)
  t.equal(a.calls + b.calls, 2)
  a.settle.resolve('A'); b.settle.resolve('B')
  t.same(await Promise.all([pa, pb]), ['A', 'B'])
})

t.test('a failure reaches every waiter and is not remembered', async (t) => {
  const sf = createSingleFlight<string>()
  const m = manual<string>()
  const all = Array.from({ length: 3 }, () => sf.run('k', m.call))
  m.settle.reject(new Error('down'))
  for (const p of all) await t.rejects(p, /down/)
  t.equal(sf.inFlight, 0)
  const again = sf.run('k', m.call)
  t.equal(m.calls, 2, 'the next caller asks again')
  m.settle.resolve('ok')
  t.equal(await again, 'ok')
})

t.test('a call that throws synchronously rejects and leaves nothing in flight', async (t) => {
  const sf = createSingleFlight<string>()
  await t.rejects(sf.run('k', () => { throw new Error('sync') }), /sync/)
  t.equal(sf.inFlight, 0)
})
