// Turns one run's results into the table (Markdown) and the JSON file.
// A ratio is the median over rounds of (case req/s ÷ baseline req/s in the
// same round): machine speed cancels out, and so does background load that
// drifts slower than a round. Bursts shorter than a round do not; the
// min–max spread column shows how much of that there was.

import type { CaseResult } from './types.js'
import type { AclMicroResult } from '../micro/acl.js'
import type { VerifyMicroResult } from '../micro/verify.js'
import type { SelfTime } from '../profile-top.js'

export interface RunInfo {
  readonly date: string
  readonly command: string
  readonly node: string
  readonly cpus: number
  readonly cpuModel: string
  readonly loadGenerator: string
  readonly durationSec: number
  readonly rounds: number
  readonly warmupSec: number
  readonly connections: number
  readonly proofRatePerSec: number
  readonly proofThreads: number
  readonly loadAverage: readonly number[]
  /** Filled in when the run ends. */
  loadAverageEnd?: readonly number[]
}

export interface Report {
  readonly info: RunInfo
  readonly cases: readonly CaseResult[]
  readonly acl?: AclMicroResult
  readonly verify?: VerifyMicroResult
  readonly profiles?: readonly { readonly caseId: string; readonly file: string; readonly busyMs: number; readonly top: readonly SelfTime[]; readonly js: readonly SelfTime[] }[]
  readonly latency?: LatencyResults
}

/** The fixed-rate latency case (bench/run.ts runLatency). */
export interface LatencyResults {
  readonly ratePerSec: number
  readonly seconds: number
  readonly rounds: number
  readonly connections: number
  readonly cases: readonly {
    readonly id: string
    readonly name: string
    readonly p50Us: number
    readonly p99Us: number
    readonly p999Us: number
    /** Median over rounds of (this case − the bare undici forwarder in the same round). */
    readonly addedP50Us: number
    readonly addedP99Us: number
    readonly addedP999Us: number
    readonly achievedPerSec: number
    readonly failed: number
  }[]
}

export interface Target { readonly what: string; readonly goal: string; readonly measured: string; readonly verdict: 'hit' | 'miss' | 'not measured' }

const f0 = (n: number) => Math.round(n).toLocaleString('en-US')
const f2 = (n: number) => n.toFixed(2)
const mb = (bytes: number) => (bytes / 1048576).toFixed(0)

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2
}

/** Median over rounds of case ÷ baseline in the same round; undefined when either is missing. */
export function pairedRatio(cases: readonly CaseResult[], id: string, baseId: string): number | undefined {
  const c = cases.find((x) => x.id === id), b = cases.find((x) => x.id === baseId)
  if (!c?.summary || !b?.summary) return undefined
  const n = Math.min(c.rounds.length, b.rounds.length)
  return median(Array.from({ length: n }, (_, i) => c.rounds[i]!.rps / b.rounds[i]!.rps))
}

const pct = (ratio: number) => `${ratio >= 1 ? '+' : ''}${((ratio - 1) * 100).toFixed(1)}%`
const aclTarget = (what: string, ratio: number | undefined): Target =>
  ratio === undefined ? { what, goal: '≤ +3%', measured: '—', verdict: 'not measured' } : { what, goal: '≤ +3%', measured: pct(ratio), verdict: ratio <= 1.03 ? 'hit' : 'miss' }

export function targets(r: Report): Target[] {
  const ratio = (id: string, baseId: string, goal: number, what: string): Target => {
    const x = pairedRatio(r.cases, id, baseId)
    if (x === undefined) return { what, goal: `≥ ${goal.toFixed(2)}`, measured: '—', verdict: 'not measured' }
    const bad = r.cases.find((c) => c.id === id)?.summary?.failed ?? 0
    // Two decimals, unless they would round a miss up to the goal (0.6995 → "0.6995", not "0.70").
    const shown = x < goal && f2(x) === f2(goal) ? x.toFixed(4) : f2(x)
    return { what, goal: `≥ ${goal.toFixed(2)}`, measured: shown + (bad ? ` (${bad} failed requests!)` : ''), verdict: x >= goal && bad === 0 ? 'hit' : 'miss' }
  }
  const gwPeaks = r.cases.filter((c) => c.id.startsWith('gateway') && c.server).map((c) => [c.id, c.server!.peakRssBytes] as const)
  const peak = gwPeaks.length ? gwPeaks.reduce((a, b) => (b[1] > a[1] ? b : a)) : undefined
  const pub = r.latency?.cases.find((c) => c.id === 'gateway-public')
  return [
    ratio('gateway-public', 'undici', 0.95, 'public route, access log on ÷ bare undici'),
    ratio('gateway-cookie', 'undici', 1.0, 'cookie path ÷ bare undici'),
    ratio('gateway-ticket', 'undici', 1.0, 'ticket path ÷ bare undici'),
    // Issue 21's aim: each session path within 10 % of the public route.
    ratio('gateway-cookie', 'gateway-public', 0.9, 'cookie path ÷ public route'),
    ratio('gateway-ticket', 'gateway-public', 0.9, 'ticket path ÷ public route'),
    ratio('gateway-es256', 'http-proxy-3', 0.8, 'ES256 proof per request ÷ bare http-proxy-3'),
    ratio('gateway-ed25519', 'http-proxy-3', 0.55, 'Ed25519 proof per request ÷ bare http-proxy-3'),
    ratio('gateway-dpop', 'http-proxy-3', 0.6, 'DPoP token + proof per request ÷ bare http-proxy-3'),
    ratio('gateway-dpop', 'oauth4webapi-dpop', 2.0, 'DPoP path (nonce, replay, ACL) ÷ oauth4webapi validateJwtAccessToken + http-proxy-3'),
    ratio('gateway-es256-redis', 'gateway-es256', 0.9, 'ES256 proof per request, Redis replay store ÷ memory store'),
    aclTarget('ACL decision, 10,000 rules vs 10, same 12 requests', r.acl?.ratio),
    aclTarget('ACL decision, 10,000 rules vs 10, 4,096 distinct requests', r.acl?.ratioDistinct),
    peak === undefined
      ? { what: 'gateway peak RSS under load, every case', goal: '≤ 150 MB', measured: '—', verdict: 'not measured' }
      : { what: 'gateway peak RSS under load, every case', goal: '≤ 150 MB', measured: `${mb(peak[1])} MB (${peak[0]})`, verdict: peak[1] <= 150 * 1048576 ? 'hit' : 'miss' },
    pub === undefined
      ? { what: 'p99 added over bare undici at half its saturation rate, public route', goal: '≤ 2 ms', measured: '—', verdict: 'not measured' }
      : { what: 'p99 added over bare undici at half its saturation rate, public route', goal: '≤ 2 ms', measured: `${(pub.addedP99Us / 1000).toFixed(2)} ms`, verdict: pub.addedP99Us <= 2000 && pub.failed === 0 ? 'hit' : 'miss' },
  ]
}

export function caseTable(cases: readonly CaseResult[]): string {
  const rows = ['| case | req/s | spread | p50 ms | p99 ms | ÷ http-proxy-3 | ÷ undici | proxy CPU µs/req | proxy peak RSS MB | failed |', '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|']
  const ratio = (id: string, base: string) => { const x = pairedRatio(cases, id, base); return x === undefined ? '—' : f2(x) }
  for (const c of cases) {
    const s = c.summary
    if (!s) {
      rows.push(`| ${c.name} | ${c.skipped ? `skipped: ${c.skipped}` : `error: ${(c.error ?? '').split('\n')[0]}`} | | | | | | | | |`)
      continue
    }
    const cpu = c.server && Number.isFinite(c.server.cpuSec) && s.requests ? f0((c.server.cpuSec * 1e6) / s.requests) : '—'
    const spread = `${f0(s.rpsMin)}–${f0(s.rpsMax)}`
    rows.push(`| ${c.name} | ${f0(s.rps)} | ${spread} | ${f2(s.p50Ms)} | ${f2(s.p99Ms)} | ${ratio(c.id, 'http-proxy-3')} | ${ratio(c.id, 'undici')} | ${cpu} | ${c.server ? mb(c.server.peakRssBytes) : '—'} | ${s.failed} |`)
  }
  return rows.join('\n')
}

export function toMarkdown(r: Report): string {
  const i = r.info
  const out: string[] = []
  out.push(`# popgate bench — ${i.date}`, '')
  out.push(`Machine: ${i.cpus} × ${i.cpuModel}, Node ${i.node}, load average (1/5/15 min) at start ${i.loadAverage.map((x) => x.toFixed(2)).join(' ')}${i.loadAverageEnd ? `, at end ${i.loadAverageEnd.map((x) => x.toFixed(2)).join(' ')}` : ''}.`)
  out.push(`Command: \`${i.command}\`. Load: ${i.loadGenerator}, ${i.connections} connections, ${i.durationSec} s per case (${i.rounds} interleaved rounds of ${i.durationSec / i.rounds} s) after ${i.warmupSec} s warm-up.`)
  out.push(`Per-request proofs: pre-generated before each round (${f0(i.proofRatePerSec)} per second of load, unique jti each, signed in ${i.proofThreads} worker threads while nothing is under load), so signing is not in the load generator.`, '')
  out.push(caseTable(r.cases), '')
  const before = [['gateway-public', 'baseline-public'], ['gateway-es256', 'baseline-es256'], ['gateway-dpop', 'baseline-dpop'], ['gateway-es256-redis', 'baseline-es256-redis']]
    .map(([now, base]) => [now!, base!, pairedRatio(r.cases, now!, base!)] as const)
    .filter(([, , x]) => x !== undefined)
  if (before.length > 0) {
    out.push('Before and after (BENCH_BASELINE), median over rounds of this build ÷ the baseline build in the same round: ' + before.map(([now, base, x]) => `${now} ÷ ${base} = ${f2(x!)}`).join('; ') + '.', '')
  }
  // Issue 23: the message-signature paths beside their neighbours, from the same rounds.
  const signatures = [['gateway-httpsig-ed25519', 'gateway-ed25519'], ['gateway-httpsig-ed25519', 'http-proxy-3'], ['gateway-public-signed', 'gateway-public'], ['gateway-public-signed', 'undici']]
    .map(([a, b]) => [a!, b!, pairedRatio(r.cases, a!, b!)] as const)
    .filter(([, , x]) => x !== undefined)
  if (signatures.length > 0) {
    out.push('Message signatures (RFC 9421), median over rounds in the same run: ' + signatures.map(([a, b, x]) => `${a} ÷ ${b} = ${f2(x!)}`).join('; ') + '.', '')
  }
  // BENCH_PAIRS=a/b,c/d: any other paired ratios (e.g. one baseline build against another).
  const pairs = (process.env.BENCH_PAIRS ?? '').split(',').map((s) => s.trim().split('/')).filter((p) => p.length === 2)
    .map(([a, b]) => [a!, b!, pairedRatio(r.cases, a!, b!)] as const)
  if (pairs.length > 0) {
    out.push('BENCH_PAIRS, median over rounds of row ÷ row in the same round: ' + pairs.map(([a, b, x]) => `${a} ÷ ${b} = ${x === undefined ? '—' : f2(x)}`).join('; ') + '.', '')
  }
  const traced = [['gateway-public-traced', 'gateway-public'], ['gateway-es256-traced', 'gateway-es256']]
    .map(([on, off]) => [on!, off!, pairedRatio(r.cases, on!, off!)] as const)
    .filter(([, , x]) => x !== undefined)
  if (traced.length > 0) {
    out.push('Tracing on (ratio 1.0, OTLP/HTTP to a loopback sink) ÷ off, median over rounds in the same run: ' + traced.map(([on, off, x]) => `${on} ÷ ${off} = ${f2(x!)}`).join('; ') + '.', '')
  }
  out.push('req/s, p50, p99: median of the rounds; spread: slowest–fastest round. Ratios: median over rounds of (row ÷ baseline in the same round). "proxy" = the process under test (the upstream itself in the first row; nginx master + worker); CPU is user + system over the timed rounds ÷ requests. "failed" = status ≥ 400 + socket errors; must be 0.', '')
  out.push('## Targets (issue "Performance III")', '', '| target | goal | measured | |', '|---|---|---|---|')
  for (const t of targets(r)) out.push(`| ${t.what} | ${t.goal} | ${t.measured} | ${t.verdict} |`)
  const nh = pairedRatio(r.cases, 'nginx', 'http-proxy-3'), nu = pairedRatio(r.cases, 'nginx', 'undici')
  if (nh !== undefined && nu !== undefined) out.push('', `nginx for scale: ${f2(nh)} × http-proxy-3, ${f2(nu)} × undici.`)
  if (r.latency) {
    const l = r.latency
    const ms = (us: number) => (us / 1000).toFixed(2)
    out.push('', `## Latency at a fixed rate (${f0(l.ratePerSec)} req/s: half the bare undici forwarder's median saturation rate; ${l.rounds} interleaved rounds × ${l.seconds} s, ${l.connections} connections)`, '',
      '| case | achieved req/s | p50 ms | p99 ms | p99.9 ms | added p50 ms | added p99 ms | added p99.9 ms | failed |', '|---|---:|---:|---:|---:|---:|---:|---:|---:|')
    for (const c of l.cases) out.push(`| ${c.name} | ${f0(c.achievedPerSec)} | ${ms(c.p50Us)} | ${ms(c.p99Us)} | ${ms(c.p999Us)} | ${ms(c.addedP50Us)} | ${ms(c.addedP99Us)} | ${ms(c.addedP999Us)} | ${c.failed} |`)
    out.push('', 'Latency: from the request handed to the load generator\'s pool to the end of the response body (bench/load/fixed-rate-child.ts), medians over rounds; "added" = median over rounds of (case − bare undici in the same round).')
  }
  if (r.acl) {
    out.push('', `## ACL decision cost (matchRule + authorize; best of ${r.acl.rounds} rounds × ${f0(r.acl.decisionsPerRound)} decisions)`, '', '| ACL | ns/decision (best) | ns/decision (median) |', '|---|---:|---:|')
    for (const row of r.acl.rows) out.push(`| ${row.label} | ${row.nsPerDecision.toFixed(1)} | ${row.medianNs.toFixed(1)} |`)
    out.push('', `10,000 ÷ 10 rules: ${r.acl.ratio.toFixed(3)} on the same 12 requests, ${r.acl.ratioDistinct.toFixed(3)} on 4,096 distinct requests spread over each ACL's rules.`)
    const gw = r.cases.find((c) => c.id === 'gateway-public')
    if (gw?.server && gw.summary?.requests && Number.isFinite(gw.server.cpuSec)) {
      const reqNs = (gw.server.cpuSec * 1e9) / gw.summary.requests
      const extra = r.acl.rows[3]!.nsPerDecision - r.acl.rows[2]!.nsPerDecision
      out.push(`Against the gateway's CPU time per public-route request in this run (${f0(reqNs / 1000)} µs), the distinct-request difference (${extra.toFixed(0)} ns) is ${((extra / reqNs) * 100).toFixed(2)}%.`)
    }
  }
  if (r.verify) {
    const algs = r.verify.algorithms
    out.push('', `## Proof signature verification (best of ${r.verify.rounds} × ${r.verify.msPerMeasurement} ms)`, '',
      `| method | ${algs.map((a) => `${a} ops/s`).join(' | ')} | ${algs.map((a) => `÷ jose 1-at-a-time (${a})`).join(' | ')} | ${algs.map((a) => `main-thread µs/op (${a})`).join(' | ')} |`,
      `|---|${algs.map(() => '---:').join('|')}|${algs.map(() => '---:').join('|')}|${algs.map(() => '---:').join('|')}|`)
    const base = r.verify.rows[0]!.opsPerSec
    const us = (v: number | undefined) => v === undefined || !Number.isFinite(v) ? '—' : v.toFixed(1)
    for (const row of r.verify.rows) out.push(`| ${row.method} | ${algs.map((a) => f0(row.opsPerSec[a]!)).join(' | ')} | ${algs.map((a) => f2(row.opsPerSec[a]! / base[a]!)).join(' | ')} | ${algs.map((a) => us(row.mainUsPerOp[a])).join(' | ')} |`)
    out.push('', 'Main-thread µs/op: CPU time of the main thread alone (from /proc, 10 ms ticks) ÷ operations; the callback and jose forms do the curve arithmetic on libuv\'s thread pool, which this leaves out.')
  }
  if (r.profiles?.length) {
    out.push('', '## Gateway CPU profile (top self time, busy time only)', '', 'Self time of native bindings (writev, writeString...) includes the syscall and, on a 2-core box, time the thread waited for the core. The whole process life is profiled (startup and idle rounds of other cases too).')
    for (const p of r.profiles) {
      out.push('', `${p.caseId} (\`${p.file}\`, ${f0(p.busyMs)} ms busy):`, '', '| self % | self ms | function | where |', '|---:|---:|---|---|')
      for (const t of p.top) out.push(`| ${(t.share * 100).toFixed(1)} | ${f0(t.ms)} | ${t.fn} | ${t.where} |`)
      out.push('| | | *top JavaScript only:* | |')
      for (const t of p.js) out.push(`| ${(t.share * 100).toFixed(1)} | ${f0(t.ms)} | ${t.fn} | ${t.where} |`)
    }
  }
  return out.join('\n') + '\n'
}
