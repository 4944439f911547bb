// Every metric the gateway keeps, declared in this file: counters, histograms
// and scrape-time gauges, one list each with label names (STYLE.md habit 9),
// plus prom-client's process and Node defaults. Incremented only at decision
// points, labelled by stable reason codes. docs/operations.md lists them all.
//
// Everything is on prom-client. The hand-written series this replaced saved
// about 1 µs of CPU per public request; on the public route that was inside
// the bench's noise (docs/benchmarks.md, "Metrics"), and prom-client is the
// well-kept library. Label objects on the hot path are shared, frozen
// constants where the values are few (exchange.ts LABELS).
//
// The admin page's recent view (admin/activity.ts: rates, latency, top
// identities, recent refusals and reloads) is fed from the same exchange
// record, so the page and /metrics always agree on what was counted.

import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client'
import type { KeyCacheStats } from './keys/index.js'
import { createActivity, type Activity, type ExchangeFacts } from './admin/activity.js'
import type { ReloadStatus } from './config/reload-status.js'

const COUNTERS = {
  popgate_requests_total: { help: 'Requests answered, by decision (public|allow|deny|would_deny|challenge|error) and code', labels: ['decision', 'code'] },
  popgate_scheme_requests_total: { help: 'Requests that presented credentials, by scheme (the scheme module name, as X-PoP-Auth-Method says it) and decision', labels: ['scheme', 'decision'] },
  popgate_rule_requests_total: { help: 'Requests an ACL rule matched, by rule id and decision (rule="" when none matched)', labels: ['rule', 'decision'] },
  popgate_refusals_total: { help: 'Requests refused with an error (decision deny|error; a bare 401 challenge is not counted), by code and HTTP status', labels: ['code', 'status'] },
  popgate_key_fetches_total: { help: 'Key document fetches (identity key documents, token issuer metadata and JWKS, signature directories), by outcome code', labels: ['outcome'] },
  popgate_issuer_fetches_total: { help: 'Of the key fetches, those for token issuers (metadata and JWKS), by outcome code', labels: ['outcome'] },
  popgate_key_fetches_refused_total: { help: 'Key fetches the key cache refused before they started, by reason (urls_per_owner|in_flight_per_owner|in_flight)', labels: ['reason'] },
  popgate_key_pin_refusals_total: { help: 'Keys refused because the identity\'s pinned keys (ACL identities: keys) do not list them (401 key_not_pinned), by scheme', labels: ['scheme'] },
  popgate_key_held_refusals_total: { help: 'Requests refused because their key waits for popgate keys approve (newKeys: hold; 401 key_held), by scheme', labels: ['scheme'] },
  popgate_keys_first_seen_total: { help: 'Keys never seen before for an identity that already had keys (one key_first_seen event each), by identity', labels: ['identity'] },
  popgate_keys_stale_served_total: { help: 'Lookups answered with an expired, verified key document while its host was down (keys.staleIfError, RFC 5861), by cache (key|issuer key|signatures directory)', labels: ['cache'] },
  popgate_key_record_errors_total: { help: 'Key records that could not be read or written (the replay store\'s backing unreachable), by the identity\'s newKeys policy (hold: refused, accept: accepted unrecorded)', labels: ['policy'] },
  popgate_key_webhook_total: { help: 'key_first_seen events sent to keys.webhook, by outcome (delivered|failed after retries|dropped: too many pending)', labels: ['outcome'] },
  popgate_key_reimports_total: { help: 'Cached keys imported again after leaving the hot set (keys.hotKeys too small when this climbs with traffic)', labels: [] },
  popgate_config_reloads_total: { help: 'Config/ACL reload attempts, by result (ok|invalid)', labels: ['result'] },
  popgate_tls_reloads_total: { help: 'TLS certificate/key/client CA files swapped in without a restart, by result (reloaded|refused)', labels: ['result'] },
  popgate_upstream_errors_total: { help: 'Upstream failures, by code', labels: ['code'] },
  popgate_replays_total: { help: 'Proofs refused as replays', labels: [] },
  popgate_replay_store_errors_total: { help: 'Replay store outages begun (each logged once), by reason (unreachable|timeout|error); proofs get 503 until it answers', labels: ['reason'] },
  popgate_shadow_denials_total: { help: 'Requests a report-mode ACL rule would have refused and forwarded anyway, by rule id and reason (an ACL deny reason or a credential error code)', labels: ['rule', 'reason'] },
  popgate_rate_limited_total: { help: 'Requests refused by an abuse limit, by scope (client|identity|new_domain|header_count)', labels: ['scope'] },
  popgate_sessions_minted_total: { help: 'Session tickets or cookies issued, by scheme', labels: ['scheme'] },
  popgate_sessions_refused_total: { help: 'Session tickets or cookies refused, by scheme and code', labels: ['scheme', 'code'] },
  popgate_introspection_requests_total: { help: 'Calls to an RFC 7662 introspection endpoint, by outcome (active|inactive|refused: an answer refused, e.g. no cnf.jkt|failed: no usable answer)', labels: ['outcome'] },
  popgate_introspection_cache_total: { help: 'Opaque-token lookups, by result (hit|negative_hit|shared_hit: from Redis|coalesced: joined a call in flight|miss: asked the issuer)', labels: ['result'] },
  popgate_spans_dropped_total: { help: 'Trace spans the OTLP exporter could not deliver (collector down, slow or refusing), dropped; requests are unaffected', labels: [] },
} as const satisfies Record<string, { help: string; labels: readonly string[] }>

/** Seconds. Upper bounds; +Inf is implied. */
const REQUEST_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]

const HISTOGRAMS = {
  popgate_request_duration_seconds: { help: 'Whole exchange, first byte in to response closed, by decision (public|allow|deny|error)', labels: ['decision'], buckets: REQUEST_BUCKETS },
  popgate_upstream_duration_seconds: { help: 'Forwarding step, upstream request sent to exchange over (a WebSocket: to the upstream\'s answer), by decision', labels: ['decision'], buckets: REQUEST_BUCKETS },
  popgate_key_fetch_duration_seconds: { help: 'Key document fetches, by outcome code (ok or the error code)', labels: ['outcome'], buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] },
  popgate_replay_store_duration_seconds: { help: 'Replay store first-use checks, by result (first_use|replay|error); result="error" counts the store\'s failures', labels: ['result'], buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1] },
} as const satisfies Record<string, { help: string; labels: readonly string[]; buckets: readonly number[] }>

/** What a scrape reads gauges from: the current state's parts, the scheme modules' own gauges (schemes/module.ts) and the last reload. */
export interface ScrapeSources { readonly keys: KeyCacheStats; readonly draining: boolean; readonly gauges?: readonly { readonly name: string; readonly help: string; readonly value: number }[]; readonly reload?: ReloadStatus }

const GAUGES = {
  popgate_key_cache_entries: { help: 'Key documents cached (positive and negative entries)', read: (s: ScrapeSources) => s.keys.entries },
  popgate_key_cache_bytes: { help: 'Estimated heap bytes of the cached key documents (bounded by keys.cacheMaxBytes)', read: (s: ScrapeSources) => s.keys.bytes },
  popgate_key_cache_identities: { help: 'Identities with key documents cached', read: (s: ScrapeSources) => s.keys.owners },
  popgate_key_cache_hot_keys: { help: 'Keys held imported, ready to verify (at most keys.hotKeys)', read: (s: ScrapeSources) => s.keys.hotKeys },
  popgate_key_cache_hit_ratio: { help: 'Key lookups answered from the cache, hits / (hits + misses), since the cache was built (1 before any lookup)', read: (s: ScrapeSources) => (s.keys.hits + s.keys.misses === 0 ? 1 : s.keys.hits / (s.keys.hits + s.keys.misses)) },
  popgate_key_fetches_in_flight: { help: 'Key document fetches under way', read: (s: ScrapeSources) => s.keys.inFlight },
  popgate_draining: { help: '1 from SIGTERM/SIGINT until exit (/readyz answers 503), else 0', read: (s: ScrapeSources) => (s.draining ? 1 : 0) },
  popgate_config_last_reload_successful: { help: '1 when the last reload (or the start) took effect, 0 while the last one was refused', read: (s: ScrapeSources) => (s.reload?.lastSuccessful === false ? 0 : 1) },
  popgate_config_last_reload_success_timestamp_seconds: { help: 'Unix time of the last start or reload that took effect', read: (s: ScrapeSources) => s.reload?.lastSuccessSeconds ?? 0 },
  popgate_config_hash: { help: 'First 48 bits of SHA-256 over the config and ACL files serving now, as a number: replicas serving the same files show the same value', read: (s: ScrapeSources) => s.reload?.configHash ?? 0 },
} as const satisfies Record<string, { help: string; read: (s: ScrapeSources) => number }>

export type CounterName = keyof typeof COUNTERS
export type HistogramName = keyof typeof HISTOGRAMS
export type GaugeName = keyof typeof GAUGES
type Declared = typeof COUNTERS & typeof HISTOGRAMS
type LabelsOf<N extends keyof Declared> = Declared[N]['labels'][number]
export type CounterLabels<N extends keyof Declared> = [LabelsOf<N>] extends [never] ? undefined : Readonly<Record<LabelsOf<N>, string>>

/** Every metric name this file declares (prom-client's defaults aside): docs and tests check against it. */
export const METRIC_NAMES: readonly string[] = [...Object.keys(COUNTERS), ...Object.keys(HISTOGRAMS), ...Object.keys(GAUGES)]

export type { ExchangeFacts }

export interface Metrics {
  inc<N extends CounterName>(name: N, ...labels: CounterLabels<N> extends undefined ? [] : [CounterLabels<N>]): void
  /** A counter series' value, read through the registry (0 for a series never counted). */
  value<N extends CounterName>(name: N, ...labels: CounterLabels<N> extends undefined ? [] : [CounterLabels<N>]): Promise<number>
  /** Adds `amount` to a counter series. */
  add<N extends CounterName>(name: N, amount: number, ...labels: CounterLabels<N> extends undefined ? [] : [CounterLabels<N>]): void
  /** Records one observation, in seconds. */
  observe<N extends HistogramName>(name: N, labels: CounterLabels<N>, seconds: number): void
  /** Observations recorded so far in one histogram series, read through the registry. */
  count<N extends HistogramName>(name: N, labels: CounterLabels<N>): Promise<number>
  /** Counts one finished exchange in every per-request series and the admin page's recent view. */
  recordExchange(ex: ExchangeFacts, status: number, seconds: number, upstreamSeconds: number | undefined): void
  /** The recent view the admin page draws (admin/activity.ts). */
  readonly activity: Activity
  /** The prom-client registry of the declared counters and histograms (tests read it). */
  readonly registry: Registry
  /** Prometheus text: counters, histograms, gauges read from `sources`, then the process and Node defaults. */
  render(sources?: ScrapeSources): Promise<string>
}

/** Status label values for the usual refusals, so most refusals build no string. */
const STATUS_TEXT: readonly string[] = Array.from({ length: 600 }, (_, i) => String(i))

/**
 * A per-request counter series bound once per label set: an increment adds
 * to `pending`, and the counter's `collect` (run by prom-client whenever the
 * registry or the series is read: a scrape, `value()`) moves it into
 * prom-client. prom-client's own `inc(labels)` builds the label-hash string
 * and checks every label name on each call; here a request walks two Maps
 * and adds 1 (docs/benchmarks.md, "Performance III, part 2"). As bounded as
 * prom-client's own series table: one entry per label set ever counted.
 */
interface BoundSeries { readonly labels: Readonly<Record<string, string>>; pending: number }

/** A two-label counter's bound series, by first then second label value; flushed into `counter` by its collect. */
function boundCounter(counter: Counter, first: string, second: string) {
  const byFirst = new Map<string, Map<string, BoundSeries>>()
  const all: BoundSeries[] = []
  const flush = (): void => {
    for (const b of all) {
      if (b.pending !== 0) {
        counter.inc(b.labels as Record<string, string>, b.pending)
        b.pending = 0
      }
    }
  }
  return {
    flush,
    inc(a: string, b: string): void {
      let inner = byFirst.get(a)
      if (inner === undefined) byFirst.set(a, inner = new Map())
      let s = inner.get(b)
      if (s === undefined) {
        s = { labels: Object.freeze({ [first]: a, [second]: b }), pending: 0 }
        inner.set(b, s)
        all.push(s)
      }
      s.pending++
    },
  }
}

/** One label object per decision, shared: no allocation per observation. */
const DECISION_LABELS: Readonly<Record<string, { readonly decision: string }>> = Object.fromEntries(['public', 'allow', 'deny', 'would_deny', 'challenge', 'error'].map((d) => [d, Object.freeze({ decision: d })]))

export function createMetrics(opts: { processMetrics?: boolean } = {}): Metrics {
  const registry = new Registry()
  const counters = new Map<string, Counter>()
  const histograms = new Map<string, Histogram>()
  // The per-request counters keep bound series (boundCounter), moved into prom-client when read.
  const flushes = new Map<string, () => void>()
  for (const [name, c] of Object.entries(COUNTERS)) counters.set(name, new Counter({ name, help: c.help, labelNames: c.labels, registers: [registry], collect() { flushes.get(name)?.() } }))
  const bind = (name: CounterName, first: string, second: string) => {
    const b = boundCounter(counters.get(name)!, first, second)
    flushes.set(name, b.flush)
    return b
  }
  const requests = bind('popgate_requests_total', 'decision', 'code')
  const bySchemes = bind('popgate_scheme_requests_total', 'scheme', 'decision')
  const byRules = bind('popgate_rule_requests_total', 'rule', 'decision')
  const refusals = bind('popgate_refusals_total', 'code', 'status')
  for (const [name, h] of Object.entries(HISTOGRAMS)) histograms.set(name, new Histogram({ name, help: h.help, labelNames: h.labels, buckets: [...h.buckets], registers: [registry] }))
  const requestHistogram = histograms.get('popgate_request_duration_seconds')!
  const upstreamHistogram = histograms.get('popgate_upstream_duration_seconds')!

  // Scrape-time gauges on their own registry: set from the scrape's sources, rendered only when there are some.
  const gauges = new Registry()
  const gaugeList = Object.entries(GAUGES).map(([name, g]) => ({ read: g.read, gauge: new Gauge({ name, help: g.help, registers: [gauges] }) }))
  const defaults = new Registry()
  if (opts.processMetrics !== false) collectDefaultMetrics({ register: defaults })
  const activity = createActivity()

  /** The value of the series whose labels are exactly `labels` (a histogram's: of its `sample` line), 0 when never counted. */
  const seriesValue = async (metric: Counter | Histogram, labels: Readonly<Record<string, string>> | undefined, sample?: string): Promise<number> => {
    const want = labels ?? {}
    const keys = Object.keys(want)
    const { values } = await metric.get()
    const hit = values.find((v) => (sample === undefined || (v as { metricName?: string }).metricName === sample)
      && keys.length === Object.keys(v.labels).length && keys.every((k) => String(v.labels[k]) === want[k]))
    return hit?.value ?? 0
  }

  const metrics: Metrics = {
    registry,
    activity,
    inc(name, ...[labels]) {
      const c = counters.get(name)!
      if (labels === undefined) c.inc()
      else c.inc(labels as Record<string, string>)
    },
    add(name, amount, ...[labels]) {
      const c = counters.get(name)!
      if (labels === undefined) c.inc(amount)
      else c.inc(labels as Record<string, string>, amount)
    },
    value(name, ...[labels]) {
      return seriesValue(counters.get(name)!, labels as Readonly<Record<string, string>> | undefined)
    },
    observe(name, labels, seconds) {
      histograms.get(name)!.observe(labels as Record<string, string>, seconds)
    },
    count(name, labels) {
      return seriesValue(histograms.get(name)!, labels as Readonly<Record<string, string>>, `${name}_count`)
    },
    recordExchange(ex, status, seconds, upstreamSeconds) {
      const decision = ex.decision ?? 'error'
      requests.inc(decision, ex.code ?? 'ok')
      const labels = DECISION_LABELS[decision] ?? { decision }
      requestHistogram.observe(labels, seconds)
      if (upstreamSeconds !== undefined) upstreamHistogram.observe(labels, upstreamSeconds)
      if (ex.scheme !== undefined) bySchemes.inc(ex.scheme, decision)
      if (ex.ruleId !== undefined || decision === 'deny') byRules.inc(ex.ruleId ?? '', decision)
      if ((decision === 'deny' || decision === 'error') && ex.code !== undefined) refusals.inc(ex.code, STATUS_TEXT[status] ?? String(status))
      activity.record(ex, decision, status, seconds)
    },
    async render(scrape) {
      if (scrape) for (const { read, gauge } of gaugeList) gauge.set(read(scrape))
      // The scheme modules' own gauges (schemes/module.ts), read at scrape time like the core ones.
      const moduleGauges = (scrape?.gauges ?? []).map(({ name, help, value }) => `# HELP ${name} ${help}\n# TYPE ${name} gauge\n${name} ${value}\n`).join('')
      return await registry.metrics() + (scrape ? await gauges.metrics() + moduleGauges : '') + await defaults.metrics()
    },
  }
  return metrics
}
