// Turns one run's results into the table (Markdown) and the JSON file.
// Ratios are req/s of a case over req/s of a baseline measured in the same
// run, so machine speed cancels out; noise from other work on the machine
// does not.

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
  readonly warmupSec: number
  readonly connections: number
  readonly proofRatePerSec: number
  readonly proofThreads: number
  readonly loadAverage: readonly number[]
}

export interface Report {
  readonly info: RunInfo
  readonly cases: readonly CaseResult[]
  readonly acl?: AclMicroResult
  readonly verify?: VerifyMicroResult
  readonly profiles?: readonly { readonly caseId: string; readonly file: string; readonly busyMs: number; readonly top: readonly SelfTime[] }[]
}

export interface Target { readonly what: string; readonly goal: string; readonly measured: string; readonly verdict: 'hit' | 'miss' | 'not measured' }

const f0 = (n: number) => Math.round(n).toLocaleString('en-US')
const f2 = (n: number) => n.toFixed(2)
const mb = (bytes: number) => (bytes / 1048576).toFixed(0)

function rps(cases: readonly CaseResult[], id: string): number | undefined {
  return cases.find((c) => c.id === id)?.load?.rps
}

export function targets(r: Report): Target[] {
  const hp3 = rps(r.cases, 'http-proxy-3'), undici = rps(r.cases, 'undici')
  const ratio = (id: string, base: number | undefined, goal: number, what: string): Target => {
    const v = rps(r.cases, id)
    const c = r.cases.find((x) => x.id === id)
    if (v === undefined || base === undefined) return { what, goal: `≥ ${goal}`, measured: '—', verdict: 'not measured' }
    const bad = (c?.load?.badStatus ?? 0) + (c?.load?.socketErrors ?? 0)
    const x = v / base
    return { what, goal: `≥ ${goal}`, measured: f2(x) + (bad ? ` (${bad} failed requests!)` : ''), verdict: x >= goal && bad === 0 ? 'hit' : 'miss' }
  }
  const gwPeaks = r.cases.filter((c) => c.id.startsWith('gateway') && c.server).map((c) => c.server!.peakRssBytes)
  const peak = gwPeaks.length ? Math.max(...gwPeaks) : undefined
  return [
    ratio('gateway-public', undici, 1.0, 'public route ÷ bare undici'),
    { what: 'cookie path ÷ bare undici', goal: '≥ 1.0', measured: '—', verdict: 'not measured' },
    { what: 'ticket path ÷ bare undici', goal: '≥ 1.0', measured: '—', verdict: 'not measured' },
    ratio('gateway-es256', hp3, 0.7, 'ES256 proof per request ÷ bare http-proxy-3'),
    ratio('gateway-ed25519', hp3, 0.55, 'Ed25519 proof per request ÷ bare http-proxy-3'),
    r.acl
      ? { what: 'ACL decision, 10,000 rules vs 10', goal: '≤ +3%', measured: `${r.acl.ratio >= 1 ? '+' : ''}${((r.acl.ratio - 1) * 100).toFixed(1)}%`, verdict: r.acl.ratio <= 1.03 ? 'hit' : 'miss' }
      : { what: 'ACL decision, 10,000 rules vs 10', goal: '≤ +3%', measured: '—', verdict: 'not measured' },
    peak === undefined
      ? { what: 'gateway peak RSS under load', goal: '≤ 150 MB', measured: '—', verdict: 'not measured' }
      : { what: 'gateway peak RSS under load', goal: '≤ 150 MB', measured: `${mb(peak)} MB`, verdict: peak <= 150 * 1048576 ? 'hit' : 'miss' },
  ]
}

export function caseTable(cases: readonly CaseResult[]): string {
  const hp3 = rps(cases, 'http-proxy-3'), undici = rps(cases, 'undici')
  const rows = ['| case | req/s | p50 ms | p99 ms | ÷ http-proxy-3 | ÷ undici | proxy CPU µs/req | proxy peak RSS MB | failed |', '|---|---:|---:|---:|---:|---:|---:|---:|---:|']
  for (const c of cases) {
    if (c.skipped || c.error || !c.load) {
      rows.push(`| ${c.name} | ${c.skipped ? `skipped: ${c.skipped}` : `error: ${(c.error ?? '').split('\n')[0]}`} | | | | | | | |`)
      continue
    }
    const l = c.load
    const cpu = c.server && Number.isFinite(c.server.cpuSec) && l.requests ? f0((c.server.cpuSec * 1e6) / l.requests) : '—'
    rows.push(`| ${c.name} | ${f0(l.rps)} | ${f2(l.p50Ms)} | ${f2(l.p99Ms)} | ${hp3 ? f2(l.rps / hp3) : '—'} | ${undici ? f2(l.rps / undici) : '—'} | ${cpu} | ${c.server ? mb(c.server.peakRssBytes) : '—'} | ${l.badStatus + l.socketErrors} |`)
  }
  return rows.join('\n')
}

export function toMarkdown(r: Report): string {
  const i = r.info
  const out: string[] = []
  out.push(`# popgate bench — ${i.date}`, '')
  out.push(`Machine: ${i.cpus} × ${i.cpuModel}, Node ${i.node}, load average at start ${i.loadAverage.map((x) => x.toFixed(2)).join(' ')}.`)
  out.push(`Command: \`${i.command}\`. Load: ${i.loadGenerator}, ${i.connections} connections, ${i.durationSec} s per case after ${i.warmupSec} s warm-up.`)
  out.push(`Per-request proofs: pre-generated before the timed run (${f0(i.proofRatePerSec)}/s × duration, unique jti each, ${i.proofThreads} worker threads), so signing is not in the load generator.`, '')
  out.push(caseTable(r.cases), '')
  out.push('Ratios: req/s of the row ÷ req/s of the baseline row in this same run. "proxy" = the process under test (the upstream itself in the first row; nginx master + worker). "failed" = non-2xx/3xx responses + socket errors; must be 0.', '')
  out.push('## Targets (issue "Performance")', '', '| target | goal | measured | |', '|---|---|---|---|')
  for (const t of targets(r)) out.push(`| ${t.what} | ${t.goal} | ${t.measured} | ${t.verdict} |`)
  const nginx = rps(r.cases, 'nginx'), hp3 = rps(r.cases, 'http-proxy-3'), undici = rps(r.cases, 'undici')
  if (nginx && hp3 && undici) out.push('', `nginx for scale: ${f2(nginx / hp3)} × http-proxy-3, ${f2(nginx / undici)} × undici.`)
  if (r.acl) {
    out.push('', `## ACL decision cost (matchRule + authorize; best of ${r.acl.rounds} rounds × ${f0(r.acl.decisionsPerRound)} decisions)`, '', '| ACL | ns/decision (best) | ns/decision (median) |', '|---|---:|---:|')
    for (const row of r.acl.rows) out.push(`| ${row.label} | ${row.nsPerDecision.toFixed(1)} | ${row.medianNs.toFixed(1)} |`)
    out.push('', `10,000 ÷ 10 rules, same requests: ${r.acl.ratio.toFixed(3)}.`)
    const gw = r.cases.find((c) => c.id === 'gateway-public')
    if (gw?.server && gw.load?.requests && Number.isFinite(gw.server.cpuSec)) {
      const reqNs = (gw.server.cpuSec * 1e9) / gw.load.requests
      const extra = r.acl.rows[1]!.nsPerDecision - r.acl.rows[0]!.nsPerDecision
      out.push(`The extra ${extra.toFixed(1)} ns per decision is ${((extra / reqNs) * 100).toFixed(2)}% of the gateway's CPU time per public-route request (${f0(reqNs / 1000)} µs) in this run.`)
    }
  }
  if (r.verify) {
    const algs = r.verify.algorithms
    out.push('', `## Proof signature verification (ops/s, ${r.verify.msPerMeasurement} ms per measurement)`, '', `| method | ${algs.join(' | ')} | ${algs.map((a) => `÷ jose 1-at-a-time (${a})`).join(' | ')} |`, `|---|${algs.map(() => '---:').join('|')}|${algs.map(() => '---:').join('|')}|`)
    const base = r.verify.rows[0]!.opsPerSec
    for (const row of r.verify.rows) out.push(`| ${row.method} | ${algs.map((a) => f0(row.opsPerSec[a]!)).join(' | ')} | ${algs.map((a) => f2(row.opsPerSec[a]! / base[a]!)).join(' | ')} |`)
  }
  if (r.profiles?.length) {
    out.push('', '## Gateway CPU profile (top self time, busy time only)')
    for (const p of r.profiles) {
      out.push('', `${p.caseId} (\`${p.file}\`, ${f0(p.busyMs)} ms busy):`, '', '| self % | self ms | function | where |', '|---:|---:|---|---|')
      for (const t of p.top) out.push(`| ${(t.share * 100).toFixed(1)} | ${f0(t.ms)} | ${t.fn} | ${t.where} |`)
    }
  }
  return out.join('\n') + '\n'
}
