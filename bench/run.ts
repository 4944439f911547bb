// `npm run bench`: every path side by side, one bounded run.
//
// Processes: the upstream, each proxy under test (http-proxy-3, undici,
// nginx, the gateway) and the load generator (wrk, or autocannon in a forked
// node) each run in their own process, so the cores are shared the way they
// are in production. This process only orchestrates: it starts and stops
// them, serves the key host (hit once per proof case, to warm the cache),
// samples RSS/CPU from /proc, and runs the micro-benchmarks before any load.
//
// Rounds: every case gets the same total time under load, cut into rounds
// (default 8 × 1 s) that go round-robin over the cases, all of which stay up
// for the whole run. On a machine shared with other work the background load
// drifts over minutes; interleaving puts a case and its baselines close
// together in time, and ratios are taken per round (case ÷ baseline in the
// same round), then the median. One case after another would compare
// measurements taken minutes apart.
//
// Environment: BENCH_DURATION (s under load per case, default 8),
// BENCH_ROUNDS (default 8), BENCH_WARMUP (s, default 1), BENCH_CASES
// (comma-separated ids; default all), BENCH_MICRO=0 (skip micro-benchmarks),
// BENCH_LOAD=wrk|autocannon, BENCH_PROOF_RATE (proofs signed per second of
// load, default 20000), BENCH_PROFILE=1 (gateway children under --cpu-prof,
// written to bench/results/), BENCH_SCALE=0 (skip the scale cases: 100,000-domain
// key cache memory, 1,000 first requests from a new domain, cold start;
// bench/scale/, run once after the load rounds), BENCH_LATENCY=0 (skip the
// fixed-rate latency case: after the rounds, the bare undici forwarder, the
// public route and the ES256 path each loaded at half the forwarder's median
// saturation rate, BENCH_LATENCY_ROUNDS rounds of BENCH_LATENCY_SEC s,
// interleaved; p50/p99/p99.9 and what the gateway adds over the forwarder).

import { mkdtemp, mkdir, rm, writeFile, readdir, unlink } from 'node:fs/promises'
import { createWriteStream, readFileSync } from 'node:fs'
import { once } from 'node:events'
import { tmpdir, cpus, loadavg, availableParallelism } from 'node:os'
import { join, dirname, resolve, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Agent as UndiciAgent, request } from 'undici'
import { CASES } from './cases.js'
import { startServer } from './lib/children.js'
import { meterProcesses } from './lib/proc-stats.js'
import { startKeyHost } from './lib/gateway-setup.js'
import { PROOF_THREADS } from './lib/proofs.js'
import { chooseLoadGenerator, type LoadGenerator } from './load/index.js'
import { runFixedRate } from './load/fixed-rate.js'
import { applyLine, lineHeaders } from './load/header-line.js'
import type { FixedRateResult } from './load/fixed-rate-child.js'
import type { LatencyResults } from './lib/report.js'
import { runAclMicro } from './micro/acl.js'
import { runVerifyMicro } from './micro/verify.js'
import { runSessionsMicro } from './micro/sessions.js'
import { topSelfTime } from './profile-top.js'
import { runScale, scaleMarkdown, scaleFailed, type ScaleResults } from './scale/index.js'
import { toMarkdown, median, type Report, type RunInfo } from './lib/report.js'
import type { BenchCase, CaseContext, CaseResult, LoadOptions, LoadResult, ProcessUsage, Target, TlsClient } from './lib/types.js'

const num = (name: string, dflt: number, min: number): number => {
  const raw = process.env[name]
  if (raw === undefined || raw === '') return dflt
  const v = Number(raw)
  if (!Number.isFinite(v) || v < min) throw new Error(`${name} must be a number ≥ ${min}, got ${JSON.stringify(raw)}`)
  return v
}

const ROUNDS = Math.round(num('BENCH_ROUNDS', 8, 1))
// wrk takes whole seconds, so a round is a whole number of seconds.
const ROUND_SEC = Math.max(1, Math.round(num('BENCH_DURATION', 8, 1) / ROUNDS))
const DURATION_SEC = ROUND_SEC * ROUNDS
const WARMUP_SEC = Math.round(num('BENCH_WARMUP', 1, 0))
const PROOF_RATE = num('BENCH_PROOF_RATE', 20_000, 1)
const CONNECTIONS = 50
const PROFILE = process.env.BENCH_PROFILE === '1'
const MICRO = process.env.BENCH_MICRO !== '0'
const SCALE = process.env.BENCH_SCALE !== '0'
const LATENCY = process.env.BENCH_LATENCY !== '0'
const LATENCY_SEC = Math.round(num('BENCH_LATENCY_SEC', 4, 1))
const LATENCY_ROUNDS = Math.round(num('BENCH_LATENCY_ROUNDS', 3, 1))
/** Cases the latency phase loads, the first being the reference. */
const LATENCY_CASES = ['undici', 'gateway-public', 'gateway-es256', 'gateway-dpop']
const ONLY = process.env.BENCH_CASES === undefined ? undefined : new Set(process.env.BENCH_CASES.split(',').map((s) => s.trim()).filter(Boolean))

const HERE = dirname(fileURLToPath(import.meta.url)) // dist/bench
const REPO = resolve(HERE, '../..')
const RESULTS = join(REPO, 'bench/results')
const SERVERS = new URL('./servers/', import.meta.url)

const say = (msg: string) => process.stderr.write(`[bench] ${msg}\n`)

/** A case while the run is going on. */
interface Live {
  readonly c: BenchCase
  target?: Target
  error?: string
  readonly rounds: LoadResult[]
  server?: ProcessUsage
  upstream?: ProcessUsage
  pregenerated?: { count: number; seconds: number; threads: number }
}

async function writeLines(file: string, values: readonly string[]): Promise<void> {
  const out = createWriteStream(file)
  for (let i = 0; i < values.length; i += 10_000) {
    if (!out.write(values.slice(i, i + 10_000).join('\n') + '\n')) await once(out, 'drain')
  }
  out.end()
  await once(out, 'finish')
}

/** One request before any load: the case must answer 200, or its numbers would measure an error path. */
async function sanityCheck(url: string, line?: [readonly string[], string], fixed?: Readonly<Record<string, string>>, client?: TlsClient): Promise<void> {
  // undici's request, not fetch: a case may send its own Host (fetch drops it).
  // A TLS case: over HTTP/1.1 with its client certificate, the test CA not verified (as the load generators do).
  const dispatcher = client && new UndiciAgent({ connect: { rejectUnauthorized: false, ...(client.certFile ? { cert: readFileSync(client.certFile), key: readFileSync(client.keyFile!) } : {}) } })
  const res = await request(url, { headers: line ? applyLine({ ...fixed }, line[0], line[1]) : { ...fixed }, dispatcher })
  const body = await res.body.text()
  await dispatcher?.close()
  if (res.statusCode !== 200) throw new Error(`sanity request got ${res.statusCode}: ${body.slice(0, 300)}`)
}

/** Per-request values for `seconds` of load, written to a file the load generator reads. */
async function headerFile(live: Live, tmpDir: string, seconds: number, label: string): Promise<LoadOptions['headerFile']> {
  const pr = live.target!.perRequest
  if (!pr) return undefined
  const count = Math.ceil(seconds * PROOF_RATE)
  const t0 = process.hrtime.bigint()
  const values = await pr.generate(count)
  const secs = Number(process.hrtime.bigint() - t0) / 1e9
  const g = (live.pregenerated ??= { count: 0, seconds: 0, threads: PROOF_THREADS })
  g.count += values.length
  g.seconds += secs
  const file = join(tmpDir, `${live.c.id}-${label}.txt`)
  await writeLines(file, values)
  return { header: pr.header, moreHeaders: pr.moreHeaders, file, count: values.length, fixed: pr.fixed }
}

async function setUp(live: Live, ctx: CaseContext, load: LoadGenerator): Promise<void> {
  say(`${live.c.id}: setting up`)
  live.target = await live.c.setup(ctx)
  const pr = live.target.perRequest
  if (pr) {
    const [first] = await pr.generate(1)
    await sanityCheck(live.target.url, [lineHeaders(pr), first!], pr.fixed, live.target.client) // also warms the gateway's key cache
  } else {
    await sanityCheck(live.target.url, undefined, undefined, live.target.client)
  }
  if (WARMUP_SEC > 0) {
    const warm = await headerFile(live, ctx.tmpDir, WARMUP_SEC, 'warmup')
    await load.run({ url: live.target.url, connections: CONNECTIONS, durationSec: WARMUP_SEC, headerFile: warm, client: live.target.client })
    if (warm) await unlink(warm.file)
  }
}

async function runRound(live: Live, ctx: CaseContext, load: LoadGenerator, round: number): Promise<void> {
  const target = live.target!
  const file = await headerFile(live, ctx.tmpDir, ROUND_SEC, `round${round}`)
  const server = meterProcesses(target.pids)
  const upstream = target.pids.includes(ctx.upstreamPid) ? undefined : meterProcesses([ctx.upstreamPid])
  const result = await load.run({ url: target.url, connections: CONNECTIONS, durationSec: ROUND_SEC, headerFile: file, client: target.client })
  live.server = addUsage(live.server, server.stop())
  if (upstream) live.upstream = addUsage(live.upstream, upstream.stop())
  live.rounds.push(result)
  if (file) await unlink(file.file)
  say(`round ${round + 1}/${ROUNDS} ${live.c.id}: ${Math.round(result.rps)} req/s, p99 ${result.p99Ms.toFixed(2)} ms, failed ${result.badStatus + result.socketErrors}`)
}

/**
 * The fixed-rate latency case: half the bare undici forwarder's median
 * saturation rate, the same rate for every case, rounds interleaved. p50,
 * p99, p99.9 per case are medians over rounds; "added" is the case's minus
 * the forwarder's in the same round, then the median.
 */
async function runLatency(lives: readonly Live[], ctx: CaseContext): Promise<LatencyResults | undefined> {
  const ref = lives.find((l) => l.c.id === 'undici' && !l.error && l.rounds.length > 0)
  if (!ref) return undefined
  const rate = Math.round(median(ref.rounds.map((r) => r.rps)) / 2)
  const subjects = LATENCY_CASES.map((id) => lives.find((l) => l.c.id === id && !l.error)).filter((l): l is Live => l !== undefined)
  const rounds = new Map<string, FixedRateResult[]>(subjects.map((l) => [l.c.id, []]))
  for (let round = 0; round < LATENCY_ROUNDS; round++) {
    for (const live of round % 2 === 0 ? subjects : [...subjects].reverse()) {
      const pr = live.target!.perRequest
      let file: LoadOptions['headerFile']
      if (pr) {
        const values = await pr.generate(rate * LATENCY_SEC + 100)
        const path = join(ctx.tmpDir, `${live.c.id}-latency${round}.txt`)
        await writeLines(path, values)
        file = { header: pr.header, moreHeaders: pr.moreHeaders, file: path, count: values.length, fixed: pr.fixed }
      }
      const r = await runFixedRate({ url: live.target!.url, connections: CONNECTIONS, durationSec: LATENCY_SEC, headerFile: file, ratePerSec: rate })
      if (file) await unlink(file.file)
      rounds.get(live.c.id)!.push(r)
      say(`latency ${round + 1}/${LATENCY_ROUNDS} ${live.c.id} at ${rate} req/s: p50 ${(r.p50Us / 1000).toFixed(2)} ms, p99 ${(r.p99Us / 1000).toFixed(2)} ms, p99.9 ${(r.p999Us / 1000).toFixed(2)} ms, failed ${r.failed}`)
    }
  }
  const base = rounds.get('undici')!
  return {
    ratePerSec: rate, seconds: LATENCY_SEC, rounds: LATENCY_ROUNDS, connections: CONNECTIONS,
    cases: subjects.map((l) => {
      const rs = rounds.get(l.c.id)!
      const added = (k: 'p50Us' | 'p99Us' | 'p999Us') => median(rs.map((r, i) => r[k] - base[i]![k]))
      return {
        id: l.c.id, name: l.c.name,
        p50Us: median(rs.map((r) => r.p50Us)), p99Us: median(rs.map((r) => r.p99Us)), p999Us: median(rs.map((r) => r.p999Us)),
        addedP50Us: added('p50Us'), addedP99Us: added('p99Us'), addedP999Us: added('p999Us'),
        achievedPerSec: median(rs.map((r) => r.sent / r.durationSec)), failed: rs.reduce((n, r) => n + r.failed, 0),
      }
    }),
  }
}

const addUsage = (a: ProcessUsage | undefined, b: ProcessUsage): ProcessUsage =>
  a ? { peakRssBytes: Math.max(a.peakRssBytes, b.peakRssBytes), cpuSec: a.cpuSec + b.cpuSec } : b

function toResult(live: Live, skipped?: string): CaseResult {
  const base = { id: live.c.id, name: live.c.name, rounds: live.rounds }
  if (skipped) return { ...base, skipped }
  if (live.error || live.rounds.length === 0) return { ...base, error: live.error ?? 'no rounds ran' }
  const rps = live.rounds.map((r) => r.rps)
  return {
    ...base, server: live.server, upstream: live.upstream, pregenerated: live.pregenerated,
    summary: {
      rps: median(rps), rpsMin: Math.min(...rps), rpsMax: Math.max(...rps),
      p50Ms: median(live.rounds.map((r) => r.p50Ms)), p99Ms: median(live.rounds.map((r) => r.p99Ms)),
      requests: live.rounds.reduce((s, r) => s + r.requests, 0),
      failed: live.rounds.reduce((s, r) => s + r.badStatus + r.socketErrors, 0),
    },
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
    command: ['BENCH_DURATION', 'BENCH_ROUNDS', 'BENCH_WARMUP', 'BENCH_CASES', 'BENCH_PROFILE', 'BENCH_LOAD', 'BENCH_MICRO', 'BENCH_SCALE', 'BENCH_LATENCY', 'BENCH_LATENCY_SEC', 'BENCH_LATENCY_ROUNDS', 'BENCH_PROOF_RATE', 'BENCH_GATEWAY_LOG', 'BENCH_HEAP', 'BENCH_BASELINE', 'BENCH_PAIRS', 'UV_THREADPOOL_SIZE']
      .filter((k) => process.env[k] !== undefined).map((k) => `${k}=${process.env[k]} `).join('') + 'npm run bench',
    node: process.version, cpus: availableParallelism(), cpuModel: cpuModel(), loadGenerator: load.name,
    durationSec: DURATION_SEC, rounds: ROUNDS, warmupSec: WARMUP_SEC, connections: CONNECTIONS, proofRatePerSec: PROOF_RATE, proofThreads: PROOF_THREADS,
    loadAverage: loadavg(),
  }
  say(`load generator: ${load.name}; ${ROUNDS} rounds × ${ROUND_SEC} s per case, ${CONNECTIONS} connections`)

  let acl, verify
  if (MICRO) {
    say('micro: ACL decisions, 10 vs 10,000 rules')
    acl = runAclMicro()
    say('micro: proof signature verification')
    verify = await runVerifyMicro()
    say('micro: the session ticket path (µs of CPU per request, one at a time)')
    for (const r of await runSessionsMicro()) say(`  ${r.usPerOp.toFixed(2).padStart(8)} µs  ${r.path}`)
  }

  const upstream = await startServer(new URL('upstream.js', SERVERS), [])
  const keyHost = await startKeyHost()
  const ctx: CaseContext = {
    upstreamOrigin: `http://127.0.0.1:${upstream.port}`, upstreamPid: upstream.pid, keyHost, tmpDir, resultsDir: RESULTS, profile: PROFILE,
    startServer: (script, args, opts) => startServer(new URL(script, SERVERS), args, opts?.execArgv),
  }
  if (PROFILE) for (const f of await readdir(RESULTS)) if (f.endsWith('.cpuprofile')) await unlink(join(RESULTS, f))

  const selected = CASES.filter((c) => ONLY ? ONLY.has(c.id) : !c.optIn)
  const skipped = new Map(selected.map((c) => [c.id, c.skip?.()]))
  const lives: Live[] = selected.filter((c) => !skipped.get(c.id)).map((c) => ({ c, rounds: [] }))
  for (const [id, why] of skipped) if (why) say(`${id}: skipped (${why})`)
  const fail = (live: Live, err: unknown) => {
    live.error = (err as Error).message
    say(`${live.c.id}: ERROR ${(err as Error).stack ?? String(err)}`)
  }
  let scale: ScaleResults | undefined
  let latency: LatencyResults | undefined
  try {
    for (const live of lives) await setUp(live, ctx, load).catch((err: unknown) => fail(live, err))
    for (let round = 0; round < ROUNDS; round++) {
      // Rotate the order each round so no case always runs right after the same neighbour.
      for (let k = 0; k < lives.length; k++) {
        const live = lives[(k + round) % lives.length]!
        if (!live.error) await runRound(live, ctx, load, round).catch((err: unknown) => fail(live, err))
      }
    }
    if (LATENCY) latency = await runLatency(lives, ctx)
    // After the rounds, with the load cases' processes still up but idle: the shared upstream is needed for cold start.
    if (SCALE) scale = await runScale(ctx, say)
  } finally {
    for (const live of lives) await live.target?.teardown().catch(() => {})
    await upstream.stop()
    await keyHost.close()
    await rm(tmpDir, { recursive: true, force: true })
  }
  const keyFetches = keyHost.hits()
  info.loadAverageEnd = loadavg()
  const cases = selected.map((c) => toResult(lives.find((l) => l.c === c) ?? { c, rounds: [] }, skipped.get(c.id)))

  const profiles = []
  if (PROFILE) {
    for (const f of (await readdir(RESULTS)).filter((x) => x.endsWith('.cpuprofile')).sort()) {
      const file = join(RESULTS, f)
      const caseId = f.replace(/^gateway-/, '').replace(/\.cpuprofile$/, '')
      profiles.push({ caseId, file: relative(REPO, file), ...topSelfTime(file, 5), js: topSelfTime(file, 5, { jsOnly: true }).top })
    }
  }
  const report: Report = { info, cases, acl, verify, profiles, latency }
  const md = toMarkdown(report) + (scale ? scaleMarkdown(scale) : '') + `\nKey host requests during the whole run: ${keyFetches} (one per proof case means the key cache held). Run took ${((Date.now() - started) / 1000).toFixed(0)} s.\n`
  await writeFile(join(RESULTS, 'latest.json'), JSON.stringify({ ...report, scale, keyHostRequests: keyFetches }, null, 2) + '\n')
  await writeFile(join(RESULTS, 'latest.md'), md)
  process.stdout.write(md)
  if (cases.some((c) => c.error) || (scale && scaleFailed(scale))) process.exitCode = 1
}

main().catch((err: unknown) => {
  console.error(err)
  process.exit(1)
})
