// /metrics on the admin listener after a mixed run over real sockets: public,
// allowed (real DomainPoP proofs, a real key fetch over HTTPS), denied,
// refused (no credentials, a replay, a key that is not published) and two
// reloads (one good, one refused). Every declared metric is on the page, and
// the series the run must have produced are there with plausible values.

import t from 'tap'
import { writeFile } from 'node:fs/promises'
import { startUpstream, startTestGateway, rawRequest } from '../helpers/harness.js'
import { startKeyHost, keysConfig } from '../helpers/identity.js'
import { signDomainPopProof } from '../../src/client/proof.js'
import { generateClientKey } from '../../src/client/keys.js'
import { METRIC_NAMES } from '../../src/metrics.js'

const ORIGIN = 'https://gw.test'

/** `name{labels}` → value, for every sample line. */
function samples(text: string): Map<string, number> {
  const out = new Map<string, number>()
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue
    const i = line.lastIndexOf(' ')
    out.set(line.slice(0, i), Number(line.slice(i + 1)))
  }
  return out
}

t.test('every metric after a mixed run: public, allowed, denied, refused, key fetch, reloads', async (t) => {
  const up = await startUpstream()
  const kh = await startKeyHost()
  const gw = await startTestGateway({ upstream: up.url, publicOrigin: ORIGIN, extraConfig: keysConfig() + '\nadmin:\n  listen: 127.0.0.1:0\n' })
  t.teardown(async () => { await gw.close(); await up.close(); await kh.close() })
  const admin = `http://127.0.0.1:${gw.gw.admin!.port}`
  const nonceOf = async () => (await rawRequest(gw.url, { path: '/foo' })).headers['domainpop-nonce'] as string
  const proofFor = async (identity: string, key: Awaited<ReturnType<typeof generateClientKey>>, keyUrl: string) =>
    `DomainPoP ${signDomainPopProof(key, { identity, keyUrl, audience: ORIGIN, method: 'GET', path: '/foo', nonce: await nonceOf() })}`

  t.equal((await rawRequest(gw.url, { path: '/public/x' })).status, 200, 'public')
  const alice = await kh.publish('alice.test')
  const allowedProof = await proofFor('alice.test', alice.key, alice.keyUrl)
  t.equal((await rawRequest(gw.url, { path: '/foo', headers: [['Authorization', allowedProof]] })).status, 200, 'allowed (key fetched)')
  t.equal((await rawRequest(gw.url, { path: '/foo', headers: [['Authorization', await proofFor('alice.test', alice.key, alice.keyUrl)]] })).status, 200, 'allowed (key from cache)')
  t.equal((await rawRequest(gw.url, { path: '/foo', headers: [['Authorization', allowedProof]] })).status, 401, 'refused: replay')
  const bob = await kh.publish('bob.test')
  t.equal((await rawRequest(gw.url, { path: '/foo', headers: [['Authorization', await proofFor('bob.test', bob.key, bob.keyUrl)]] })).status, 403, 'denied')
  const unpublished = await generateClientKey('ES256')
  t.equal((await rawRequest(gw.url, { path: '/foo', headers: [['Authorization', await proofFor('alice.test', unpublished, kh.keyUrl('alice.test', unpublished.kid))]] })).status, 401, 'refused: key not published (a failed fetch)')
  t.same(await gw.gw.reload('test'), [], 'a good reload')
  await writeFile(gw.aclFile, 'version: 1\nrules: [')
  t.not((await gw.gw.reload('test')).length, 0, 'a refused reload')

  const res = await fetch(`${admin}/metrics`)
  t.equal(res.status, 200)
  t.match(res.headers.get('content-type'), /^text\/plain; version=0\.0\.4/)
  const text = await res.text()
  for (const name of METRIC_NAMES) t.match(text, new RegExp(`^# TYPE ${name} (counter|histogram|gauge)$`, 'm'), `${name} declared`)
  for (const name of ['process_cpu_user_seconds_total', 'process_cpu_system_seconds_total', 'process_resident_memory_bytes', 'nodejs_heap_size_used_bytes', 'nodejs_eventloop_lag_seconds', 'nodejs_eventloop_lag_p99_seconds', 'nodejs_gc_duration_seconds']) {
    t.match(text, new RegExp(`^# TYPE ${name} `, 'm'), `${name} (process/Node default)`)
  }
  const s = samples(text)
  const at = (k: string) => s.get(k) ?? NaN
  for (const d of ['public', 'allow', 'deny', 'error']) t.ok(at(`popgate_request_duration_seconds_count{decision="${d}"}`) >= 1, `request latency, decision ${d}`)
  t.equal(at('popgate_request_duration_seconds_count{decision="allow"}'), 2)
  t.equal(at('popgate_upstream_duration_seconds_count{decision="public"}'), 1, 'upstream latency, public')
  t.equal(at('popgate_upstream_duration_seconds_count{decision="allow"}'), 2, 'upstream latency, allowed')
  t.notOk(s.has('popgate_upstream_duration_seconds_count{decision="deny"}'), 'a denied request never reached the upstream')
  t.ok(at('popgate_request_duration_seconds_sum{decision="allow"}') > 0)
  t.equal(at('popgate_key_fetch_duration_seconds_count{outcome="ok"}'), 1, 'one successful key fetch')
  t.ok([...s.keys()].some((k) => /^popgate_key_fetch_duration_seconds_count\{outcome="key_[a-z_]+"\}$/.test(k)), 'the failed fetch, by its error code')
  t.equal(at('popgate_replay_store_duration_seconds_count{result="first_use"}'), 2)
  t.equal(at('popgate_replay_store_duration_seconds_count{result="replay"}'), 1)
  t.equal(at('popgate_key_cache_entries'), 2, 'the good document and the remembered failure')
  t.ok(at('popgate_key_cache_hit_ratio') > 0 && at('popgate_key_cache_hit_ratio') < 1, `hit ratio ${at('popgate_key_cache_hit_ratio')}`)
  t.equal(at('popgate_draining'), 0)
  t.equal(at('popgate_config_reloads_total{result="ok"}'), 1)
  t.equal(at('popgate_config_reloads_total{result="invalid"}'), 1)
  t.equal(at('popgate_requests_total{decision="deny",code="forbidden"}'), 1)
  t.ok(at('process_resident_memory_bytes') > 0)
  t.equal(at('popgate_scheme_requests_total{scheme="domainpop",decision="allow"}'), 2, 'requests by scheme')
  t.equal(at('popgate_scheme_requests_total{scheme="domainpop",decision="deny"}'), 1)
  t.equal(at('popgate_refusals_total{code="forbidden",status="403"}'), 1, 'refusals by code and status')
  t.ok([...s.keys()].some((k) => /^popgate_rule_requests_total\{rule="[^"]+",decision="allow"\}$/.test(k)), 'requests by rule and decision')
  t.notOk([...s.keys()].some((k) => k.startsWith('popgate_refusals_total{code="credentials_missing"')), 'a bare challenge is not a refusal')

  // Histogram shape: buckets cumulative, +Inf equal to the count.
  const bucketOf = /^popgate_request_duration_seconds_bucket\{le="([^"]+)",decision="public"\}$/
  const buckets = [...s].filter(([k]) => bucketOf.test(k)).map(([, v]) => v)
  t.ok(buckets.length > 5)
  t.ok(buckets.every((v, i) => i === 0 || v >= buckets[i - 1]!), 'cumulative')
  t.equal(at('popgate_request_duration_seconds_bucket{le="+Inf",decision="public"}'), at('popgate_request_duration_seconds_count{decision="public"}'))
})
