// The chart's templates and Chart.yaml, checked without helm (there is none
// here; helm.test.ts runs `helm lint`/`helm template` where there is): every
// `.Values` path a template reads is declared in values.yaml and every value
// is read somewhere; template delimiters and blocks are balanced; Chart.yaml
// is complete; and the properties the deployment relies on are in the
// templates' text — the ACL outside the restart checksum, the hardening, the
// probes on the admin port, /tmp as the only writable path. Every check runs
// on a broken copy too. This is not a template engine: it cannot tell whether
// a template renders, only that what it reads and says is right.

import t from 'tap'
import { join } from 'node:path'
import { readFileSync } from 'node:fs'
import YAML from 'yaml'
import { CHART, EXAMPLES, TEMPLATES, readRepo, readYamlFile } from './repo.js'

const template = (name: string): string => readFileSync(join(CHART, 'templates', name), 'utf8')
const ALL = new Map(TEMPLATES.map((f) => [f, template(f)]))
const VALUES = readYamlFile('helm/popgate/values.yaml') as Record<string, unknown>

/** `.Values.a.b` and `$.Values.a.b` paths in a template (comments included: they document values too). */
function valuePaths(text: string): string[] {
  return [...text.matchAll(/\.Values((?:\.[A-Za-z_][A-Za-z0-9_]*)+)/g)].map((m) => m[1]!.slice(1))
}

function declared(values: unknown, path: string): boolean {
  let node = values
  for (const key of path.split('.')) {
    if (typeof node !== 'object' || node === null || Array.isArray(node) || !(key in node)) return false
    node = (node as Record<string, unknown>)[key]
  }
  return true
}

function undeclaredPaths(templates: Map<string, string>, values: unknown): string[] {
  return [...templates].flatMap(([f, text]) => valuePaths(text).filter((p) => !declared(values, p)).map((p) => `${f}: .Values.${p}`))
}

/** Leaves of values.yaml no template reads (a read of a parent, e.g. toYaml of a map, counts). */
function unreadValues(templates: Map<string, string>, values: unknown): string[] {
  const read = new Set([...templates.values()].flatMap(valuePaths))
  const leaves: string[] = []
  const walk = (node: unknown, path: string) => {
    if (typeof node === 'object' && node !== null && !Array.isArray(node) && Object.keys(node).length > 0) {
      for (const [k, v] of Object.entries(node)) walk(v, path ? `${path}.${k}` : k)
    } else leaves.push(path)
  }
  walk(values, '')
  return leaves.filter((leaf) => ![...read].some((r) => leaf === r || leaf.startsWith(`${r}.`)))
}

/** Unbalanced `{{ }}` and unclosed or stray `if/with/range/define … end`. */
function delimiterProblems(name: string, text: string): string[] {
  const problems: string[] = []
  let depth = 0
  const stack: string[] = []
  const re = /\{\{|\}\}/g
  let open = -1
  for (let m = re.exec(text); m; m = re.exec(text)) {
    if (m[0] === '{{') {
      if (open >= 0) problems.push(`${name}: "{{" inside an action at offset ${m.index}`)
      open = m.index
      continue
    }
    if (open < 0) { problems.push(`${name}: "}}" without "{{" at offset ${m.index}`); continue }
    const action = text.slice(open + 2, m.index).replace(/^-?\s*/, '').replace(/\s*-?$/, '')
    open = -1
    if (action.startsWith('/*')) { if (!action.endsWith('*/')) problems.push(`${name}: unclosed comment`); continue }
    const word = /^(\w+)/.exec(action)?.[1]
    if (word && ['if', 'with', 'range', 'define', 'block'].includes(word)) { stack.push(word); depth++ }
    else if (word === 'end') { if (stack.pop() === undefined) problems.push(`${name}: {{ end }} without a block`); depth-- }
    else if (word === 'else' && stack.length === 0) problems.push(`${name}: {{ else }} outside a block`)
  }
  if (open >= 0) problems.push(`${name}: "{{" never closed`)
  for (const b of stack) problems.push(`${name}: {{ ${b} }} never ended`)
  return problems
}

t.test('every .Values path in the templates is declared in values.yaml', async (t) => {
  t.ok(valuePaths([...ALL.values()].join('\n')).length > 50, 'the templates read values')
  t.same(undeclaredPaths(ALL, VALUES), [])
  const broken = new Map(ALL).set('typo.yaml', 'port: {{ .Values.gateway.prot }}\nx: {{ $.Values.ingres.enabled }}')
  t.same(undeclaredPaths(broken, VALUES), ['typo.yaml: .Values.gateway.prot', 'typo.yaml: .Values.ingres.enabled'], 'a misspelt path is caught')
})

t.test('every value in values.yaml is read by a template', async (t) => {
  t.same(unreadValues(ALL, VALUES), [])
  t.same(unreadValues(ALL, { ...VALUES, extraKnob: { deep: 1 } }), ['extraKnob.deep'], 'a value nothing reads is caught')
})

t.test('template delimiters and blocks are balanced', async (t) => {
  for (const [name, text] of ALL) t.same(delimiterProblems(name, text), [], name)
  const deployment = ALL.get('deployment.yaml')!
  t.match(delimiterProblems('d', deployment.replace('{{- end }}\n', '')), [/never ended/], 'a missing end')
  t.match(delimiterProblems('d', deployment.replace('{{ .Values.replicaCount }}', '{{ .Values.replicaCount }')), [/inside an action|never closed/], 'a missing brace')
  t.match(delimiterProblems('d', deployment + '{{- end }}\n'), [/without a block/], 'a stray end')
})

t.test('Chart.yaml is complete', async (t) => {
  const problems = (chart: Record<string, unknown>): string[] => {
    const out: string[] = []
    const pkg = JSON.parse(readRepo('package.json')) as { version: string }
    if (chart.apiVersion !== 'v2') out.push('apiVersion must be v2')
    if (chart.name !== 'popgate') out.push('name must be popgate (the directory name)')
    if (typeof chart.version !== 'string' || !/^\d+\.\d+\.\d+(-[\w.]+)?$/.test(chart.version)) out.push('version must be SemVer 2')
    if (chart.appVersion !== pkg.version) out.push(`appVersion must be package.json's version ${pkg.version}`)
    for (const k of ['description', 'type', 'kubeVersion', 'home']) if (typeof chart[k] !== 'string' || !(chart[k] as string).trim()) out.push(`${k} is missing`)
    if (chart.type !== 'application') out.push('type must be application')
    for (const k of ['sources', 'keywords']) if (!Array.isArray(chart[k]) || (chart[k] as unknown[]).length === 0 || !(chart[k] as unknown[]).every((s) => typeof s === 'string')) out.push(`${k} must be a non-empty list of strings`)
    const m = chart.maintainers
    if (!Array.isArray(m) || m.length === 0 || !m.every((x) => typeof x?.name === 'string' && x.name)) out.push('maintainers must list at least one { name }')
    return out
  }
  const chart = readYamlFile('helm/popgate/Chart.yaml') as Record<string, unknown>
  t.same(problems(chart), [])
  t.match(problems({ ...chart, kubeVersion: undefined, maintainers: [{ email: 'x' }], version: '1.0' }), ['version must be SemVer 2', 'kubeVersion is missing', 'maintainers must list at least one { name }'], 'missing or malformed fields are caught')
})

// ---------------------------------------------------------------- properties

const HELPERS = ALL.get('_helpers.tpl')!
const FRONTDOOR_ONLY = ['deployment.yaml', 'service.yaml', 'ingress.yaml', 'hpa.yaml', 'pdb.yaml', 'servicemonitor.yaml', 'networkpolicy.yaml', 'serviceaccount.yaml']
const BOTH_MODES = ['configmap.yaml', 'configmap-acl.yaml', 'secret.yaml', 'secret-redis.yaml']

/** The body of `{{- define "name" -}}`, up to its own `{{- end }}` (nested blocks skipped). */
function defineBody(text: string, name: string): string {
  const start = text.indexOf(`{{- define "${name}" -}}`)
  if (start < 0) return ''
  const re = /\{\{-?\s*(if|with|range|define|block|end)\b[^}]*\}\}/g
  re.lastIndex = start
  let depth = 0
  for (let m = re.exec(text); m; m = re.exec(text)) {
    depth += m[1] === 'end' ? -1 : 1
    if (depth === 0) return text.slice(start, m.index)
  }
  return ''
}

function propertyProblems(files: Map<string, string>): string[] {
  const out: string[] = []
  const helpers = files.get('_helpers.tpl') ?? ''
  const deployment = files.get('deployment.yaml') ?? ''
  const define = (name: string) => defineBody(helpers, name)
  const container = define('popgate.sidecarContainer')
  const volumes = define('popgate.sidecarVolumes')
  const sc = define('popgate.containerSecurityContext')

  for (const f of [...FRONTDOOR_ONLY, ...BOTH_MODES, 'NOTES.txt', '_helpers.tpl']) if (!files.has(f)) out.push(`${f} is missing`)
  for (const f of FRONTDOOR_ONLY) if (!/^\{\{- if (and )?\(?eq \.Values\.mode "frontdoor"\)?/.test(files.get(f) ?? '')) out.push(`${f}: not limited to mode frontdoor`)
  for (const f of BOTH_MODES) if (/\.Values\.mode/.test(files.get(f) ?? '')) out.push(`${f}: must render in both modes`)

  // The ACL and the secrets file reload in place: nothing in the pod template may change with them.
  // What is read once at start restarts the pods: the config, and the Redis URL (an environment variable).
  const checksums = [...deployment.matchAll(/checksum\/[\w-]+: \{\{ include \(print \$\.Template\.BasePath "\/([\w.-]+)"\)/g)].map((m) => m[1])
  if (!checksums.includes('configmap.yaml')) out.push('deployment.yaml: no checksum of configmap.yaml (a config change would not restart the pods)')
  if (!checksums.includes('secret-redis.yaml')) out.push('deployment.yaml: no checksum of secret-redis.yaml (a new Redis URL would restart nothing)')
  if (checksums.some((f) => f !== 'configmap.yaml' && f !== 'secret-redis.yaml') || /configmap-acl|aclConfigMap/.test(deployment)) out.push('deployment.yaml: the ACL must not be in the pod template (its edits reload without a restart)')

  const labels = define('popgate.labels')
  if (!/^helm\.sh\/chart: /m.test(labels) || !/^app\.kubernetes\.io\/managed-by: \{\{ \.Release\.Service \}\}$/m.test(labels)) out.push('popgate.labels: no helm.sh/chart or app.kubernetes.io/managed-by')
  if (!/lifecycle:\n\s+preStop:\n\s+exec:\n\s+command: \["node", "-e", "setTimeout\(\(\) => \{\}, \{\{ mul \(int \.Values\.preStop\.sleepSeconds\) 1000 \}\}\)"\]/.test(container)) out.push('the container has no preStop pause')
  if (!/preStopMs[\s\S]*add \(int64 \$drainMs\) \(int64 \$preStopMs\)/.test(define('popgate.checkDrain'))) out.push('checkDrain: the preStop pause is not counted against the grace period')
  if (!/\{\{- with \.Values\.extraVolumeMounts \}\}\n\s+\{\{- toYaml \. \| nindent 4 \}\}/.test(container)) out.push('extraVolumeMounts are not mounted in the gateway container')
  if (!/\{\{- with \.Values\.extraVolumes \}\}\n\{\{ toYaml \. \}\}/.test(volumes)) out.push('extraVolumes are not in the pod')
  for (const k of ['initContainers', 'extraContainers']) if (!new RegExp(`\\{\\{- with \\.Values\\.${k} \\}\\}`).test(deployment)) out.push(`deployment.yaml: no ${k}`)
  if (!/- name: popgate-https\n\s+containerPort: \{\{ \.Values\.tls\.port \}\}/.test(container) || !/targetPort: popgate-https/.test(files.get('service.yaml') ?? '')) out.push('the TLS port is not exposed (container and Service)')
  if (!/\{\{- if and \.Values\.networkPolicy\.enabled \(not \.Values\.networkPolicy\.adminFrom\) \}\}\n\{\{- fail /.test(files.get('servicemonitor.yaml') ?? '')) out.push('servicemonitor.yaml: renders while the NetworkPolicy blocks its scrape (adminFrom empty)')

  for (const [re, what] of [
    [/^runAsNonRoot: true$/m, 'runAsNonRoot: true'], [/^readOnlyRootFilesystem: true$/m, 'readOnlyRootFilesystem: true'],
    [/^allowPrivilegeEscalation: false$/m, 'allowPrivilegeEscalation: false'], [/^capabilities:\n {2}drop: \["ALL"\]$/m, 'drop ALL capabilities'],
    [/^seccompProfile:\n {2}type: RuntimeDefault$/m, 'seccomp RuntimeDefault'],
  ] as const) if (!re.test(sc)) out.push(`container securityContext: no ${what}`)
  if (!/securityContext:\n\s+\{\{- include "popgate\.containerSecurityContext" \. \| nindent 4 \}\}/.test(container)) out.push('the container does not use the hardened securityContext')
  if (!/seccompProfile:\n\s+type: RuntimeDefault/.test(deployment) || !/runAsNonRoot: true/.test(deployment)) out.push('deployment.yaml: the pod securityContext is not hardened')

  for (const [kind, path] of [['livenessProbe', '/healthz'], ['readinessProbe', '/readyz']]) {
    if (!new RegExp(`${kind}:\\n\\s+httpGet:\\n\\s+path: ${path}\\n\\s+port: popgate-admin\\n`).test(container)) out.push(`${kind}: not ${path} on the admin port`)
  }
  if (!/- name: popgate-admin\n\s+containerPort: \{\{ \.Values\.gateway\.adminPort \}\}/.test(container)) out.push('the admin port is not .Values.gateway.adminPort')
  if (!/args: \["serve", "--config", "\/etc\/popgate\/gateway\.yaml"\]/.test(container)) out.push('the container does not run the image CMD')
  const mounts = [...container.matchAll(/mountPath: (\S+)(?:\n\s+readOnly: (true))?/g)].map((m) => `${m[1]}${m[2] ? ' ro' : ''}`)
  // Besides extraVolumeMounts (the operator's): the config read-only, /tmp, and (tls.enabled) the certificate read-only.
  if (JSON.stringify(mounts) !== JSON.stringify(['/etc/popgate ro', '/tmp', '/etc/popgate-tls ro'])) out.push(`mounts ${mounts.join(', ')}: expected /etc/popgate read-only, /tmp and /etc/popgate-tls read-only only`)
  if (!/- name: popgate-tmp\n\s+emptyDir:/.test(volumes)) out.push('/tmp is not an emptyDir')
  if (!/POPGATE_REDIS_URL\n\s+valueFrom:\n\s+secretKeyRef:/.test(container)) out.push('POPGATE_REDIS_URL does not come from a Secret')
  if (!/terminationGracePeriodSeconds: \{\{ \.Values\.terminationGracePeriodSeconds \}\}/.test(deployment)) out.push('deployment.yaml: terminationGracePeriodSeconds is not set from values')
  if (!/lookup "v1" "Secret"/.test(files.get('secret.yaml') ?? '')) out.push('secret.yaml: the generated secrets are not kept across upgrades (no lookup)')
  return out
}

t.test('the templates carry what the deployment relies on', async (t) => {
  t.same(propertyProblems(ALL), [])
  const broken: Array<[string, string, string, string, RegExp]> = [
    ['ACL checksum', 'deployment.yaml', 'checksum/config:', 'checksum/acl: {{ include (print $.Template.BasePath "/configmap-acl.yaml") . | sha256sum }}\n        checksum/config:', /ACL must not be in the pod template/],
    ['writable root', '_helpers.tpl', 'readOnlyRootFilesystem: true', 'readOnlyRootFilesystem: false', /readOnlyRootFilesystem/],
    ['privilege escalation', '_helpers.tpl', 'allowPrivilegeEscalation: false', 'allowPrivilegeEscalation: true', /allowPrivilegeEscalation/],
    ['capabilities kept', '_helpers.tpl', 'drop: ["ALL"]', 'drop: ["NET_RAW"]', /drop ALL/],
    ['no seccomp', '_helpers.tpl', '  type: RuntimeDefault\n{{- end }}', '  type: Unconfined\n{{- end }}', /seccomp/],
    ['liveness on the public port', '_helpers.tpl', 'path: /healthz\n      port: popgate-admin', 'path: /healthz\n      port: popgate-http', /livenessProbe/],
    ['readiness on /healthz', '_helpers.tpl', 'path: /readyz', 'path: /healthz', /readinessProbe/],
    ['no /tmp', '_helpers.tpl', '    - name: popgate-tmp\n      mountPath: /tmp\n', '', /expected \/etc\/popgate read-only, \/tmp and/],
    ['writable config', '_helpers.tpl', 'mountPath: /etc/popgate\n      readOnly: true', 'mountPath: /etc/popgate', /expected \/etc\/popgate read-only/],
    ['redis URL in plain env', '_helpers.tpl', 'valueFrom:\n        secretKeyRef:', 'value: x\n        secretKeyRef:', /POPGATE_REDIS_URL/],
    ['no grace period', 'deployment.yaml', 'terminationGracePeriodSeconds: {{ .Values.terminationGracePeriodSeconds }}', 'terminationGracePeriodSeconds: 5', /terminationGracePeriodSeconds/],
    ['secret regenerated', 'secret.yaml', 'lookup "v1" "Secret"', 'dict "v1" "Secret"', /lookup/],
    ['HPA in sidecar mode', 'hpa.yaml', 'eq .Values.mode "frontdoor"', 'true', /hpa\.yaml: not limited/],
    ['Redis URL change restarts nothing', 'deployment.yaml', 'checksum/redis-url:', 'redis-url:', /secret-redis\.yaml/],
    ['no chart label', '_helpers.tpl', 'helm.sh/chart:', 'chart:', /helm\.sh\/chart/],
    ['no preStop', '_helpers.tpl', '  lifecycle:\n', '  lifecycleX:\n', /preStop pause/],
    ['preStop not in the budget', '_helpers.tpl', 'add (int64 $drainMs) (int64 $preStopMs)', 'int64 $drainMs', /preStop pause is not counted/],
    ['extra mounts dropped', '_helpers.tpl', '{{- with .Values.extraVolumeMounts }}', '{{- with .Values.nothing }}', /extraVolumeMounts/],
    ['no init containers', 'deployment.yaml', '{{- with .Values.initContainers }}', '{{- with .Values.nothing }}', /initContainers/],
    ['no TLS port in the Service', 'service.yaml', 'targetPort: popgate-https', 'targetPort: popgate-http', /TLS port/],
    ['ServiceMonitor blocked silently', 'servicemonitor.yaml', '{{- fail "metrics.serviceMonitor.enabled', '{{- printf "metrics.serviceMonitor.enabled', /blocks its scrape/],
  ]
  for (const [name, file, from, to, expected] of broken) {
    const text = ALL.get(file)!
    t.ok(text.includes(from), `${name}: the mutation applies`)
    t.match(propertyProblems(new Map(ALL).set(file, text.replace(from, to))).join('\n'), expected, name)
  }
})

t.test('the chart parses as YAML where it is plain YAML', async (t) => {
  for (const f of ['Chart.yaml', 'values.yaml', ...EXAMPLES.map((e) => `examples/${e}`)]) t.doesNotThrow(() => YAML.parse(readRepo(`helm/popgate/${f}`), { uniqueKeys: true }), f)
  t.comment('NOT CHECKED here: that the templates render, and that the output is valid Kubernetes — that needs helm; see helm.test.ts.')
})
