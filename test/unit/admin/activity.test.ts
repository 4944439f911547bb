// The admin page's recent view (admin/activity.ts): per-second samples,
// top identities (a claimed name apart from the same name proven), the
// refusal ring (bounded, newest first) and the bound on identities.

import t from 'tap'
import { createActivity, MAX_IDENTITIES, MAX_REFUSALS, type ExchangeFacts } from '../../../src/admin/activity.js'

const ex = (over: Partial<ExchangeFacts>): ExchangeFacts => ({ method: 'GET', path: '/x', decision: 'allow', code: undefined, ruleId: 'r1', identity: undefined, claimed: undefined, scheme: undefined, ...over })

t.test('a second closes into one sample: requests, refusals, latency percentiles', async (t) => {
  let clock = 1_000_000
  const a = createActivity({ now: () => clock, timer: false })
  for (let i = 0; i < 98; i++) a.record(ex({}), 'allow', 200, 0.002)
  a.record(ex({ code: 'forbidden' }), 'deny', 403, 0.002)
  a.record(ex({}), 'allow', 200, 1.5)
  clock += 1000
  a.tick()
  a.tick()
  const [s1, s2] = a.snapshot().seconds
  t.equal(s1!.requests, 100)
  t.equal(s1!.refusals, 1)
  t.ok(s1!.p50Ms >= 2 && s1!.p50Ms < 3.5, `p50 ${s1!.p50Ms}`)
  t.ok(s1!.p99Ms >= 2 && s1!.p99Ms < 3.5, `p99 ${s1!.p99Ms} (99 of 100 at 2 ms)`)
  t.equal(s1!.at, 1_000_000)
  t.same([s2!.requests, s2!.p50Ms], [0, 0], 'a quiet second')
})

t.test('top identities: proven and claimed names are kept apart; refusals counted', async (t) => {
  const a = createActivity({ timer: false })
  for (let i = 0; i < 3; i++) a.record(ex({ identity: 'alice.test' }), 'allow', 200, 0.001)
  for (let i = 0; i < 5; i++) a.record(ex({ claimed: 'alice.test', code: 'proof_signature_invalid' }), 'error', 401, 0.001)
  a.record(ex({ identity: 'bob.test' }), 'allow', 200, 0.001)
  const s = a.snapshot()
  t.same(s.topByRequests.map((c) => [c.identity, c.verified, c.requests, c.refusals]), [['alice.test', false, 5, 5], ['alice.test', true, 3, 0], ['bob.test', true, 1, 0]])
  t.same(s.topByRefusals.map((c) => [c.identity, c.verified]), [['alice.test', false]])
  t.equal(s.refusals[0]!.code, 'proof_signature_invalid')
  t.equal(s.refusals[0]!.verified, false)
})

t.test('bounded: refusals ring, identity table', async (t) => {
  const a = createActivity({ timer: false })
  for (let i = 0; i < MAX_REFUSALS + 10; i++) a.record(ex({ path: `/p${i}`, code: 'forbidden' }), 'deny', 403, 0.001)
  const r = a.snapshot().refusals
  t.equal(r.length, MAX_REFUSALS)
  t.equal(r[0]!.path, `/p${MAX_REFUSALS + 9}`, 'newest first')
  for (let i = 0; i < MAX_IDENTITIES + 100; i++) a.record(ex({ claimed: `n${i}.test`, code: 'forbidden' }), 'deny', 403, 0.001)
  t.equal(a.snapshot(MAX_IDENTITIES + 100).topByRequests.length, MAX_IDENTITIES)
  a.record(ex({ path: 'x'.repeat(5000), code: 'forbidden' }), 'deny', 403, 0.001)
  t.ok(a.snapshot().refusals[0]!.path.length <= 201, 'a long path is cut')
  for (let i = 0; i < 60; i++) a.tick()
  t.equal(a.snapshot(MAX_IDENTITIES).topByRequests.length, 0, 'a minute halves counts of 1 to 0: strangers leave')
})

t.test('reloads are kept newest first, bounded', async (t) => {
  const a = createActivity({ timer: false })
  for (let i = 0; i < 25; i++) a.reload({ at: i, reason: `r${i}`, result: 'ok' })
  const r = a.snapshot().reloads
  t.equal(r.length, 20)
  t.equal(r[0]!.reason, 'r24')
})
