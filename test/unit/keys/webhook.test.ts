// keys.webhook (src/keys/webhook.ts): never waited for, retried, bounded.
import t from 'tap'
import { createKeyWebhook, MAX_PENDING, RETRY_DELAYS_MS } from '../../../src/keys/webhook.js'
import { GatewayError } from '../../../src/errors.js'
import type { FetchOne } from '../../../src/keys/types.js'

t.test('a failing webhook is retried, then counted failed; notify returns at once', async (t) => {
  const outcomes: string[] = []
  let calls = 0
  const waits: number[] = []
  const fetch: FetchOne = async () => { calls++; throw new GatewayError('key_fetch_status', 'answered 500', { outage: true }) }
  const hook = createKeyWebhook({ url: 'https://hook.example/x', fetch, onOutcome: (o) => outcomes.push(o), sleep: async (ms) => { waits.push(ms) } })
  hook.notify({ event: 'key_first_seen' })
  t.equal(outcomes.length, 0, 'nothing decided synchronously')
  await hook.idle()
  t.equal(calls, 1 + RETRY_DELAYS_MS.length)
  t.same(waits, RETRY_DELAYS_MS)
  t.same(outcomes, ['failed'])
})

t.test('delivered on the first 2xx; the body is the event as JSON, POSTed', async (t) => {
  const seen: { method?: string; body?: string }[] = []
  const fetch: FetchOne = async (r) => { seen.push({ method: r.method, body: String(r.body?.bytes) }); return { status: 204, headers: {}, body: Buffer.alloc(0) } }
  const outcomes: string[] = []
  const hook = createKeyWebhook({ url: 'https://hook.example/x', fetch, onOutcome: (o) => outcomes.push(o) })
  hook.notify({ event: 'key_first_seen', identity: 'alice.test' })
  await hook.idle()
  t.same(seen, [{ method: 'POST', body: '{"event":"key_first_seen","identity":"alice.test"}' }])
  t.same(outcomes, ['delivered'])
})

t.test('a hanging webhook holds at most MAX_PENDING events; the rest are dropped and counted', async (t) => {
  const outcomes: string[] = []
  const fetch: FetchOne = () => new Promise(() => {})
  const hook = createKeyWebhook({ url: 'https://hook.example/x', fetch, onOutcome: (o) => outcomes.push(o) })
  for (let i = 0; i < MAX_PENDING + 5; i++) hook.notify({ i })
  t.same(outcomes, Array(5).fill('dropped'))
})
