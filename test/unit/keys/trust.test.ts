// The key trust control point (src/keys/trust.ts) without sockets: pins,
// one event per new key however often it is retried, hold until approved,
// and what an unreachable record store means per policy (fail closed for
// hold, accepted and counted for accept). Redis-backed records: known-keys-redis.test.ts.

import t from 'tap'
import { Writable } from 'node:stream'
import { createKeyTrust, createKeyTrustCore, KeyTrustInputError } from '../../../src/keys/trust.js'
import { createMemoryKnownKeys, type KnownKeyStore } from '../../../src/keys/known-keys.js'
import { createLogger } from '../../../src/log.js'
import { createMetrics } from '../../../src/metrics.js'
import { GatewayError } from '../../../src/errors.js'
import type { IdentityPolicy } from '../../../src/acl/identities.js'
import type { Identity } from '../../../src/identity/domain.js'

const A = 'a'.repeat(43), B = 'b'.repeat(43), C = 'c'.repeat(43)
const policy = (p: Partial<IdentityPolicy>): [Identity, IdentityPolicy] =>
  ['alice.test' as Identity, { identity: 'alice.test' as Identity, keys: undefined, newKeys: 'accept', pos: { line: 1, col: 1 }, ...p } as IdentityPolicy]

function build(policies: [Identity, IdentityPolicy][], store: KnownKeyStore = createMemoryKnownKeys(), notify?: (e: unknown) => void) {
  const lines: Record<string, unknown>[] = []
  const log = createLogger('info', new Writable({ write(c, _e, cb) { for (const l of String(c).split('\n')) if (l) lines.push(JSON.parse(l)); cb() } }))
  const metrics = createMetrics({ processMetrics: false })
  const trust = createKeyTrust({ core: createKeyTrustCore(store), policies: new Map(policies), now: () => 1_000_000, log, metrics, webhook: notify && { notify, idle: async () => {} } })
  const seen = (thumbprint: string) => ({ identity: 'alice.test', thumbprint, alg: 'ES256', scheme: 'domainpop', url: `https://alice.test/k/${thumbprint.slice(0, 3)}` })
  return { trust, lines, metrics, seen, events: () => lines.filter((l) => l.msg === 'key_first_seen') }
}

const code = async (p: Promise<unknown>): Promise<string | undefined> => p.then(() => undefined, (e: unknown) => (e as GatewayError).code)

t.test('pins: checkPin refuses a thumbprint the pins do not list, and admit checks again', async (t) => {
  const { trust, metrics } = build([policy({ keys: [A] })])
  t.doesNotThrow(() => trust.checkPin('alice.test', A, 'domainpop'))
  t.throws(() => trust.checkPin('alice.test', B, 'domainpop'), { code: 'key_not_pinned' })
  t.doesNotThrow(() => trust.checkPin('bob.test', B, 'domainpop'), 'an identity without pins takes any key')
  t.equal(await code(trust.admit({ identity: 'alice.test', thumbprint: B, alg: 'ES256', scheme: 'dpop', url: undefined })), 'key_not_pinned')
  t.equal(await metrics.value('popgate_key_pin_refusals_total', { scheme: 'dpop' }), 1)
  t.same([...trust.pinsFor('alice.test') ?? []], [A])
  t.equal(trust.pinsFor('bob.test'), undefined)
})

t.test('a held key retried a thousand times is one event, refused each time, until approved', async (t) => {
  const webhook: unknown[] = []
  const { trust, seen, events, metrics } = build([policy({ newKeys: 'hold' })], undefined, (e) => webhook.push(e))
  await trust.admit(seen(A))
  const outcomes = await Promise.all(Array.from({ length: 1000 }, () => code(trust.admit(seen(B)))))
  t.ok(outcomes.every((c) => c === 'key_held'), 'every try refused')
  t.equal(events().length, 1, 'one key_first_seen line')
  t.equal(webhook.length, 1, 'one webhook event')
  t.equal(await metrics.value('popgate_keys_first_seen_total', { identity: 'alice.test' }), 1)
  await trust.approve('alice.test', B)
  t.equal(await code(trust.admit(seen(B))), undefined, 'approved')
  t.equal(events().length, 1)
})

t.test('a pinned key is never held, whatever newKeys says', async (t) => {
  const { trust, seen } = build([policy({ keys: [A, B], newKeys: 'hold' })])
  await trust.admit(seen(A))
  t.equal(await code(trust.admit(seen(B))), undefined)
})

t.test('the records unreachable: a hold identity\'s new key fails closed; an accept identity\'s is accepted and counted', async (t) => {
  const down: KnownKeyStore = {
    record: async () => { throw new GatewayError('replay_store_unavailable', 'down') },
    touch: async () => { throw new Error('down') },
    approve: async () => { throw new GatewayError('replay_store_unavailable', 'down') },
    list: async () => { throw new GatewayError('replay_store_unavailable', 'down') },
    close: async () => {},
  }
  const hold = build([policy({ newKeys: 'hold' })], down)
  t.equal(await code(hold.trust.admit(hold.seen(A))), 'replay_store_unavailable', 'fail closed (503)')
  t.equal(await hold.metrics.value('popgate_key_record_errors_total', { policy: 'hold' }), 1)
  const accept = build([], down)
  t.equal(await code(accept.trust.admit(accept.seen(A))), undefined, 'accepted unrecorded')
  t.equal(await accept.metrics.value('popgate_key_record_errors_total', { policy: 'accept' }), 1)
  t.ok(accept.lines.some((l) => l.msg === 'key accepted without a record: the key records are unreachable'))
})

t.test('approve: a malformed identity or thumbprint is a 400, an identity identities: does not name a 404; a key not seen yet is pre-approved', async (t) => {
  const { trust, seen, events } = build([policy({ newKeys: 'hold' })])
  const status = (p: Promise<unknown>) => p.then(() => 0, (e: unknown) => (e instanceof KeyTrustInputError ? e.status : -1))
  t.equal(await status(trust.approve('alice..test', A)), 400)
  t.equal(await status(trust.approve('alice.test', 'short')), 400)
  t.equal(await status(trust.approve('bob.test', A)), 404)
  await trust.admit(seen(C))
  const pre = await trust.approve('alice.test', A)
  t.equal(pre.state, 'approved')
  t.equal(pre.firstSeen, undefined)
  t.equal(await code(trust.admit(seen(A))), undefined, 'accepted when it comes')
  t.equal(events().length, 0, 'an approved key is no surprise')
})

t.test('list shows records and the pinned keys not seen yet', async (t) => {
  const { trust, seen } = build([policy({ keys: [A, B] })])
  await trust.admit(seen(A))
  const list = await trust.list('alice.test')
  t.same(list.map((k) => [k.thumbprint, k.state, k.pinned]), [[A, 'accepted', true], [B, 'pinned', true]])
  t.match(list[0], { alg: 'ES256', scheme: 'domainpop', ageSeconds: 0 })
})
