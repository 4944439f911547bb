// Issue 11, finding 1: one identity the ACL allows must not be able to fill
// the key cache by naming a new jku on every request. Over real sockets: a
// gateway, the reference key host (HTTPS, counting requests) and valid
// proofs, each signed by a new key published at its own URL.
//
// The bound: one identity holds at most keys.maxUrlsPerIdentity documents
// (cached, failed or in flight) and keys.maxBytesPerIdentity estimated bytes;
// every further new URL is refused (401 key_fetch_quota) before anything is
// fetched, so the flood costs the key host maxUrlsPerIdentity requests and the
// cache at most maxUrlsPerIdentity entries, whatever its length.

import t from 'tap'
import { startUpstream, startTestGateway, rawRequest } from '../helpers/harness.js'
import { startKeyHost, keysConfig } from '../helpers/identity.js'
import { signDomainPopProof } from '../../src/client/proof.js'

const ORIGIN = 'https://gw.test'
const ACL = `version: 1
rules:
  - path: /foo
    read: [alice.test, bob.test]
`
const MAX_URLS = 4
const FLOOD = 300
const BATCH = 25

t.test('a flood of valid proofs naming new key URLs is refused early, with memory bounded; another identity keeps passing without refetching', async (t) => {
  const up = await startUpstream()
  const kh = await startKeyHost()
  const gw = await startTestGateway({
    upstream: up.url, publicOrigin: ORIGIN, acl: ACL,
    // The failure limits are raised so that what holds here is the key cache's own bound, not the 429 that would follow.
    extraConfig: `${keysConfig()}\n  maxUrlsPerIdentity: ${MAX_URLS}\nlimits:\n  failedAuthPerClientPerMinute: 100000\n  failedAuthPerIdentityPerMinute: 100000`,
  })
  t.teardown(async () => { await gw.close(); await up.close(); await kh.close() })
  const nonce = async () => (await rawRequest(gw.url, { path: '/foo' })).headers['domainpop-nonce'] as string
  const call = async (identity: string, p: Awaited<ReturnType<typeof kh.publish>>) => {
    const proof = signDomainPopProof(p.key, { identity, keyUrl: p.keyUrl, audience: ORIGIN, method: 'GET', path: '/foo', nonce: await nonce() })
    const res = await rawRequest(gw.url, { path: '/foo', headers: [['Authorization', `DomainPoP ${proof}`]] })
    return res.status === 200 ? '200' : `${res.status} ${JSON.parse(res.body).code as string}`
  }
  const fetchesFor = (identity: string) => kh.requests.filter((r) => r.startsWith(`${identity}:`)).length

  const bob = await kh.publish('bob.test')
  t.equal(await call('bob.test', bob), '200')
  t.equal(fetchesFor('bob.test'), 1)
  const keys = () => gw.gw.holder.current.keys.stats()
  const bobBytes = keys().bytes

  // alice.test: a new key at a new URL for every request, in concurrent batches, with bob's requests in between.
  const outcomes = new Map<string, number>()
  for (let i = 0; i < FLOOD; i += BATCH) {
    const published = await Promise.all(Array.from({ length: BATCH }, () => kh.publish('alice.test')))
    const results = await Promise.all([...published.map((p) => call('alice.test', p)), call('bob.test', bob)])
    t.equal(results.pop(), '200', `bob passes during the flood (batch ${i / BATCH})`)
    for (const r of results) outcomes.set(r, (outcomes.get(r) ?? 0) + 1)
  }
  // Refused either for the quota or, while the first fetches are still in
  // flight, for the per-domain in-flight cap: both before anything is fetched.
  const quota = outcomes.get('401 key_fetch_quota') ?? 0
  t.equal(outcomes.get('200'), MAX_URLS, 'the first URLs are served')
  t.equal(quota + (outcomes.get('401 key_fetch_busy') ?? 0), FLOOD - MAX_URLS, 'every later one refused')
  t.ok(quota >= FLOOD - MAX_URLS - BATCH, `nearly all for the per-identity quota (${quota})`)
  t.equal(fetchesFor('alice.test'), MAX_URLS, `the key host saw ${MAX_URLS} fetches for alice.test, not ${FLOOD}`)
  t.equal(fetchesFor('bob.test'), 1, 'bob.test was never refetched: its key stayed cached')
  t.equal(up.seen.length, MAX_URLS + 1 + FLOOD / BATCH, 'only authenticated requests reached the upstream')

  const s = keys()
  t.equal(s.entries, MAX_URLS + 1, 'the cache holds alice\'s four documents and bob\'s one')
  t.equal(s.quotaRefusals + s.busyRejections, FLOOD - MAX_URLS, 'every refusal was counted')
  t.ok(s.quotaRefusals > 0, 'the URL quota did the refusing (in-flight caps may take part of a burst)')
  const bound = (MAX_URLS + 1) * (bobBytes + 'alice'.length) // alice's URLs are two characters longer than bob's
  t.ok(s.bytes <= bound, `cache bytes ${s.bytes} ≤ ${bound}: five one-key documents`)
  t.equal(s.evictions, 0, 'nothing of anyone else was evicted')
})
