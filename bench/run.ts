// `npm run bench`: every path side by side, one bounded run.
//
// Processes: the upstream, each proxy under test (http-proxy-3, undici,
// nginx, the gateway) and the load generator (wrk, or autocannon in a forked
// node) each run in their own process, so the cores are shared the way they
// are in production. This process only orchestrates: it starts and stops
// them, serves the key host (hit once per proof case, to warm the cache),
// samples RSS/CPU from /proc, and runs the micro-benchmarks before any load.
//
// Environment: BENCH_DURATION (s, default 8), BENCH_WARMUP (s, default 1),
// BENCH_CASES (comma-separated ids; default all), BENCH_MICRO=0 (skip
// micro-benchmarks), BENCH_LOAD=wrk|autocannon, BENCH_PROOF_RATE (proofs
// generated per second of run, default 20000), BENCH_PROFILE=1 (gateway
// children under --cpu-prof, written to bench/results/).
//
// Per-request proofs are signed before the run and iat-stamped then: keep
// BENCH_DURATION + signing time under proof.maxAge (60 s) or late proofs
// are refused (they would show up as failed requests, never as speed).

import { mkdtemp, mkdir, rm, writeFile, readdir, unlink } from 'node:fs/promises'
import { createWriteStream, readFileSync } from 'node:fs'
import { once } from 'node:events'
import { tmpdir, cpus, loadavg, availableParallelism } from 'node:os'
import { join, dirname, resolve, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { CASES } from './cases.js'
import { startServer } from './lib/children.js'
import { meterProcesses } from './lib/proc-stats.js'
import { startKeyHost } from './lib/gateway-setup.js'
import { PROOF_THREADS } from './lib/proofs.js'
import { chooseLoadGenerator, type LoadGenerator } from './load/index.js'
import { runAclMicro } from './micro/acl.js'
import { runVerifyMicro } from './micro/verify.js'
import { topSelfTime } from './profile-top.js'
import { toMarkdown, type Report, type RunInfo } from './lib/report.js'
import type { BenchCase, CaseContext, CaseResult, LoadOptions } from './lib/types.js'

const num = (name: string, dflt: number): number => {
  const raw = process.env[name]
  if (raw === undefined || raw === '') return dflt
  const v = Number(raw)
  if (!Number.isFinite(v) || v < 0) throw new Error(`${name} must be a non-negative number, got ${JSON.stringify(raw)}`)
  return v
}

const DURATION_SEC = num('BENCH_DURATION', 8)
const WARMUP_SEC = num('BENCH_WARMUP', 1)
const PROOF_RATE = num('BENCH_PROOF_RATE', 20_000)
const CONNECTIONS = 50
const PROFILE = process.env.BENCH_PROFILE === '1'
const MICRO = process.env.BENCH_MICRO !== '0'
const ONLY = process.env.BENCH_CASES === undefined ? undefined : new Set(process.env.BENCH_CASES.split(',').map((s) => s.trim()).filter(Boolean))

const HERE = dirname(fileURLToPath(import.meta.url)) // dist/bench
const REPO = resolve(HERE, '../..')
const RESULTS = join(REPO, 'bench/results')
const SERVERS = new URL('./servers/', import.meta.url)

const say = (msg: string) => process.stderr.write(`[bench] ${msg}\n`)

async function writeLines(file: string, values: readonly string[], from: number, to: number): Promise<void> {
  const out = createWriteStream(file)
  for (let i = from; i < to; i += 10_000) {
    if (!out.write(values.slice(i, Math.min(i + 10_000, to)).join('\n') + '\n')) await once(out, 'drain')
  }
  out.end()
  await once(out, 'finish')
}

/** One request before any load: the case must answer 200, or its numbers would measure an error path. */
async function sanityCheck(url: string, header?: [string, string]): Promise<void> {
  const res = await fetch(url, { headers: header ? { [header[0]]: header[1] } : {} })
  const body = await res.text()
  if (res.status !== 200) throw new Error(`sanity request got ${res.status}: ${body.slice(0, 300)}`)
}

async function runCase(c: BenchCase, ctx: CaseContext, load: LoadGenerator): Promise<CaseResult> {
  const base = { id: c.id, name: c.name }
  const skipped = c.skip?.()
  if (skipped) {
    say(`${c.id}: skipped (${skipped})`)
    return { ...base, skipped }
  }
  say(`${c.id}: setting up`)
  let target
  try {
    target = await c.setup(ctx)
    let warm: LoadOptions['headerFile'], run: LoadOptions['headerFile'], pregenerated: CaseResult['pregenerated']
    if (target.perRequest) {
      const warmN = Math.ceil(WARMUP_SEC * PROOF_RATE), runN = Math.ceil(DURATION_SEC * PROOF_RATE)
      const t0 = process.hrtime.bigint()
      const values = await target.perRequest.generate(1 + warmN + runN)
      const seconds = Number(process.hrtime.bigint() - t0) / 1e9
      pregenerated = { count: values.length, seconds, threads: PROOF_THREADS }
      say(`${c.id}: pre-generated ${values.length} ${target.perRequest.header} values in ${seconds.toFixed(1)} s`)
      await sanityCheck(target.url, [target.perRequest.header, values[0]!]) // also warms the key cache
      const dir = join(ctx.tmpDir, c.id)
      await mkdir(dir, { recursive: true })
      warm = { header: target.perRequest.header, file: join(dir, 'warmup.txt'), count: warmN }
      run = { header: target.perRequest.header, file: join(dir, 'run.txt'), count: runN }
      await writeLines(warm.file, values, 1, 1 + warmN)
      await writeLines(run.file, values, 1 + warmN, values.length)
    } else {
      await sanityCheck(target.url)
    }
    if (WARMUP_SEC > 0) await load.run({ url: target.url, connections: CONNECTIONS, durationSec: WARMUP_SEC, headerFile: warm })
    const server = meterProcesses(target.pids)
    const upstream = target.pids.includes(ctx.upstreamPid) ? undefined : meterProcesses([ctx.upstreamPid])
    say(`${c.id}: ${DURATION_SEC} s of load`)
    const result = await load.run({ url: target.url, connections: CONNECTIONS, durationSec: DURATION_SEC, headerFile: run })
    const usage = { server: server.stop(), upstream: upstream?.stop() }
    say(`${c.id}: ${Math.round(result.rps)} req/s, p99 ${result.p99Ms.toFixed(2)} ms, failed ${result.badStatus + result.socketErrors}`)
    if (run) await Promise.all([unlink(run.file), unlink(warm!.file)])
    return { ...base, load: result, ...usage, pregenerated }
  } catch (err) {
    say(`${c.id}: ERROR ${(err as Error).stack ?? String(err)}`)
    return { ...base, error: (err as Error).message }
  } finally {
    await target?.teardown().catch(() => {})
  }
}

function cpuModel(): string {
  try {
    const m = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))
    if (m) return m[1]!.trim()
  } catch { /* not Linux */ }
  return cpus()[0]?.model ?? 'unknown'
}

async function main(): Promise<void> {
  await mkdir(RESULTS, { recursive: true })
  const tmpDir = await mkdtemp(join(tmpdir(), 'popgate-bench-'))
  const load = chooseLoadGenerator(tmpDir, process.env.BENCH_LOAD)
  const started = Date.now()
  const info: RunInfo = {
    date: new Date().toISOString(),
    command: ['BENCH_DURATION', 'BENCH_WARMUP', 'BENCH_CASES', 'BENCH_PROFILE', 'BENCH_LOAD', 'BENCH_MICRO', 'BENCH_PROOF_RATE']
      .filter((k) => process.env[k] !== undefined).map((k) => `${k}=${process.env[k]} `).join('') + 'npm run bench',
    node: process.version, cpus: availableParallelism(), cpuModel: cpuModel(), loadGenerator: load.name,
    durationSec: DURATION_SEC, warmupSec: WARMUP_SEC, connections: CONNECTIONS, proofRatePerSec: PROOF_RATE, proofThreads: PROOF_THREADS,
    loadAverage: loadavg(),
  }
  say(`load generator: ${load.name}; ${DURATION_SEC} s per case, ${CONNECTIONS} connections`)

  let acl, verify
  if (MICRO) {
    say('micro: ACL decisions, 10 vs 10,000 rules')
    acl = runAclMicro()
    say('micro: proof signature verification')
    verify = await runVerifyMicro()
  }

  const upstream = await startServer(new URL('upstream.js', SERVERS), [])
  const keyHost = await startKeyHost()
  const ctx: CaseContext = {
    upstreamOrigin: `http://127.0.0.1:${upstream.port}`, upstreamPid: upstream.pid, keyHost, tmpDir, resultsDir: RESULTS, profile: PROFILE,
    startServer: (script, args, opts) => startServer(new URL(script, SERVERS), args, opts?.execArgv),
  }
  if (PROFILE) for (const f of await readdir(RESULTS)) if (f.endsWith('.cpuprofile')) await unlink(join(RESULTS, f))
  const cases: CaseResult[] = []
  try {
    for (const c of CASES) {
      if (ONLY && !ONLY.has(c.id)) continue
      cases.push(await runCase(c, ctx, load))
    }
  } finally {
    await upstream.stop()
    await keyHost.close()
    await rm(tmpDir, { recursive: true, force: true })
  }
  const keyFetches = keyHost.hits()

  const profiles = []
  if (PROFILE) {
    for (const f of (await readdir(RESULTS)).filter((x) => x.endsWith('.cpuprofile')).sort()) {
      const file = join(RESULTS, f)
      profiles.push({ caseId: f.replace(/^gateway-/, '').replace(/\.cpuprofile$/, ''), file: relative(REPO, file), ...topSelfTime(file, 5) })
    }
  }
  const report: Report = { info, cases, acl, verify, profiles }
  const md = toMarkdown(report) + `\nKey host requests during the whole run: ${keyFetches} (one per proof case means the key cache held). Run took ${((Date.now() - started) / 1000).toFixed(0)} s.\n`
  await writeFile(join(RESULTS, 'latest.json'), JSON.stringify({ ...report, keyHostRequests: keyFetches }, null, 2) + '\n')
  await writeFile(join(RESULTS, 'latest.md'), md)
  process.stdout.write(md)
  if (cases.some((c) => c.error)) process.exitCode = 1
}

main().catch((err: unknown) => {
  console.error(err)
  process.exit(1)
})
