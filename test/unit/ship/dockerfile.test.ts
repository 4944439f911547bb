// The Dockerfile, checked without a Docker engine (there is none here): it
// lints clean with dockerfile-utils, and its steps agree with the rest of the
// repository — the build runs what .ci/run and package.json run, the runtime
// stage installs production dependencies only, `popgate` is the package's
// bin entry, the user is numeric and not root, the exposed ports are the
// config's, and there is no HEALTHCHECK. Every check is also run on a broken
// copy, to show it can fail. NOT checked here: that the image builds, starts,
// or runs with a read-only root filesystem (that needs an engine).

import t from 'tap'
import { validate } from 'dockerfile-utils'
import { readRepo, readYamlFile } from './repo.js'

interface Instruction { readonly keyword: string; readonly args: string; readonly line: number }
interface Stage { readonly from: string; readonly name?: string; readonly body: Instruction[] }

/** Instructions in order: comments dropped, `\` continuations joined. */
function parseDockerfile(text: string): Instruction[] {
  const out: Instruction[] = []
  const lines = text.split('\n')
  for (let i = 0; i < lines.length; i++) {
    const first = i + 1
    let line = lines[i]!
    if (/^\s*(#|$)/.test(line)) continue
    while (/\\\s*$/.test(line) && i + 1 < lines.length) {
      i++
      const next = lines[i]!
      if (/^\s*#/.test(next)) continue
      line = line.replace(/\\\s*$/, ' ') + next.trim()
    }
    const m = /^\s*(\S+)\s*(.*)$/.exec(line)!
    out.push({ keyword: m[1]!.toUpperCase(), args: m[2]!.trim().replace(/\s+/g, ' '), line: first })
  }
  return out
}

function stagesOf(instructions: Instruction[]): { args: Map<string, string>; stages: Stage[] } {
  const args = new Map<string, string>()
  const stages: Stage[] = []
  for (const ins of instructions) {
    if (ins.keyword === 'FROM') {
      const m = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(ins.args)!
      const from = m[1]!.replace(/\$\{(\w+)\}|\$(\w+)/g, (_, a, b) => args.get(a ?? b) ?? '')
      stages.push({ from, name: m[2], body: [] })
    } else if (stages.length === 0 && ins.keyword === 'ARG') {
      const [k, v] = ins.args.split('=')
      args.set(k!, v ?? '')
    } else stages.at(-1)?.body.push(ins)
  }
  return { args, stages }
}

const portOf = (listen: unknown): number => Number(String(listen).split(':').at(-1))

/** The repository's expectations, read from the files that define them. */
function expectations() {
  const pkg = JSON.parse(readRepo('package.json')) as { scripts: Record<string, string>; bin: Record<string, string> }
  const ci = readRepo('.ci/run')
  const config = readYamlFile('config/gateway.yaml') as { listen: string; admin: { listen: string } }
  const values = readYamlFile('helm/popgate/values.yaml') as { gateway: { port: number; adminPort: number } }
  return {
    ciInstall: /^npm ci\b/m.test(ci) ? 'npm ci' : undefined,
    buildScript: pkg.scripts.build ? 'npm run build' : undefined,
    bin: pkg.bin.popgate!,
    ports: [...new Set([portOf(config.listen), portOf(config.admin.listen), values.gateway.port, values.gateway.adminPort])].sort(),
  }
}

/** The Node major this suite runs on: the image is built on the same one (issue 28: it defaulted to 22 while every test ran on 20). */
const SUITE_MAJOR = process.versions.node.split('.')[0]!
const RUNTIME_IMAGES = new RegExp(`^node:${SUITE_MAJOR}-(alpine|bookworm-slim)(@sha256:[a-f0-9]{64})?$`)

/** Every way the Dockerfile disagrees with the repository; empty when it agrees. */
function checkDockerfile(text: string): string[] {
  const problems: string[] = []
  const exp = expectations()
  const { stages } = stagesOf(parseDockerfile(text))
  if (stages.length < 2) return ['needs two stages (build, runtime)']
  const build = stages[0]!, runtime = stages.at(-1)!
  const runs = (s: Stage) => s.body.filter((i) => i.keyword === 'RUN').map((i) => i.args)
  const has = (s: Stage, re: RegExp) => runs(s).some((r) => re.test(r))
  const one = (s: Stage, k: string) => s.body.filter((i) => i.keyword === k)

  for (const s of stages) if (!RUNTIME_IMAGES.test(s.from)) problems.push(`FROM ${s.from}: expected node:${SUITE_MAJOR}-alpine or node:${SUITE_MAJOR}-bookworm-slim, the Node major the tests run on`)
  if (!exp.ciInstall || !has(build, /(^|&& )npm ci( |$)(?!.*--omit)/)) problems.push('build stage: no `npm ci` (as .ci/run installs)')
  if (!exp.buildScript || !has(build, /(^|&& )npm run build( |$)/)) problems.push('build stage: no `npm run build` (package.json scripts.build)')
  if (!has(runtime, /(^|&& )npm ci --omit=dev( |$)/)) problems.push('runtime stage: no `npm ci --omit=dev`')
  if (has(runtime, /npm ci(?! --omit=dev)/) || has(runtime, /npm (install|i) /)) problems.push('runtime stage: installs more than production dependencies')
  if (!runtime.body.some((i) => i.keyword === 'COPY' && new RegExp(`^--from=${build.name ?? 0} \\S*dist/src \\S*dist/src/?$`).test(i.args))) problems.push('runtime stage: does not copy the compiled dist/src from the build stage')
  if (!has(runtime, new RegExp(`ln -s \\S*/${exp.bin.replace(/[.]/g, '\\.')} /usr/local/bin/popgate`))) problems.push(`runtime stage: \`popgate\` is not linked onto PATH from package.json's bin (${exp.bin})`)

  const user = one(runtime, 'USER')
  if (user.length !== 1) problems.push(`runtime stage: expected one USER, found ${user.length}`)
  else {
    const [uid, gid] = user[0]!.args.split(':')
    if (!/^\d+$/.test(uid!) || (gid !== undefined && !/^\d+$/.test(gid))) problems.push(`USER ${user[0]!.args}: must be numeric (runAsNonRoot cannot check a name)`)
    else if (Number(uid) === 0 || Number(gid) === 0) problems.push(`USER ${user[0]!.args}: must not be root`)
  }
  const exposed = one(runtime, 'EXPOSE').flatMap((i) => i.args.split(' ')).map((p) => Number(p.split('/')[0])).sort()
  if (JSON.stringify(exposed) !== JSON.stringify(exp.ports)) problems.push(`EXPOSE ${exposed.join(' ')}: expected ${exp.ports.join(' ')} (config/gateway.yaml and the chart's ports)`)
  const json = (k: string) => { const i = one(runtime, k); try { return i.length === 1 ? JSON.parse(i[0]!.args) : undefined } catch { return 'not exec form' } }
  if (JSON.stringify(json('ENTRYPOINT')) !== '["popgate"]') problems.push('ENTRYPOINT: expected ["popgate"]')
  if (JSON.stringify(json('CMD')) !== '["serve","--config","/etc/popgate/gateway.yaml"]') problems.push('CMD: expected ["serve","--config","/etc/popgate/gateway.yaml"]')
  if (stages.some((s) => one(s, 'HEALTHCHECK').length > 0)) problems.push('HEALTHCHECK: none wanted, Kubernetes probes the admin port')
  if (stages.some((s) => one(s, 'ADD').length > 0)) problems.push('ADD: use COPY (ADD fetches URLs and unpacks archives)')
  return problems
}

function checkDockerignore(text: string): string[] {
  const entries = new Set(text.split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#')))
  return ['.git', 'node_modules', 'dist', '**/secrets.yaml', '**/*.pem'].filter((e) => !entries.has(e)).map((e) => `.dockerignore: ${e} is not excluded`)
}

const DOCKERFILE = readRepo('Dockerfile')

t.test('the Dockerfile lints clean with dockerfile-utils', async (t) => {
  const diagnostics = validate(DOCKERFILE)
  t.same(diagnostics.map((d) => `${d.range.start.line + 1}: ${d.message}`), [])
  const broken = DOCKERFILE.replace('ENTRYPOINT ["popgate"]', 'ENTRYPOINT ["popgate"]\nentrypoint ["popgate"]\nEXPOSE 8080/tcpx')
  t.ok(validate(broken).length >= 2, 'the linter reports a lowercase instruction, a second ENTRYPOINT and a bad protocol')
})

t.test("the Dockerfile's steps agree with .ci/run, package.json and the config", async (t) => {
  t.same(checkDockerfile(DOCKERFILE), [])
  t.same(checkDockerignore(readRepo('.dockerignore')), [])
})

t.test('each check fails on a broken Dockerfile', async (t) => {
  const cases: Array<[string, (s: string) => string, RegExp]> = [
    ['one stage', (s) => s.replace(/FROM \$\{NODE_IMAGE\} AS runtime[\s\S]*$/, 'CMD ["x"]\n'), /two stages/],
    ['another base image', (s) => s.replace(`ARG NODE_IMAGE=node:${SUITE_MAJOR}-bookworm-slim`, `ARG NODE_IMAGE=node:${SUITE_MAJOR}`), /FROM node:\d+: expected/],
    ['another Node major', (s) => s.replace(`ARG NODE_IMAGE=node:${SUITE_MAJOR}-bookworm-slim`, `ARG NODE_IMAGE=node:${Number(SUITE_MAJOR) + 2}-alpine`), /the Node major the tests run on/],
    ['npm install instead of npm ci', (s) => s.replace('RUN npm ci --no-audit', 'RUN npm install --no-audit'), /no `npm ci`/],
    ['no build', (s) => s.replace('RUN npm run build &&', 'RUN'), /no `npm run build`/],
    ['dev dependencies in the runtime', (s) => s.replace('npm ci --omit=dev', 'npm ci'), /runtime stage: no `npm ci --omit=dev`/],
    ['no compiled code copied', (s) => s.replace('COPY --from=build /src/dist/src ./dist/src', 'COPY --from=build /src/dist/test ./dist/test'), /does not copy the compiled/],
    ['popgate not on PATH', (s) => s.replace('ln -s /app/dist/src/cli/main.js', 'ln -s /app/dist/src/cli/demo.js'), /not linked onto PATH/],
    ['a named user', (s) => s.replace('USER 65532:65532', 'USER node'), /must be numeric/],
    ['root', (s) => s.replace('USER 65532:65532', 'USER 0:0'), /must not be root/],
    ['no user', (s) => s.replace('USER 65532:65532\n', ''), /expected one USER, found 0/],
    ['a missing port', (s) => s.replace('EXPOSE 8080 9090', 'EXPOSE 8080'), /EXPOSE 8080: expected 8080 9090/],
    ['shell-form entrypoint', (s) => s.replace('ENTRYPOINT ["popgate"]', 'ENTRYPOINT popgate'), /ENTRYPOINT/],
    ['another CMD', (s) => s.replace('"/etc/popgate/gateway.yaml"]', '"/app/gateway.yaml"]'), /CMD: expected/],
    ['a HEALTHCHECK', (s) => s + 'HEALTHCHECK CMD wget -q -O- http://127.0.0.1:9090/healthz\n', /HEALTHCHECK/],
    ['ADD', (s) => s.replace('COPY tsconfig.json ./', 'ADD tsconfig.json ./'), /ADD/],
  ]
  for (const [name, mutate, expected] of cases) {
    const broken = mutate(DOCKERFILE)
    t.not(broken, DOCKERFILE, `${name}: the mutation applies`)
    t.match(checkDockerfile(broken).join('\n'), expected, name)
  }
  t.match(checkDockerignore('node_modules\ndist\n'), ['.dockerignore: .git is not excluded'], '.dockerignore without .git')
})

t.test('what this file cannot check', async (t) => {
  t.comment('SKIPPED: `docker build` and running the image (read-only root filesystem, uid 65532, ports) — no Docker engine on this machine. Build and run it before release: see docs/kubernetes.md.')
  t.pass('said')
})
