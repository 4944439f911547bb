// A/B of the metrics on the hot path (docs/benchmarks.md, "Metrics"): the
// gateway child runs with the shipped registry (prom-client, src/metrics.ts)
// or with every per-request metric call a no-op. Everything else stays the
// same, so the difference between the cases is what the metrics cost.
//   on    — createMetrics() as shipped
//   none  — inc/observe/recordExchange do nothing (the floor)

import { createMetrics, type Metrics } from '../../src/metrics.js'

export type MetricsMode = 'on' | 'none'

export function benchMetrics(mode: MetricsMode): Metrics {
  const m = createMetrics()
  if (mode === 'on') return m
  return { ...m, inc: () => {}, observe: () => {}, recordExchange: () => {} }
}
