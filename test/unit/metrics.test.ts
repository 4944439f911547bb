// Counters (metrics.ts): each labelled series counts on its own, the
// Prometheus text names every counter with HELP and TYPE, and no label value
// can break out of its quotes or add a line.

import t from 'tap'
import { createMetrics } from '../../src/metrics.js'

t.test('series count separately, by every label', async (t) => {
  const m = createMetrics()
  m.inc('popgate_requests_total', { decision: 'allow', code: 'ok' })
  m.inc('popgate_requests_total', { decision: 'allow', code: 'ok' })
  m.inc('popgate_requests_total', { decision: 'deny', code: 'forbidden' })
  m.inc('popgate_requests_total', { decision: 'allow', code: 'forbidden' })
  m.inc('popgate_replays_total')
  t.equal(m.value('popgate_requests_total', { decision: 'allow', code: 'ok' }), 2)
  t.equal(m.value('popgate_requests_total', { decision: 'deny', code: 'forbidden' }), 1)
  t.equal(m.value('popgate_requests_total', { decision: 'allow', code: 'forbidden' }), 1)
  t.equal(m.value('popgate_requests_total', { decision: 'deny', code: 'ok' }), 0, 'a series never counted is 0')
  t.equal(m.value('popgate_replays_total'), 1)
  t.equal(m.value('popgate_upstream_errors_total', { code: 'upstream_timeout' }), 0)
})

t.test('the text format: HELP and TYPE for every counter, one line per series', async (t) => {
  const m = createMetrics()
  m.inc('popgate_requests_total', { decision: 'public', code: 'ok' })
  m.inc('popgate_requests_total', { decision: 'error', code: 'path_rejected' })
  m.inc('popgate_rate_limited_total', { scope: 'client' })
  const text = m.render()
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
  const lines = m.render().trimEnd().split('\n')
  const fetchLines = lines.filter((l) => l.startsWith('popgate_key_fetches_total'))
  t.same(fetchLines, ['popgate_key_fetches_total{outcome="x\\"} 999\\npopgate_replays_total 12345\\n\\\\"} 1'])
  t.ok(lines.includes('popgate_replays_total 0'), 'no injected sample')
  t.equal(lines.filter((l) => l.startsWith('popgate_replays_total ')).length, 1)
  t.equal(m.value('popgate_key_fetches_total', { outcome: hostile }), 1)
})
