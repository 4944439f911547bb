// With a `helm` binary on PATH: `helm lint --strict` and `helm template` for
// each example (both modes), the rendered objects validated against the
// Kubernetes OpenAPI schemas bundled in kubernetes-models, and the rendered
// pods checked for the properties the chart promises. Without helm (this
// machine: neither npm nor Debian carries it) those steps are SKIPPED, loudly;
// what still runs is the proof that the validator used for them rejects a
// broken object, so the helm path is not a check that cannot fail.
// POPGATE_HELM names another helm binary.

import t from 'tap'
import { spawnSync } from 'node:child_process'
import { join } from 'node:path'
import { readFileSync } from 'node:fs'
import YAML from 'yaml'
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap'
import { Secret } from 'kubernetes-models/v1/Secret'
import { Service } from 'kubernetes-models/v1/Service'
import { ServiceAccount } from 'kubernetes-models/v1/ServiceAccount'
import { Deployment } from 'kubernetes-models/apps/v1/Deployment'
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler'
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget'
import { Ingress } from 'kubernetes-models/networking.k8s.io/v1/Ingress'
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy'
import { CHART, EXAMPLES } from './repo.js'

type Obj = { apiVersion?: string; kind?: string; metadata?: { name?: string }; [k: string]: unknown }
const MODELS: Record<string, new (data: any) => { validate(): void }> = {
  'v1/ConfigMap': ConfigMap, 'v1/Secret': Secret, 'v1/Service': Service, 'v1/ServiceAccount': ServiceAccount,
  'apps/v1/Deployment': Deployment, 'autoscaling/v2/HorizontalPodAutoscaler': HorizontalPodAutoscaler,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget, 'networking.k8s.io/v1/Ingress': Ingress,
  'networking.k8s.io/v1/NetworkPolicy': NetworkPolicy,
}
// CRDs: kubernetes-models carries no schema for them; their shape is left to the cluster.
const NOT_VALIDATED = new Set(['monitoring.coreos.com/v1/ServiceMonitor', 'monitoring.coreos.com/v1/PrometheusRule'])

/** Schema problems of one rendered object; empty when valid. */
function schemaProblems(obj: Obj): string[] {
  const type = `${obj.apiVersion}/${obj.kind}`
  if (NOT_VALIDATED.has(type)) return []
  const Model = MODELS[type]
  if (!Model) return [`${type}: no schema known to this test`]
  try { new Model(obj).validate(); return [] } catch (err) { return [`${type} ${obj.metadata?.name}: ${(err as Error).message}`] }
}

const A_DEPLOYMENT: Obj = {
  apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'x' },
  spec: { selector: { matchLabels: { a: 'b' } }, template: { metadata: { labels: { a: 'b' } }, spec: { containers: [{ name: 'c', image: 'i', ports: [{ containerPort: 8080 }] }] } } },
}

t.test('the Kubernetes schema validator rejects a broken object', async (t) => {
  t.same(schemaProblems(A_DEPLOYMENT), [], 'a well-formed Deployment passes')
  const broken = structuredClone(A_DEPLOYMENT) as any
  broken.spec.replicas = 'two'
  broken.spec.template.spec.containers[0].ports[0].containerPort = '8080'
  t.match(schemaProblems(broken), [/replicas must be integer.*containerPort must be integer/], 'wrong types are reported')
  t.match(schemaProblems({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'x' }, spec: {} }), [/selector|template/], 'missing required fields are reported')
  t.match(schemaProblems({ apiVersion: 'v9', kind: 'Gadget' }), [/no schema known/], 'an unknown kind is not waved through')
})

const HELM = process.env.POPGATE_HELM ?? 'helm'
const probe = spawnSync(HELM, ['version', '--short'], { encoding: 'utf8' })
const helmMissing = probe.error || probe.status !== 0
  ? `SKIPPED: no \`${HELM}\` binary on PATH (${probe.error?.message ?? probe.stderr.trim()}). NOT RUN: helm lint, helm template for frontdoor/sidecar/with-redis, and the Kubernetes schema validation of the rendered objects. Run \`npm test\` where helm is installed to check them.`
  : false

const helm = (args: string[]) => spawnSync(HELM, args, { encoding: 'utf8', cwd: CHART })

t.test('helm lint and helm template, per example', { skip: helmMissing }, async (t) => {
  t.comment(`using ${probe.stdout.trim()}`)
  for (const example of EXAMPLES) {
    const file = join(CHART, 'examples', example)
    const lint = helm(['lint', '--strict', CHART, '-f', file])
    t.equal(lint.status, 0, `helm lint --strict -f ${example}\n${lint.stdout}${lint.stderr}`)
    const out = helm(['template', 'gw', CHART, '-f', file, '--namespace', 'apps'])
    t.equal(out.status, 0, `helm template -f ${example}\n${out.stderr}`)
    const objects = YAML.parseAllDocuments(out.stdout).map((d) => d.toJS() as Obj).filter(Boolean)
    t.same(objects.flatMap(schemaProblems), [], `${example}: every object valid against the Kubernetes schemas`)
    const kinds = objects.map((o) => o.kind)
    const mode = (YAML.parse(readFileSync(file, 'utf8')) as { mode: string }).mode
    if (mode === 'sidecar') t.notOk(kinds.includes('Deployment'), `${example}: sidecar mode renders no Deployment`)
    else {
      const dep = objects.find((o) => o.kind === 'Deployment') as any
      const pod = dep.spec.template.spec
      const c = pod.containers[0]
      t.same(Object.keys(dep.spec.template.metadata.annotations ?? {}).filter((k: string) => k.startsWith('checksum/')), ['checksum/config'], `${example}: only the gateway config restarts the pods`)
      t.equal(c.securityContext.readOnlyRootFilesystem, true)
      t.equal(c.securityContext.allowPrivilegeEscalation, false)
      t.same(c.securityContext.capabilities.drop, ['ALL'])
      t.equal(c.securityContext.seccompProfile.type, 'RuntimeDefault')
      t.equal(pod.terminationGracePeriodSeconds, 30)
      t.equal(c.livenessProbe.httpGet.path, '/healthz')
      t.equal(c.readinessProbe.httpGet.path, '/readyz')
    }
    t.ok(kinds.includes('ConfigMap'), `${example}: the gateway config is rendered`)
  }
  const origin = ['--set-string', 'gateway.publicOrigin=https://a.example', '--set-string', 'gateway.upstream=http://a:1']
  const refused: Array<[string, string[]]> = [
    ['frontdoor without publicOrigin', ['--set-string', 'gateway.upstream=http://a:1']],
    ['memory store with 2 replicas', [...origin, '--set', 'replicaCount=2']],
    ['drain longer than the grace period', [...origin, '--set-string', 'shutdown.drainTimeout=40s']],
    ['a string port', [...origin, '--set-string', 'gateway.port=8080']],
  ]
  for (const [why, args] of refused) t.not(helm(['template', 'gw', CHART, ...args]).status, 0, `refused: ${why}`)
})

if (helmMissing) t.comment(helmMissing)
