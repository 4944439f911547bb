// A/B of the metrics registry on the hot path (docs/benchmarks.md, "Metrics"):
// the gateway child can swap the hand-written per-request series
// (src/metrics.ts) for prom-client's labelled Counter/Histogram, or for
// nothing at all. Everything else stays the same, so the difference between
// the cases is what each registry costs per request.
//   hand     — createMetrics() as shipped
//   prom     — inc/observe through prom-client (what "use prom-client" would cost)
//   none     — inc/observe do nothing (the floor)

import { Counter, Histogram, Registry } from 'prom-client'
import { createMetrics, type Metrics } from '../../src/metrics.js'

export type MetricsMode = 'hand' | 'prom' | 'none'

export function benchMetrics(mode: MetricsMode): Metrics {
  const m = createMetrics()
  if (mode === 'hand') return m
  if (mode === 'none') return { ...m, inc: () => {}, observe: () => {} }
  const reg = new Registry()
  const counters = new Map<string, Counter>()
  const histograms = new Map<string, Histogram>()
  const counter = (name: string, labels: object | undefined) => {
    let c = counters.get(name)
    if (!c) counters.set(name, c = new Counter({ name, help: name, labelNames: Object.keys(labels ?? {}), registers: [reg] }))
    return c
  }
  const histogram = (name: string, labels: object | undefined) => {
    let h = histograms.get(name)
    if (!h) histograms.set(name, h = new Histogram({ name, help: name, labelNames: Object.keys(labels ?? {}), buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10], registers: [reg] }))
    return h
  }
  return {
    ...m,
    inc: ((name: string, labels?: Record<string, string>) => { counter(name, labels).inc(labels ?? {}) }) as Metrics['inc'],
    observe: ((name: string, labels: Record<string, string>, seconds: number) => { histogram(name, labels).observe(labels ?? {}, seconds) }) as Metrics['observe'],
  }
}
