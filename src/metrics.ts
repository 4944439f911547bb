// Every counter the gateway keeps, declared in one list with its label names
// (STYLE.md habit 9). Incremented only at decision points, labelled by stable
// reason codes.

const COUNTERS = {
  popgate_requests_total: { help: 'Requests answered, by decision (public|allow|deny|challenge|error) and code', labels: ['decision', 'code'] },
  popgate_key_fetches_total: { help: 'Key document fetches, by outcome code', labels: ['outcome'] },
  popgate_key_fetches_refused_total: { help: 'Key fetches the key cache refused before they started, by reason (urls_per_owner|in_flight_per_owner|in_flight)', labels: ['reason'] },
  popgate_key_reimports_total: { help: 'Cached keys imported again after leaving the hot set (keys.hotKeys too small when this climbs with traffic)', labels: [] },
  popgate_config_reloads_total: { help: 'Config/ACL reload attempts, by result (ok|invalid)', labels: ['result'] },
  popgate_upstream_errors_total: { help: 'Upstream failures, by code', labels: ['code'] },
  popgate_replays_total: { help: 'Proofs refused as replays', labels: [] },
  popgate_replay_store_errors_total: { help: 'Replay store outages begun (each logged once), by reason (unreachable|timeout|error); proofs get 503 until it answers', labels: ['reason'] },
  popgate_rate_limited_total: { help: 'Requests refused by an abuse limit, by scope (client|identity|new_domain|header_count)', labels: ['scope'] },
} as const satisfies Record<string, { help: string; labels: readonly string[] }>

export type CounterName = keyof typeof COUNTERS
type LabelsOf<N extends CounterName> = (typeof COUNTERS)[N]['labels'][number]
export type CounterLabels<N extends CounterName> = [LabelsOf<N>] extends [never] ? undefined : Readonly<Record<LabelsOf<N>, string>>

export interface Metrics {
  inc<N extends CounterName>(name: N, ...labels: CounterLabels<N> extends undefined ? [] : [CounterLabels<N>]): void
  value<N extends CounterName>(name: N, ...labels: CounterLabels<N> extends undefined ? [] : [CounterLabels<N>]): number
  render(): string
}

/** One labelled series: the label values in declared order, and its count. */
interface Series { readonly values: readonly string[]; count: number }
/** Label value → next level; the last level holds the series. Walking it builds no string per increment. */
type Level = Map<string, Level | Series>

const escape = (v: string): string => v.replace(/[\\"\n]/g, (c) => (c === '\n' ? '\\n' : '\\' + c)) // Prometheus text format

export function createMetrics(): Metrics {
  const roots = new Map<CounterName, Level | Series>()
  for (const name of Object.keys(COUNTERS) as CounterName[]) {
    roots.set(name, COUNTERS[name].labels.length === 0 ? { values: [], count: 0 } : new Map())
  }

  /** The series for `labels`, created on first use when `create`. */
  function series(name: CounterName, labels: Readonly<Record<string, string>> | undefined, create: boolean): Series | undefined {
    const names: readonly string[] = COUNTERS[name].labels
    let node = roots.get(name)!
    for (let i = 0; i < names.length; i++) {
      const level = node as Level
      const v = String(labels?.[names[i]!])
      let next = level.get(v)
      if (next === undefined) {
        if (!create) return undefined
        next = i === names.length - 1 ? { values: names.map((n) => String(labels?.[n])), count: 0 } : new Map()
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

  return {
    inc(name, ...[labels]) { series(name, labels, true)!.count++ },
    value(name, ...[labels]) { return series(name, labels, false)?.count ?? 0 },
    render() {
      const lines: string[] = []
      for (const name of Object.keys(COUNTERS) as CounterName[]) {
        const { help, labels } = COUNTERS[name]
        lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} counter`)
        for (const s of all(roots.get(name)!)) {
          if (labels.length === 0) lines.push(`${name} ${s.count}`)
          else lines.push(`${name}{${labels.map((l, i) => `${l}="${escape(s.values[i]!)}"`).join(',')}} ${s.count}`)
        }
      }
      return lines.join('\n') + '\n'
    },
  }
}
