// The chart's values, checked without helm: values.yaml and every example
// (merged over values.yaml, as `helm -f` does) validate against
// values.schema.json, and wrong types and unsafe combinations are refused —
// shown against a loosened copy of the schema too, so these tests fail if the
// schema ever stops refusing. The ACL each file carries parses with the
// gateway's own ACL parser, the gateway.yaml the chart renders (configmap.yaml,
// filled in for each values file) parses with the gateway's config loader,
// and the drain fits inside the termination grace period.

import t from 'tap'
import { Ajv, type ValidateFunction } from 'ajv'
import YAML from 'yaml'
import { parseAcl } from '../../../src/acl/index.js'
import { parseConfig } from '../../../src/config/load.js'
import { parseDurationMs } from '../../../src/config/units.js'
import { EXAMPLES, readRepo, readYamlFile, setPath, valuesWith } from './repo.js'

const SCHEMA = JSON.parse(readRepo('helm/popgate/values.schema.json')) as object
const compile = (schema: object, strict = true): ValidateFunction => new Ajv({ strict, allowUnionTypes: true, allErrors: true }).compile(schema)
const validate = compile(SCHEMA)
const errorsOf = (v: ValidateFunction, values: unknown): string[] => (v(values) ? [] : (v.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message}`))

const FILES: Array<[string, Record<string, unknown>]> = [
  ['values.yaml', valuesWith({})],
  ...EXAMPLES.map((f): [string, Record<string, unknown>] => [`examples/${f}`, valuesWith(readYamlFile(`helm/popgate/examples/${f}`))]),
]

t.test('values.yaml and every example validate against values.schema.json', async (t) => {
  t.ok(EXAMPLES.includes('frontdoor.yaml') && EXAMPLES.includes('sidecar.yaml') && EXAMPLES.includes('with-redis.yaml'), 'the three examples are there')
  for (const [name, values] of FILES) t.same(errorsOf(validate, values), [], name)
})

// Each case is a wrong value that Helm must refuse before rendering anything.
const REFUSED: Array<[string, unknown]> = [
  ['gateway.port', '8080'],
  ['gateway.adminPort', 70000],
  ['replicaCount', '1'],
  ['image.tag', 0.1],
  ['image.pullPolicy', 'Sometimes'],
  ['ingress.enabled', 'true'],
  ['autoscaling.maxReplicas', 2.5],
  ['shutdown.drainTimeout', 20],
  ['shutdown.drainTimeout', '20'],
  ['terminationGracePeriodSeconds', '30'],
  ['mode', 'daemonset'],
  ['replay.store', 'postgres'],
  ['gateway.publicOrigin', 'https://bob.example/app'],
  ['gateway.upsteam', 'http://x'],
  ['gateway.extraConfig.listen', '0.0.0.0:1'],
  ['gateway.extraConfig.shutdown', { drainTimeout: '5s' }],
  ['securityContext.runAsUser', 0],
  ['securityContext.runAsUser', '65532'],
  ['acl.document.version', 2],
  ['probes.liveness.periodSeconds', '10'],
  ['resources.limits', 'lots'],
  ['tmpSizeLimit', 16],
  ['preStop.sleepSeconds', '5'],
  ['tls.port', 0],
  ['replay.redis.mode', 'ring'],
  ['extraVolumes', { name: 'x' }],
  ['extraVolumeMounts', [{ name: 'x', mountPath: 'relative/path' }]],
]

// Combinations that are each well typed but wrong together.
const REFUSED_TOGETHER: Array<[string, Record<string, unknown>]> = [
  ['memory store with two replicas', { replicaCount: 2 }],
  ['memory store with autoscaling', { autoscaling: { enabled: true } }],
  ['redis store without a URL', { replay: { store: 'redis' } }],
  ['redis store with an http URL', { replay: { store: 'redis', redis: { url: 'http://redis:6379' } } }],
]

/** The cases a schema wrongly accepts. */
function acceptedWrongly(v: ValidateFunction): string[] {
  const base = valuesWith({})
  return [
    ...REFUSED.filter(([path, value]) => v(setPath(base, path, value))).map(([path, value]) => `${path}: ${JSON.stringify(value)}`),
    ...REFUSED_TOGETHER.filter(([, patch]) => v(valuesWith(patch))).map(([name]) => name),
  ]
}

t.test('wrong types and unsafe combinations are refused', async (t) => {
  t.same(acceptedWrongly(validate), [])
  t.match(errorsOf(validate, setPath(valuesWith({}), 'gateway.port', '8080')), ['/gateway/port must be integer'], 'the message names the value')
  t.same(errorsOf(validate, valuesWith({ replay: { store: 'redis', redis: { url: 'rediss://r:6380' } }, replicaCount: 3 })), [], 'redis with a URL allows replicas')
  t.same(errorsOf(validate, valuesWith({ mode: 'sidecar', replicaCount: 3 })), [], 'sidecar mode leaves replicas to the application')
})

t.test('these checks fail against a permissive schema', async (t) => {
  const loosened = JSON.parse(JSON.stringify(SCHEMA, (k, v: unknown) => (['type', 'additionalProperties', 'propertyNames', 'allOf', 'if', 'then', 'pattern', 'enum', 'const', 'minimum', 'maximum'].includes(k) ? undefined : v))) as object
  t.equal(acceptedWrongly(compile(loosened, false)).length, REFUSED.length + REFUSED_TOGETHER.length, 'every case slips through a schema without its constraints')
  t.equal(acceptedWrongly(compile({})).length, REFUSED.length + REFUSED_TOGETHER.length, 'and through the empty schema')
})

t.test('every ACL document parses with the gateway ACL parser', async (t) => {
  for (const [name, values] of FILES) {
    const doc = (values.acl as { document: unknown }).document
    t.same(parseAcl(YAML.stringify(doc), `${name}:acl.document`).problems, [], name)
  }
  const broken = parseAcl(YAML.stringify({ version: 1, rules: [{ path: '/**', read: [] }] }), 'broken')
  t.ok(broken.problems.length > 0, 'an ACL the gateway refuses is caught (an empty grant list)')
})

// ------------------------------------------------ gateway.yaml, filled in
//
// The gateway.yaml block of templates/configmap.yaml, with each template
// action replaced by what it yields for the given values. An action not in
// this table fails the test: a template change must come with its check.
const ACTIONS: Array<[RegExp, (v: any) => string]> = [
  [/^\{\{ printf "%s:%d" \.Values\.gateway\.listenHost \(int \.Values\.gateway\.port\) \| quote \}\}$/, (v) => JSON.stringify(`${v.gateway.listenHost}:${v.gateway.port}`)],
  [/^\{\{ printf "%s:%d" \.Values\.gateway\.listenHost \(int \.Values\.gateway\.adminPort\) \| quote \}\}$/, (v) => JSON.stringify(`${v.gateway.listenHost}:${v.gateway.adminPort}`)],
  [/^\{\{ required "[^"]*" \.Values\.gateway\.publicOrigin \| quote \}\}$/, (v) => JSON.stringify(v.gateway.publicOrigin)],
  [/^\{\{ include "popgate\.upstream" \. \| quote \}\}$/, (v) => JSON.stringify(v.gateway.upstream || (v.mode === 'sidecar' ? `http://127.0.0.1:${v.sidecar.appPort}` : ''))],
  [/^\{\{ \.Values\.replay\.store \}\}$/, (v) => String(v.replay.store)],
  [/^\{\{ \.Values\.shutdown\.drainTimeout \| quote \}\}$/, (v) => JSON.stringify(v.shutdown.drainTimeout)],
  [/^\{\{ \.Values\.replay\.redis\.mode \}\}$/, (v) => String(v.replay.redis.mode)],
  [/^\{\{ required "[^"]*" \.Values\.replay\.redis\.sentinelMaster \| quote \}\}$/, (v) => JSON.stringify(v.replay.redis.sentinelMaster)],
  [/^\{\{ \.Values\.replay\.redis\.keyPrefix \| quote \}\}$/, (v) => JSON.stringify(v.replay.redis.keyPrefix)],
  [/^\{\{ \.Values\.replay\.redis\.timeout \| quote \}\}$/, (v) => JSON.stringify(v.replay.redis.timeout)],
  [/^\{\{ int \.Values\.replay\.maxEntries \}\}$/, (v) => String(v.replay.maxEntries)],
  [/^\{\{ printf "%s:%d" \.Values\.gateway\.listenHost \(int \.Values\.tls\.port\) \| quote \}\}$/, (v) => JSON.stringify(`${v.gateway.listenHost}:${v.tls.port}`)],
]

// The `{{- if COND }}` blocks of the gateway.yaml block (with an optional `{{- else }}`), by condition.
const CONDITIONS: Array<[RegExp, (v: any) => boolean]> = [
  [/^eq \.Values\.replay\.store "redis"$/, (v) => v.replay.store === 'redis'],
  [/^eq \.Values\.replay\.redis\.mode "sentinel"$/, (v) => v.replay.redis.mode === 'sentinel'],
  [/^\.Values\.tls\.enabled$/, (v) => v.tls.enabled === true],
]

/** Resolves the if blocks, innermost first, as Helm would for `values`; an unknown condition is reported. */
function resolveBlocks(text: string, values: any, unknown: string[]): string {
  const re = /\n[ \t]*\{\{- if ([^}]*?) \}\}((?:(?!\{\{- if )[\s\S])*?)\n[ \t]*\{\{- end \}\}/
  for (let m = re.exec(text); m; m = re.exec(text)) {
    const cond = CONDITIONS.find(([c]) => c.test(m![1]!))
    if (!cond) unknown.push(`{{- if ${m[1]} }}`)
    const [yes, no = ''] = m[2]!.split(/\n[ \t]*\{\{- else \}\}/)
    text = text.replace(m[0], cond?.[1](values) ? yes! : no)
  }
  return text
}

function renderGatewayYaml(template: string, values: any): { text: string; unknown: string[] } {
  const block = /^ {2}gateway\.yaml: \|\n((?: {4}.*\n|\n)*)/m.exec(template)
  if (!block) return { text: '', unknown: ['no gateway.yaml block in configmap.yaml'] }
  const unknown: string[] = []
  let text = block[1]!.replace(/^ {4}/gm, '')
  text = text.replace(/\{\{- with \.Values\.gateway\.extraConfig \}\}\n\{\{- toYaml \. \| nindent 4 \}\}\n\{\{- end \}\}\n?/, () =>
    Object.keys(values.gateway.extraConfig ?? {}).length > 0 ? YAML.stringify(values.gateway.extraConfig) : '')
  text = resolveBlocks(text, values, unknown)
  text = text.replace(/\{\{.*?\}\}/g, (action) => {
    const hit = ACTIONS.find(([re]) => re.test(action))
    if (!hit) unknown.push(action)
    return hit ? hit[1](values) : action
  })
  return { text, unknown }
}

const CONFIGMAP = readRepo('helm/popgate/templates/configmap.yaml')
// values.yaml leaves these empty: the templates' `required`/`fail` stop the render.
const REQUIRED_BY_TEMPLATE = { gateway: { publicOrigin: 'https://bob.example', upstream: 'http://app.default.svc:8000' } }

/** The loader's problems with the gateway.yaml rendered for `values` (env as the container gets it). */
function loaderProblems(values: any, template = CONFIGMAP): string[] {
  const { text, unknown } = renderGatewayYaml(template, values)
  if (unknown.length > 0) return unknown.map((a) => `template action not covered by this test: ${a}`)
  const env: Record<string, string> = { POPGATE_LOG_LEVEL: values.gateway.logLevel }
  if (values.replay.store === 'redis') env.POPGATE_REDIS_URL = 'rediss://redis.test:6380'
  return parseConfig(text, '/etc/popgate/gateway.yaml', env).problems
    .map((p) => `${p.line}:${p.col}: ${p.path}: ${p.message}`)
}

t.test('the gateway.yaml the chart renders passes the gateway config loader', async (t) => {
  for (const [name, values] of FILES) {
    const v = name === 'values.yaml' ? valuesWith(REQUIRED_BY_TEMPLATE) : values
    t.same(loaderProblems(v), [], name)
  }
  const sidecar = renderGatewayYaml(CONFIGMAP, FILES.find(([n]) => n === 'examples/sidecar.yaml')![1]).text
  t.match(sidecar, /^upstream: "http:\/\/127\.0\.0\.1:8000"$/m, 'sidecar upstream is the app port on loopback')
  t.match(sidecar, /^acl: \.\/acl\.yaml$/m)
  t.match(sidecar, /^ {2}file: \.\/secrets\.yaml$/m)

  // The check fails when the template or the values go wrong.
  const v = valuesWith(REQUIRED_BY_TEMPLATE)
  t.match(loaderProblems(setPath(v, 'gateway.extraConfig', { keys: { timeout: '3' } })), [/keys\.timeout: needs a unit/], 'a bad extraConfig value')
  t.match(loaderProblems(setPath(v, 'gateway.extraConfig', { upsteam: 'x' })), [/upsteam: unknown key/], 'a misspelt extraConfig key')
  t.match(loaderProblems(setPath(v, 'gateway.upstream', '')), [/upstream/], 'frontdoor without an upstream')
  t.match(loaderProblems(v, CONFIGMAP.replace('{{ .Values.shutdown.drainTimeout | quote }}', '"20"')), [/shutdown\.drainTimeout: needs a unit/], 'the rendered drainTimeout reaches the loader')
  t.match(loaderProblems(v, CONFIGMAP.replace('acl: ./acl.yaml', 'acl: ./acl.yaml\n    acl: ./other.yaml')), [/unique|duplicate/i], 'a duplicate key in the template')
  t.match(loaderProblems(v, CONFIGMAP.replace('{{ .Values.replay.store }}', '{{ .Values.replay.store | upper }}')), [/not covered by this test/], 'a template action the test does not know')
  t.match(loaderProblems(v, CONFIGMAP.replace('{{- if .Values.tls.enabled }}', '{{- if .Values.tls.on }}')), [/not covered by this test: \{\{- if \.Values\.tls\.on \}\}/], 'a condition the test does not know')
})

t.test('every replay setting and a TLS listener reach gateway.yaml, and the loader takes them', async (t) => {
  const v = valuesWith(REQUIRED_BY_TEMPLATE)
  const sentinel = setPath(setPath(setPath(v, 'replay.store', 'redis'), 'replay.redis', { url: 'redis://s:26379', existingSecret: '', existingSecretKey: 'url', mode: 'sentinel', sentinelMaster: 'mymaster', keyPrefix: 'gw-a:', timeout: '500ms' }), 'replicaCount', 3)
  t.same(errorsOf(validate, sentinel), [], 'the schema takes it')
  t.same(loaderProblems(sentinel), [])
  const cfg = parseConfig(renderGatewayYaml(CONFIGMAP, sentinel).text, '/etc/popgate/gateway.yaml', { POPGATE_REDIS_URL: 'redis://s:26379' }).config!
  t.match(cfg.replay, { store: 'redis', mode: 'sentinel', sentinelMaster: 'mymaster', keyPrefix: 'gw-a:', timeoutMs: 500 })
  const cluster = setPath(sentinel, 'replay.redis.mode', 'cluster')
  t.match(parseConfig(renderGatewayYaml(CONFIGMAP, cluster).text, '/etc/popgate/gateway.yaml', { POPGATE_REDIS_URL: 'redis://c:6379' }).config!.replay, { mode: 'cluster', sentinelMaster: undefined })
  t.match(errorsOf(validate, setPath(sentinel, 'replay.redis.sentinelMaster', '')).join(), /sentinelMaster/, 'sentinel without a master group is refused')
  t.match(errorsOf(validate, setPath(sentinel, 'replay.redis.keyPrefix', 'has space')).join(), /keyPrefix/)

  const memory = parseConfig(renderGatewayYaml(CONFIGMAP, setPath(v, 'replay.maxEntries', 5000)).text, '/etc/popgate/gateway.yaml', {}).config!
  t.equal(memory.replay.maxEntries, 5000)

  const tls = setPath(v, 'tls', { enabled: true, secretName: 'gw-tls', port: 8443, servicePort: 443 })
  t.same(errorsOf(validate, tls), [])
  t.same(loaderProblems(tls), [])
  const withTls = parseConfig(renderGatewayYaml(CONFIGMAP, tls).text, '/etc/popgate/gateway.yaml', {}).config!
  t.match(withTls.tls, { listen: { host: '0.0.0.0', port: 8443 }, certFile: '/etc/popgate-tls/tls.crt', keyFile: '/etc/popgate-tls/tls.key' })
  t.equal(parseConfig(renderGatewayYaml(CONFIGMAP, v).text, '/etc/popgate/gateway.yaml', {}).config!.tls, undefined, 'off by default')
  t.match(errorsOf(validate, setPath(v, 'tls', { enabled: true, secretName: '', port: 8443, servicePort: 443 })).join(), /secretName/, 'tls without its Secret is refused')
  t.equal(parseConfig(renderGatewayYaml(CONFIGMAP, v).text, '/etc/popgate/gateway.yaml', {}).config!.admin?.warnNonLoopback, false, 'the deliberate 0.0.0.0 admin bind does not warn in every pod')
})

t.test('shutdown.drainTimeout fits inside terminationGracePeriodSeconds', async (t) => {
  const headroom = (values: any): number => values.terminationGracePeriodSeconds * 1000 - (parseDurationMs(values.shutdown.drainTimeout) as number)
  for (const [name, values] of FILES) t.ok(headroom(values) >= 5000, `${name}: at least 5 s between the end of the drain and SIGKILL`)
  const defaults = valuesWith({}) as any
  t.equal(parseDurationMs(defaults.shutdown.drainTimeout), 20_000, 'the default drain is 20 s')
  t.equal(defaults.terminationGracePeriodSeconds, 30, 'the default grace period is 30 s')
  t.ok(headroom(valuesWith({ shutdown: { drainTimeout: '30s' } })) < 5000, 'a 30 s drain in a 30 s grace period is caught')
  t.match(readRepo('helm/popgate/templates/_helpers.tpl'), /define "popgate\.checkDrain"[\s\S]*fail/, 'the chart refuses such values at render time too')
  t.match(CONFIGMAP, /include "popgate\.checkDrain"/)
})
