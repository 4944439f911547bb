// Every metric the gateway keeps, declared in this file: counters, histograms
// and scrape-time gauges, one list each with label names (STYLE.md habit 9),
// plus prom-client's process and Node defaults. Incremented only at decision
// points, labelled by stable reason codes. docs/operations.md lists them all.
//
// The per-request series are hand-written: through prom-client one public
// request's inc + two observes cost 1.3 µs of CPU (a label-hash string and a
// closure per call), here 0.12 µs, against 64-110 µs for the whole request
// (docs/benchmarks.md, "Metrics"). prom-client supplies the process and Node
// defaults (CPU, memory, event-loop lag, GC), which cost nothing per request.

import { Registry, collectDefaultMetrics } from 'prom-client'
import type { KeyCacheStats } from './keys/index.js'

const COUNTERS = {
  popgate_requests_total: { help: 'Requests answered, by decision (public|allow|deny|would_deny|challenge|error) and code', labels: ['decision', 'code'] },
  popgate_key_fetches_total: { help: 'Key document fetches, by outcome code', labels: ['outcome'] },
  popgate_key_fetches_refused_total: { help: 'Key fetches the key cache refused before they started, by reason (urls_per_owner|in_flight_per_owner|in_flight)', labels: ['reason'] },
  popgate_key_reimports_total: { help: 'Cached keys imported again after leaving the hot set (keys.hotKeys too small when this climbs with traffic)', labels: [] },
  popgate_config_reloads_total: { help: 'Config/ACL reload attempts, by result (ok|invalid)', labels: ['result'] },
  popgate_upstream_errors_total: { help: 'Upstream failures, by code', labels: ['code'] },
  popgate_replays_total: { help: 'Proofs refused as replays', labels: [] },
  popgate_replay_store_errors_total: { help: 'Replay store outages begun (each logged once), by reason (unreachable|timeout|error); proofs get 503 until it answers', labels: ['reason'] },
  popgate_shadow_denials_total: { help: 'Requests a report-mode ACL rule would have refused and forwarded anyway, by rule id and reason (an ACL deny reason or a credential error code)', labels: ['rule', 'reason'] },
  popgate_rate_limited_total: { help: 'Requests refused by an abuse limit, by scope (client|identity|new_domain|header_count)', labels: ['scope'] },
} as const satisfies Record<string, { help: string; labels: readonly string[] }>

/** Seconds. Upper bounds; +Inf is implied. */
const REQUEST_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]

const HISTOGRAMS = {
  popgate_request_duration_seconds: { help: 'Whole exchange, first byte in to response closed, by decision (public|allow|deny|error)', labels: ['decision'], buckets: REQUEST_BUCKETS },
  popgate_upstream_duration_seconds: { help: 'Forwarding step, upstream request sent to exchange over (a WebSocket: to the upstream\'s answer), by decision', labels: ['decision'], buckets: REQUEST_BUCKETS },
  popgate_key_fetch_duration_seconds: { help: 'Key document fetches, by outcome code (ok or the error code)', labels: ['outcome'], buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] },
  popgate_replay_store_duration_seconds: { help: 'Replay store first-use checks, by result (first_use|replay|error); result="error" counts the store\'s failures', labels: ['result'], buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1] },
} as const satisfies Record<string, { help: string; labels: readonly string[]; buckets: readonly number[] }>

/** What a scrape reads gauges from: the current state's parts, and the scheme modules' own gauges (schemes/module.ts). */
export interface ScrapeSources { readonly keys: KeyCacheStats; readonly draining: boolean; readonly gauges?: readonly { readonly name: string; readonly help: string; readonly value: number }[] }

const GAUGES = {
  popgate_key_cache_entries: { help: 'Key documents cached (positive and negative entries)', read: (s: ScrapeSources) => s.keys.entries },
  popgate_key_cache_bytes: { help: 'Estimated heap bytes of the cached key documents (bounded by keys.cacheMaxBytes)', read: (s: ScrapeSources) => s.keys.bytes },
  popgate_key_cache_identities: { help: 'Identities with key documents cached', read: (s: ScrapeSources) => s.keys.owners },
  popgate_key_cache_hot_keys: { help: 'Keys held imported, ready to verify (at most keys.hotKeys)', read: (s: ScrapeSources) => s.keys.hotKeys },
  popgate_key_cache_hit_ratio: { help: 'Key lookups answered from the cache, hits / (hits + misses), since the cache was built (1 before any lookup)', read: (s: ScrapeSources) => (s.keys.hits + s.keys.misses === 0 ? 1 : s.keys.hits / (s.keys.hits + s.keys.misses)) },
  popgate_key_fetches_in_flight: { help: 'Key document fetches under way', read: (s: ScrapeSources) => s.keys.inFlight },
  popgate_draining: { help: '1 from SIGTERM/SIGINT until exit (/readyz answers 503), else 0', read: (s: ScrapeSources) => (s.draining ? 1 : 0) },
} as const satisfies Record<string, { help: string; read: (s: ScrapeSources) => number }>

export type CounterName = keyof typeof COUNTERS
export type HistogramName = keyof typeof HISTOGRAMS
export type GaugeName = keyof typeof GAUGES
type Declared = typeof COUNTERS & typeof HISTOGRAMS
type LabelsOf<N extends keyof Declared> = Declared[N]['labels'][number]
export type CounterLabels<N extends keyof Declared> = [LabelsOf<N>] extends [never] ? undefined : Readonly<Record<LabelsOf<N>, string>>

/** Every metric name this file declares (prom-client's defaults aside): docs and tests check against it. */
export const METRIC_NAMES: readonly string[] = [...Object.keys(COUNTERS), ...Object.keys(HISTOGRAMS), ...Object.keys(GAUGES)]

export interface Metrics {
  inc<N extends CounterName>(name: N, ...labels: CounterLabels<N> extends undefined ? [] : [CounterLabels<N>]): void
  value<N extends CounterName>(name: N, ...labels: CounterLabels<N> extends undefined ? [] : [CounterLabels<N>]): number
  /** Records one observation, in seconds. */
  observe<N extends HistogramName>(name: N, labels: CounterLabels<N>, seconds: number): void
  /** Observations recorded so far in one histogram series. */
  count<N extends HistogramName>(name: N, labels: CounterLabels<N>): number
  /** Prometheus text: counters, histograms, gauges read from `sources`, then the process and Node defaults. */
  render(sources?: ScrapeSources): Promise<string>
}

/** One labelled series: the label values in declared order; a count, or a histogram's buckets (not cumulative) and sum. */
interface Series { readonly values: readonly string[]; count: number; readonly buckets: number[] | undefined; sum: number }
/** Label value → next level; the last level holds the series. Walking it builds no string per increment. */
type Level = Map<string, Level | Series>
type Family = { readonly labels: readonly string[]; readonly bounds: readonly number[] | undefined; readonly root: Level | Series }

const escape = (v: string): string => v.replace(/[\\"\n]/g, (c) => (c === '\n' ? '\\n' : '\\' + c)) // Prometheus text format
const newSeries = (values: readonly string[], bounds: readonly number[] | undefined): Series => ({ values, count: 0, buckets: bounds ? new Array<number>(bounds.length + 1).fill(0) : undefined, sum: 0 })

export function createMetrics(opts: { processMetrics?: boolean } = {}): Metrics {
  const families = new Map<string, Family>()
  const declare = (name: string, labels: readonly string[], bounds: readonly number[] | undefined) =>
    families.set(name, { labels, bounds, root: labels.length === 0 ? newSeries([], bounds) : new Map() })
  for (const [name, c] of Object.entries(COUNTERS)) declare(name, c.labels, undefined)
  for (const [name, h] of Object.entries(HISTOGRAMS)) declare(name, h.labels, h.buckets)
  const defaults = new Registry()
  if (opts.processMetrics !== false) collectDefaultMetrics({ register: defaults })

  /** The series for `labels`, created on first use when `create`. */
  function series(name: string, labels: Readonly<Record<string, string>> | undefined, create: boolean): Series | undefined {
    const fam = families.get(name)!
    const names = fam.labels
    let node = fam.root
    for (let i = 0; i < names.length; i++) {
      const level = node as Level
      const v = String(labels?.[names[i]!])
      let next = level.get(v)
      if (next === undefined) {
        if (!create) return undefined
        next = i === names.length - 1 ? newSeries(names.map((n) => String(labels?.[n])), fam.bounds) : new Map()
        level.set(v, next)
      }
      node = next
    }
    return node as Series
  }

  function* all(node: Level | Series): Generator<Series> {
    if (!(node instanceof Map)) return yield node
    for (const child of node.values()) yield* all(child)
  }

  const labelText = (names: readonly string[], values: readonly string[], extra = ''): string => {
    const parts = names.map((l, i) => `${l}="${escape(values[i]!)}"`)
    if (extra) parts.push(extra)
    return parts.length === 0 ? '' : `{${parts.join(',')}}`
  }

  return {
    inc(name, ...[labels]) { series(name, labels, true)!.count++ },
    value(name, ...[labels]) { return series(name, labels, false)?.count ?? 0 },
    observe(name, labels, seconds) {
      const s = series(name, labels as Readonly<Record<string, string>> | undefined, true)!
      const bounds = HISTOGRAMS[name].buckets
      let i = 0
      while (i < bounds.length && seconds > bounds[i]!) i++
      s.buckets![i]!++
      s.count++
      s.sum += seconds
    },
    count(name, labels) { return series(name, labels as Readonly<Record<string, string>> | undefined, false)?.count ?? 0 },
    async render(sources) {
      const lines: string[] = []
      for (const [name, { help, labels }] of Object.entries(COUNTERS)) {
        lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} counter`)
        for (const s of all(families.get(name)!.root)) lines.push(`${name}${labelText(labels, s.values)} ${s.count}`)
      }
      for (const [name, { help, labels, buckets }] of Object.entries(HISTOGRAMS)) {
        lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} histogram`)
        for (const s of all(families.get(name)!.root)) {
          let cumulative = 0
          buckets.forEach((le, i) => { cumulative += s.buckets![i]!; lines.push(`${name}_bucket${labelText(labels, s.values, `le="${le}"`)} ${cumulative}`) })
          lines.push(`${name}_bucket${labelText(labels, s.values, 'le="+Inf"')} ${s.count}`)
          lines.push(`${name}_sum${labelText(labels, s.values)} ${s.sum}`, `${name}_count${labelText(labels, s.values)} ${s.count}`)
        }
      }
      if (sources) {
        for (const [name, { help, read }] of Object.entries(GAUGES)) lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} gauge`, `${name} ${read(sources)}`)
        for (const { name, help, value } of sources.gauges ?? []) lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} gauge`, `${name} ${value}`)
      }
      return lines.join('\n') + '\n' + await defaults.metrics()
    },
  }
}
