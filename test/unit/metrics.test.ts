// Counters (metrics.ts, on prom-client; read back through its registry): each labelled series counts on its own, the
// Prometheus text names every counter with HELP and TYPE, and no label value
// can break out of its quotes or add a line.

import t from 'tap'
import { createMetrics, METRIC_NAMES } from '../../src/metrics.js'

t.test('series count separately, by every label', async (t) => {
  const m = createMetrics()
  m.inc('popgate_requests_total', { decision: 'allow', code: 'ok' })
  m.inc('popgate_requests_total', { decision: 'allow', code: 'ok' })
  m.inc('popgate_requests_total', { decision: 'deny', code: 'forbidden' })
  m.inc('popgate_requests_total', { decision: 'allow', code: 'forbidden' })
  m.inc('popgate_replays_total')
  t.equal(await m.value('popgate_requests_total', { decision: 'allow', code: 'ok' }), 2)
  t.equal(await m.value('popgate_requests_total', { decision: 'deny', code: 'forbidden' }), 1)
  t.equal(await m.value('popgate_requests_total', { decision: 'allow', code: 'forbidden' }), 1)
  t.equal(await m.value('popgate_requests_total', { decision: 'deny', code: 'ok' }), 0, 'a series never counted is 0')
  t.equal(await m.value('popgate_replays_total'), 1)
  t.equal(await m.value('popgate_upstream_errors_total', { code: 'upstream_timeout' }), 0)
})

t.test('the text format: HELP and TYPE for every counter, one line per series', async (t) => {
  const m = createMetrics()
  m.inc('popgate_requests_total', { decision: 'public', code: 'ok' })
  m.inc('popgate_requests_total', { decision: 'error', code: 'path_rejected' })
  m.inc('popgate_rate_limited_total', { scope: 'client' })
  const text = await m.render()
  const lines = text.trimEnd().split('\n')
  for (const name of ['popgate_requests_total', 'popgate_key_fetches_total', 'popgate_key_reimports_total', 'popgate_config_reloads_total', 'popgate_upstream_errors_total', 'popgate_replays_total', 'popgate_rate_limited_total']) {
    t.ok(lines.includes(`# TYPE ${name} counter`), `${name} declared`)
    t.ok(lines.some((l) => l.startsWith(`# HELP ${name} `)), `${name} described`)
  }
  t.ok(lines.includes('popgate_requests_total{decision="public",code="ok"} 1'))
  t.ok(lines.includes('popgate_requests_total{decision="error",code="path_rejected"} 1'))
  t.ok(lines.includes('popgate_rate_limited_total{scope="client"} 1'))
  t.ok(lines.includes('popgate_replays_total 0'), 'an unlabelled counter is always shown')
  t.notOk(lines.some((l) => l.startsWith('popgate_key_fetches_total{')), 'no series before the first increment')
})

t.test('a hostile label value stays inside its quotes', async (t) => {
  const m = createMetrics()
  const hostile = 'x"} 999\npopgate_replays_total 12345\n\\'
  m.inc('popgate_key_fetches_total', { outcome: hostile })
  const lines = (await m.render()).trimEnd().split('\n')
  const fetchLines = lines.filter((l) => l.startsWith('popgate_key_fetches_total'))
  t.same(fetchLines, ['popgate_key_fetches_total{outcome="x\\"} 999\\npopgate_replays_total 12345\\n\\\\"} 1'])
  t.ok(lines.includes('popgate_replays_total 0'), 'no injected sample')
  t.equal(lines.filter((l) => l.startsWith('popgate_replays_total ')).length, 1)
  t.equal(await m.value('popgate_key_fetches_total', { outcome: hostile }), 1)
})

t.test('histograms: an observation lands in the first bucket whose bound it does not exceed; sum and count', async (t) => {
  const m = createMetrics({ processMetrics: false })
  for (const s of [0.001, 0.0011, 0.5, 99]) m.observe('popgate_request_duration_seconds', { decision: 'allow' }, s)
  t.equal(await m.count('popgate_request_duration_seconds', { decision: 'allow' }), 4)
  t.equal(await m.count('popgate_request_duration_seconds', { decision: 'deny' }), 0)
  const lines = (await m.render()).split('\n')
  // prom-client writes `le` first; the order of labels means nothing to Prometheus.
  const bucket = (le: string) => lines.find((l) => l.startsWith(`popgate_request_duration_seconds_bucket{le="${le}",decision="allow"} `))
  t.equal(bucket('0.001'), 'popgate_request_duration_seconds_bucket{le="0.001",decision="allow"} 1', 'le is inclusive')
  t.equal(bucket('0.0025'), 'popgate_request_duration_seconds_bucket{le="0.0025",decision="allow"} 2')
  t.equal(bucket('0.5'), 'popgate_request_duration_seconds_bucket{le="0.5",decision="allow"} 3', 'cumulative')
  t.equal(bucket('10'), 'popgate_request_duration_seconds_bucket{le="10",decision="allow"} 3')
  t.equal(bucket('+Inf'), 'popgate_request_duration_seconds_bucket{le="+Inf",decision="allow"} 4', 'beyond the last bound: only +Inf')
  t.ok(lines.includes('popgate_request_duration_seconds_count{decision="allow"} 4'))
  const sum = Number(lines.find((l) => l.startsWith('popgate_request_duration_seconds_sum{decision="allow"} '))!.split(' ')[1])
  t.ok(Math.abs(sum - 99.5021) < 1e-9, `sum ${sum}`)
  t.ok(lines.includes('# TYPE popgate_key_fetch_duration_seconds histogram'), 'declared before any observation')
})

t.test('gauges are read from the sources at render; process defaults come after', async (t) => {
  const m = createMetrics()
  const keys = { entries: 7, hits: 3, misses: 1, negativeHits: 0, fetches: 1, kidRefetches: 0, busyRejections: 0, evictions: 0, inFlight: 2, hotKeys: 5, keyImports: 0, bytes: 4096, owners: 3, quotaRefusals: 0, ownerEvictions: 0 }
  const text = await m.render({ keys, draining: true })
  for (const l of ['popgate_key_cache_entries 7', 'popgate_key_cache_bytes 4096', 'popgate_key_cache_identities 3', 'popgate_key_cache_hot_keys 5', 'popgate_key_cache_hit_ratio 0.75', 'popgate_key_fetches_in_flight 2', 'popgate_draining 1']) t.ok(text.split('\n').includes(l), l)
  t.ok((await m.render({ keys: { ...keys, hits: 0, misses: 0 }, draining: false })).includes('popgate_key_cache_hit_ratio 1\n'), 'no lookups yet: ratio 1, not NaN')
  t.notOk((await m.render()).includes('popgate_key_cache_entries'), 'no sources, no gauges')
  t.match(text, /^# TYPE process_cpu_user_seconds_total counter$/m)
  t.match(text, /^# TYPE nodejs_eventloop_lag_seconds gauge$/m)
  t.notMatch(await createMetrics({ processMetrics: false }).render(), /process_cpu/, 'defaults can be left out')
})

t.test('docs/operations.md describes every metric this file declares', async (t) => {
  const { readFile } = await import('node:fs/promises')
  const doc = await readFile(new URL('../../../docs/operations.md', import.meta.url), 'utf8')
  for (const name of METRIC_NAMES) t.match(doc, `\`${name}\``, name)
})

t.test('recordExchange: the bound per-request series add up with direct increments, and every read sees them (value, render, the registry)', async (t) => {
  const m = createMetrics({ processMetrics: false })
  const ex = (decision: string, code: string | undefined, extra: { scheme?: string; ruleId?: string } = {}) =>
    ({ method: 'GET', path: '/x', decision, code, ruleId: extra.ruleId, identity: undefined, claimed: undefined, scheme: extra.scheme })
  m.recordExchange(ex('allow', undefined, { scheme: 'domainpop', ruleId: 'r1' }), 200, 0.002, 0.001)
  m.recordExchange(ex('allow', undefined, { scheme: 'domainpop', ruleId: 'r1' }), 200, 0.002, 0.001)
  t.equal(await m.value('popgate_requests_total', { decision: 'allow', code: 'ok' }), 2, 'read before any scrape')
  m.inc('popgate_requests_total', { decision: 'allow', code: 'ok' })
  m.recordExchange(ex('deny', 'forbidden', { ruleId: 'r1' }), 403, 0.001, undefined)
  t.equal(await m.value('popgate_requests_total', { decision: 'allow', code: 'ok' }), 3, 'a direct increment and the bound series are one series')
  t.equal(await m.value('popgate_scheme_requests_total', { scheme: 'domainpop', decision: 'allow' }), 2)
  t.equal(await m.value('popgate_rule_requests_total', { rule: 'r1', decision: 'deny' }), 1)
  t.equal(await m.value('popgate_refusals_total', { code: 'forbidden', status: '403' }), 1)
  t.equal(await m.count('popgate_request_duration_seconds', { decision: 'allow' }), 2)
  m.recordExchange(ex('allow', undefined, { scheme: 'domainpop', ruleId: 'r1' }), 200, 0.002, 0.001)
  const lines = (await m.render()).split('\n')
  t.ok(lines.includes('popgate_requests_total{decision="allow",code="ok"} 4'), 'a scrape counts what came after the last read')
  t.ok(lines.includes('popgate_requests_total{decision="deny",code="forbidden"} 1'))
  const again = (await m.registry.getSingleMetric('popgate_requests_total')!.get()).values.find((v) => v.labels.decision === 'allow')
  t.equal(again?.value, 4, 'read twice, counted once')
})
