// The chart's Grafana dashboard and PrometheusRule, checked offline: the
// dashboard JSON against a JSON Schema of the shape Grafana's sidecar loads,
// the rule spec (rendered from the template with values.yaml's defaults)
// against the Prometheus Operator's rule format, every PromQL expression
// parsed with Prometheus's own grammar (@prometheus-io/lezer-promql), and
// every metric it names served by the gateway's /metrics. Each checker is
// shown to reject a broken input.

import t from 'tap'
import { Ajv } from 'ajv'
import YAML from 'yaml'
import { parser } from '@prometheus-io/lezer-promql'
import { createMetrics } from '../../../src/metrics.js'
import { readRepo, readYamlFile } from './repo.js'

const ajv = new Ajv({ allErrors: true, strict: true, allowUnionTypes: true })
const errorsOf = (v: ReturnType<typeof ajv.compile>, x: unknown) => (v(x) ? [] : (v.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message}`))

// ---------------------------------------------------------------- the metric names /metrics serves

async function servedNames(): Promise<Set<string>> {
  const keys = { entries: 0, hits: 0, misses: 0, negativeHits: 0, fetches: 0, kidRefetches: 0, busyRejections: 0, evictions: 0, inFlight: 0, hotKeys: 0, keyImports: 0, bytes: 0, owners: 0, quotaRefusals: 0, ownerEvictions: 0 }
  const text = await createMetrics().render({ keys, draining: false })
  const names = new Set<string>()
  for (const m of text.matchAll(/^# TYPE (\S+) (\w+)$/gm)) {
    names.add(m[1]!)
    if (m[2] === 'histogram') for (const s of ['_bucket', '_sum', '_count']) names.add(m[1]! + s)
  }
  return names
}

/** Grafana's variables replaced by what Prometheus would see. */
const asPromql = (expr: string) => expr.replaceAll('$__rate_interval', '5m').replaceAll('$job', '.*')

/** Syntax errors and metric names of one PromQL expression. */
function promql(expr: string): { errors: number; metrics: string[] } {
  const tree = parser.parse(expr)
  let errors = 0
  const metrics: string[] = []
  tree.iterate({
    enter(node) {
      if (node.type.isError) errors++
      if (node.name === 'Identifier' && node.node.parent?.name === 'VectorSelector') metrics.push(expr.slice(node.from, node.to))
    },
  })
  return { errors, metrics }
}

/** Problems of one expression: syntax, or a metric /metrics does not serve. */
const exprProblems = (expr: string, served: Set<string>): string[] => {
  const { errors, metrics } = promql(asPromql(expr))
  return [...(errors > 0 ? [`does not parse: ${expr}`] : []), ...(metrics.length === 0 ? [`names no metric: ${expr}`] : []), ...metrics.filter((m) => !served.has(m)).map((m) => `${m} is not served by /metrics`)]
}

t.test('the PromQL checker: a valid query passes, a broken one or an unknown metric fails', async (t) => {
  const served = await servedNames()
  t.ok(served.has('popgate_requests_total') && served.has('popgate_request_duration_seconds_bucket') && served.has('process_cpu_seconds_total'))
  t.same(exprProblems('sum by (code) (rate(popgate_refusals_total{job=~"$job"}[$__rate_interval]))', served), [])
  t.match(exprProblems('sum(rate(popgate_refusals_total[5m]) >', served), [/does not parse/])
  t.match(exprProblems('rate(popgate_refusal_total[5m])', served), [/popgate_refusal_total is not served/])
})

// ---------------------------------------------------------------- the dashboard

const DASHBOARD_SCHEMA = {
  type: 'object',
  required: ['title', 'uid', 'schemaVersion', 'panels', 'templating', 'time'],
  properties: {
    title: { type: 'string', minLength: 1 },
    uid: { type: 'string', pattern: '^[a-zA-Z0-9_-]{1,40}$' },
    schemaVersion: { type: 'integer', minimum: 36 },
    version: { type: 'integer' },
    editable: { type: 'boolean' },
    refresh: { type: 'string' },
    tags: { type: 'array', items: { type: 'string' } },
    time: { type: 'object', required: ['from', 'to'], properties: { from: { type: 'string' }, to: { type: 'string' } } },
    templating: {
      type: 'object', required: ['list'],
      properties: { list: { type: 'array', items: { type: 'object', required: ['name', 'type'], properties: { name: { type: 'string', pattern: '^\\w+$' }, type: { enum: ['datasource', 'query', 'custom', 'constant', 'interval', 'textbox'] } } } } },
    },
    panels: {
      type: 'array', minItems: 1,
      items: {
        type: 'object',
        required: ['id', 'type', 'title', 'gridPos', 'targets', 'datasource'],
        properties: {
          id: { type: 'integer', minimum: 1 },
          type: { enum: ['timeseries', 'stat', 'gauge', 'table', 'bargauge'] },
          title: { type: 'string', minLength: 1 },
          datasource: { type: 'object', required: ['type', 'uid'], properties: { type: { const: 'prometheus' }, uid: { const: '${datasource}' } } },
          gridPos: {
            type: 'object', required: ['h', 'w', 'x', 'y'],
            properties: { h: { type: 'integer', minimum: 1 }, w: { type: 'integer', minimum: 1, maximum: 24 }, x: { type: 'integer', minimum: 0, maximum: 23 }, y: { type: 'integer', minimum: 0 } },
          },
          targets: {
            type: 'array', minItems: 1,
            items: { type: 'object', required: ['refId', 'expr'], properties: { refId: { type: 'string', pattern: '^[A-Z]$' }, expr: { type: 'string', minLength: 1 }, legendFormat: { type: 'string' } } },
          },
        },
      },
    },
  },
}
const validateDashboard = ajv.compile({ ...DASHBOARD_SCHEMA, $id: 'dashboard' })

type Panel = { id: number; title: string; gridPos: { h: number; w: number; x: number; y: number }; targets: { refId: string; expr: string }[] }
type Dashboard = { panels: Panel[]; templating: { list: { name: string; type: string }[] } }

/** What the schema cannot say: unique ids and refIds, panels inside the 24 columns and not overlapping, the datasource variable. */
function dashboardProblems(d: Dashboard): string[] {
  const out: string[] = []
  const ids = d.panels.map((p) => p.id)
  if (new Set(ids).size !== ids.length) out.push('panel ids are not unique')
  for (const p of d.panels) {
    if (p.gridPos.x + p.gridPos.w > 24) out.push(`${p.title}: wider than the grid`)
    const refs = p.targets.map((x) => x.refId)
    if (new Set(refs).size !== refs.length) out.push(`${p.title}: refIds are not unique`)
  }
  for (const a of d.panels) for (const b of d.panels) {
    if (a.id >= b.id) continue
    const g = a.gridPos, h = b.gridPos
    if (g.x < h.x + h.w && h.x < g.x + g.w && g.y < h.y + h.h && h.y < g.y + g.h) out.push(`${a.title} overlaps ${b.title}`)
  }
  if (!d.templating.list.some((v) => v.name === 'datasource' && v.type === 'datasource')) out.push('no datasource variable')
  return out
}

const DASHBOARD = JSON.parse(readRepo('helm/popgate/dashboards/popgate.json')) as Dashboard

t.test('the dashboard: schema, layout, every query parses and names served metrics', async (t) => {
  t.same(errorsOf(validateDashboard, DASHBOARD), [], 'valid against the schema')
  t.same(dashboardProblems(DASHBOARD), [], 'layout')
  const served = await servedNames()
  const exprs = DASHBOARD.panels.flatMap((p) => p.targets.map((x) => x.expr))
  t.ok(exprs.length >= 20, `${exprs.length} queries`)
  t.same(exprs.flatMap((e) => exprProblems(e, served)), [], 'every query parses and names served metrics')
  const used = new Set(exprs.flatMap((e) => promql(asPromql(e)).metrics))
  for (const m of ['popgate_scheme_requests_total', 'popgate_rule_requests_total', 'popgate_refusals_total', 'popgate_key_fetches_total', 'popgate_issuer_fetches_total', 'popgate_shadow_denials_total', 'popgate_sessions_minted_total', 'popgate_replay_store_errors_total', 'popgate_request_duration_seconds_bucket']) t.ok(used.has(m), `a panel shows ${m}`)
})

t.test('the dashboard checks reject broken dashboards', async (t) => {
  const broken = structuredClone(DASHBOARD) as Dashboard & { uid?: unknown }
  delete broken.uid
  broken.panels[0]!.targets[0]!.expr = ''
  broken.panels[1]!.gridPos.w = 30
  t.ok(errorsOf(validateDashboard, broken).length >= 3, 'schema errors')
  const overlapping = structuredClone(DASHBOARD)
  overlapping.panels[1]!.gridPos = { ...overlapping.panels[0]!.gridPos }
  overlapping.panels[2]!.id = overlapping.panels[3]!.id
  t.ok(dashboardProblems(overlapping).some((p) => /overlaps/.test(p)) && dashboardProblems(overlapping).some((p) => /not unique/.test(p)))
})

t.test('the dashboard ConfigMap: off by default, the sidecar label, the JSON file', async (t) => {
  const values = readYamlFile('helm/popgate/values.yaml') as { grafanaDashboard: { enabled: boolean; label: string; labelValue: string } }
  t.equal(values.grafanaDashboard.enabled, false)
  t.same([values.grafanaDashboard.label, values.grafanaDashboard.labelValue], ['grafana_dashboard', '1'], "the grafana chart's sidecar defaults")
  const tpl = readRepo('helm/popgate/templates/grafana-dashboard.yaml')
  t.match(tpl, /^\{\{- if \.Values\.grafanaDashboard\.enabled \}\}/)
  t.match(tpl, /\{\{ \.Values\.grafanaDashboard\.label \}\}: \{\{ \.Values\.grafanaDashboard\.labelValue \| quote \}\}/)
  t.match(tpl, /\.Files\.Get "dashboards\/popgate\.json" \| indent 4/)
})

// ---------------------------------------------------------------- the PrometheusRule

const RULE_SCHEMA = {
  $id: 'rule',
  type: 'object', additionalProperties: false, required: ['groups'],
  properties: {
    groups: {
      type: 'array', minItems: 1,
      items: {
        type: 'object', additionalProperties: false, required: ['name', 'rules'],
        properties: {
          name: { type: 'string', minLength: 1 },
          interval: { type: 'string', pattern: '^([0-9]+(ms|s|m|h|d|w|y))+$' },
          rules: {
            type: 'array', minItems: 1,
            items: {
              type: 'object', additionalProperties: false, required: ['alert', 'expr', 'labels', 'annotations'],
              properties: {
                alert: { type: 'string', pattern: '^[a-zA-Z_][a-zA-Z0-9_]*$' },
                expr: { type: 'string', minLength: 1 },
                for: { type: 'string', pattern: '^([0-9]+(ms|s|m|h|d|w|y))+$' },
                labels: { type: 'object', required: ['severity'], properties: { severity: { enum: ['critical', 'warning', 'info'] } }, additionalProperties: { type: 'string' } },
                annotations: { type: 'object', required: ['summary', 'description', 'runbook'], properties: { summary: { type: 'string', minLength: 1 }, description: { type: 'string', minLength: 1 }, runbook: { type: 'string', pattern: '^docs/operations\\.md#[a-z0-9-]+$' } }, additionalProperties: { type: 'string' } },
              },
            },
          },
        },
      },
    },
  },
}
const validateRules = ajv.compile(RULE_SCHEMA)

/** The template's spec with values.yaml's defaults put in: the one kind of action it holds inside spec. */
function renderRuleSpec(template: string, values: unknown): string {
  const spec = template.slice(template.indexOf('\nspec:\n') + 1, template.lastIndexOf('{{- end }}'))
  return spec.replace(/\{\{ \.Values\.([\w.]+) \}\}/g, (_m, path: string) => {
    let node = values
    for (const k of path.split('.')) node = (node as Record<string, unknown>)[k]
    if (node === undefined) throw new Error(`.Values.${path} is not in values.yaml`)
    return String(node)
  })
}

type Rule = { alert: string; expr: string; annotations: { runbook: string } }

t.test('the PrometheusRule: rule format, meaningful alerts, every expression parses and names served metrics, runbooks exist', async (t) => {
  const tpl = readRepo('helm/popgate/templates/prometheusrule.yaml')
  t.match(tpl, /^\{\{- if \.Values\.prometheusRule\.enabled \}\}/, 'off unless enabled')
  t.equal((readYamlFile('helm/popgate/values.yaml') as { prometheusRule: { enabled: boolean } }).prometheusRule.enabled, false)
  const text = renderRuleSpec(tpl, readYamlFile('helm/popgate/values.yaml'))
  t.notMatch(text, /\{\{|\}\}/, 'no template action left in the spec')
  const spec = (YAML.parse(text) as { spec: { groups: { rules: Rule[] }[] } }).spec
  t.same(errorsOf(validateRules, spec), [], 'valid rule format')
  const rules = spec.groups.flatMap((g) => g.rules)
  for (const name of ['PopgateRefusalRatioJump', 'PopgateKeyFetchFailures', 'PopgateReplayStoreErrors', 'PopgateReadinessFlapping', 'PopgateLatencyP99High']) t.ok(rules.some((r) => r.alert === name), name)
  const served = await servedNames()
  t.same(rules.flatMap((r) => exprProblems(r.expr, served).map((p) => `${r.alert}: ${p}`)), [], 'every expression parses and names served metrics')
  const ops = readRepo('docs/operations.md')
  for (const r of rules) {
    const anchor = r.annotations.runbook.split('#')[1]!
    t.ok(ops.split('\n').some((l) => /^#{2,4} /.test(l) && l.replace(/^#+ /, '').toLowerCase().replace(/[^a-z0-9 -]/g, '').replace(/ /g, '-') === anchor), `docs/operations.md has a heading for ${r.alert}`)
  }
})

t.test('the rule checks reject a broken rule', async (t) => {
  t.ok(errorsOf(validateRules, { groups: [{ name: 'x', rules: [{ alert: 'bad name', expr: 'up', for: 'ten minutes', labels: {}, annotations: {} }] }] }).length >= 4)
  t.throws(() => renderRuleSpec('spec:\n  x: {{ .Values.prometheusRule.nothing }}\n{{- end }}', { prometheusRule: {} }), /not in values\.yaml/)
})
