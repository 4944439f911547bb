// A replay store that never answers, behind a real gateway on real sockets:
// a valid proof gets 503 replay_store_unavailable with Retry-After within the
// deadline (never a hung request, never a 200), /readyz says not ready, and
// the outage is logged and counted once.

import t from 'tap'
import { startUpstream, startTestGateway, rawRequest } from '../helpers/harness.js'
import { startKeyHost, keysConfig } from '../helpers/identity.js'
import { signDomainPopProof } from '../../src/client/proof.js'
import type { ReplayStore } from '../../src/replay/types.js'

const ORIGIN = 'https://gw.test'

t.test('a store that never answers → 503 within replay.timeout, /readyz 503, logged once', async (t) => {
  let calls = 0
  const hung: ReplayStore = { firstUse: () => { calls++; return new Promise(() => {}) }, healthy: () => new Promise(() => {}), close: async () => {} }
  const up = await startUpstream()
  const kh = await startKeyHost()
  const gw = await startTestGateway({
    upstream: up.url, publicOrigin: ORIGIN, replay: hung,
    extraConfig: `${keysConfig()}\nadmin:\n  listen: 127.0.0.1:0\nreplay:\n  timeout: 200ms\n`,
  })
  t.teardown(async () => { await gw.close(); await up.close(); await kh.close() })
  const { key, keyUrl } = await kh.publish('alice.test')
  const nonce = (await rawRequest(gw.url, { path: '/foo' })).headers['domainpop-nonce'] as string

  for (let i = 0; i < 3; i++) {
    const proof = signDomainPopProof(key, { identity: 'alice.test', keyUrl, audience: ORIGIN, method: 'GET', path: '/foo', nonce })
    const t0 = Date.now()
    const res = await rawRequest(gw.url, { path: '/foo', headers: [['Authorization', `DomainPoP ${proof}`]] })
    const took = Date.now() - t0
    t.equal(res.status, 503, `request ${i}`)
    t.equal(JSON.parse(res.body).code, 'replay_store_unavailable')
    t.equal(res.headers['retry-after'], '1')
    t.ok(took >= 190 && took < 2_000, `answered at the deadline, not hung (${took} ms)`)
  }
  t.equal(calls, 3, 'the store was asked each time')
  t.equal(up.seen.length, 0, 'nothing reached the upstream')

  const ready = await rawRequest(`http://127.0.0.1:${gw.gw.admin!.port}`, { path: '/readyz' })
  t.equal(ready.status, 503, '/readyz: not ready while the store does not answer')
  t.equal(await gw.metrics.value('popgate_replay_store_errors_total', { reason: 'timeout' }), 1, 'one outage counted')
  t.equal(gw.log.lines.filter((l) => /replay store unavailable/.test(String(l.msg))).length, 1, 'one log line, not one per request')
})
