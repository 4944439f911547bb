// Per-request costs of two additions, measured alone (docs/benchmarks.md,
// "Metrics" and "Upstream assertion"); the load cases measure them in the
// gateway (BENCH_CASES=gateway-public,gateway-public-no-metrics and gateway-es256-assertion).
//
//   metrics   — one request's recordExchange (the prom-client series and the
//               admin page's recent view), and nothing
//   assertion — one X-PoP-Assertion: proxy/assertion.ts (node:crypto sign,
//               precomputed header) against jose's SignJWT
//
// Reported as CPU µs per operation (process.cpuUsage), which a busy machine
// disturbs less than wall time; best of ROUNDS.
//
//   npm run build && node dist/bench/micro/metrics-assertion.js

import { SignJWT } from 'jose'
import { benchMetrics, type MetricsMode } from '../lib/metrics-modes.js'
import { createAssertionSigner } from '../../src/proxy/assertion.js'
import { generateAssertionKey } from '../../src/secrets/assertion-keys.js'
import type { Principal } from '../../src/schemes/types.js'

const ROUNDS = 5

function cpuUsPerOp(n: number, fn: (i: number) => void): number {
  let best = Infinity
  for (let r = 0; r < ROUNDS; r++) {
    const before = process.cpuUsage()
    for (let i = 0; i < n; i++) fn(i)
    const d = process.cpuUsage(before)
    best = Math.min(best, (d.user + d.system) / n)
  }
  return best
}

async function cpuUsPerOpAsync(n: number, fn: () => Promise<unknown>): Promise<number> {
  let best = Infinity
  for (let r = 0; r < ROUNDS; r++) {
    const before = process.cpuUsage()
    for (let i = 0; i < n; i++) await fn()
    const d = process.cpuUsage(before)
    best = Math.min(best, (d.user + d.system) / n)
  }
  return best
}

export function metricsMicro(): Record<MetricsMode, number> {
  const out = {} as Record<MetricsMode, number>
  const exchanges = (['public', 'allow'] as const).map((decision) => ({ method: 'GET', path: '/p', decision, code: undefined, ruleId: 'r', identity: decision === 'allow' ? 'alice.test' : undefined, claimed: undefined, scheme: decision === 'allow' ? 'domainpop' : undefined }))
  for (const mode of ['on', 'none'] as const) {
    const m = benchMetrics(mode)
    out[mode] = cpuUsPerOp(500_000, (i) => {
      m.recordExchange(exchanges[i & 1]!, 200, 0.002 + (i % 5) * 0.001, 0.001 + (i % 5) * 0.001)
    })
  }
  return out
}

export async function assertionMicro(): Promise<{ nodeCrypto: number; joseSignJwt: number }> {
  const key = generateAssertionKey('a1')
  const signer = createAssertionSigner([key], { issuer: 'https://gw.bench', audience: 'http://127.0.0.1:3000' })
  const p: Principal = { identity: 'alice.test', method: 'domainpop', thumbprint: 'NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs', confirmation: {}, channelBound: false, token: undefined, responseHeaders: undefined }
  const nodeCrypto = cpuUsPerOp(20_000, () => { signer.sign(p, 'GET', '/api/data', 'rule-1', Date.now()) })
  const joseSignJwt = await cpuUsPerOpAsync(20_000, () => new SignJWT({ auth_method: p.method, cnf: { jkt: p.thumbprint }, rule: 'rule-1', htm: 'GET', htu: 'https://gw.bench/api/data' })
    .setProtectedHeader({ alg: 'ES256', typ: 'popgate-assertion+jwt', kid: 'a1' })
    .setIssuer('https://gw.bench').setSubject(p.identity).setAudience('http://127.0.0.1:3000')
    .setIssuedAt().setExpirationTime('60s').setJti(crypto.randomUUID())
    .sign(key.privateKey))
  return { nodeCrypto, joseSignJwt }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const m = metricsMicro()
  const a = await assertionMicro()
  const f = (v: number) => v.toFixed(3)
  process.stdout.write([
    'metrics, one request\'s recordExchange (prom-client series + the admin page\'s recent view), CPU µs:',
    `  on ${f(m.on)}   none ${f(m.none)}`,
    'assertion, one signed JWT, CPU µs:',
    `  node:crypto (proxy/assertion.ts) ${f(a.nodeCrypto)}   jose SignJWT ${f(a.joseSignJwt)}`,
    '',
  ].join('\n'))
}
