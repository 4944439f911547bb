// Every counter the gateway keeps, declared in one list (STYLE.md habit 9).
// Incremented only at decision points, labelled by stable reason codes.

const COUNTERS = {
  popgate_requests_total: 'Requests answered, by decision (public|allow|deny|error) and code',
  popgate_key_fetches_total: 'Key document fetches, by outcome code',
  popgate_config_reloads_total: 'Config/ACL reload attempts, by result (ok|invalid)',
  popgate_upstream_errors_total: 'Upstream failures, by code',
  popgate_replays_total: 'Proofs refused as replays',
  popgate_rate_limited_total: 'Requests refused by an abuse limit, by scope (client|identity|new_domain|header_count)',
} as const

export type CounterName = keyof typeof COUNTERS

export interface Metrics {
  inc(name: CounterName, labels?: Readonly<Record<string, string>>): void
  render(): string
  value(name: CounterName, labels?: Readonly<Record<string, string>>): number
}

// Label order is the caller's (each call site always passes the same keys in
// the same order); no sort on the hot path. Values are stable codes, escaped anyway.
const labelKey = (labels: Readonly<Record<string, string>> | undefined): string => {
  if (!labels) return ''
  let key = ''
  for (const k in labels) key += `${key ? ',' : ''}${k}="${String(labels[k]).replace(/["\\\n]/g, '_')}"`
  return key
}

export function createMetrics(): Metrics {
  const values = new Map<CounterName, Map<string, number>>()
  for (const name of Object.keys(COUNTERS) as CounterName[]) values.set(name, new Map())
  return {
    inc(name, labels) {
      const m = values.get(name)!
      const k = labelKey(labels)
      m.set(k, (m.get(k) ?? 0) + 1)
    },
    value(name, labels) { return values.get(name)!.get(labelKey(labels)) ?? 0 },
    render() {
      const lines: string[] = []
      for (const [name, help] of Object.entries(COUNTERS)) {
        lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} counter`)
        for (const [k, v] of values.get(name as CounterName)!) lines.push(k ? `${name}{${k}} ${v}` : `${name} ${v}`)
      }
      return lines.join('\n') + '\n'
    },
  }
}
