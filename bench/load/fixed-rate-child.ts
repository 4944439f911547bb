// A fixed-rate load generator for the latency case (`node fixed-rate-child.js`,
// driven over IPC like autocannon-child.ts): requests are *scheduled* at
// `ratePerSec` over an undici Pool (a 1 ms timer hands out the requests due),
// and each one's latency is measured from when it was handed to the pool, not
// from when a connection was free to send it: the pool's queue is inside the
// measurement, so a stall shows up in the percentiles instead of lowering the
// rate (coordinated omission). The timer's own lateness is left out (it would
// add up to a millisecond to every case alike). Microsecond resolution:
// autocannon's histogram counts whole milliseconds, too coarse for a 2 ms target.

import { readFileSync } from 'node:fs'
import { Pool } from 'undici'
import type { LoadOptions } from '../lib/types.js'
import { applyLine, lineHeaders } from './header-line.js'

export interface FixedRateResult {
  readonly sent: number
  readonly ok: number
  readonly failed: number
  readonly durationSec: number
  /** Microseconds from the request handed to the pool to the end of the response body. */
  readonly p50Us: number
  readonly p99Us: number
  readonly p999Us: number
}

const percentile = (sorted: Float64Array, p: number): number => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN

async function run(opts: LoadOptions & { ratePerSec: number }): Promise<FixedRateResult> {
  const url = new URL(opts.url)
  const pool = new Pool(url.origin, { connections: opts.connections, pipelining: 1 })
  const values = opts.headerFile ? readFileSync(opts.headerFile.file, 'utf8').split('\n').filter(Boolean) : undefined
  const names = opts.headerFile ? lineHeaders(opts.headerFile) : []
  const total = Math.floor(opts.ratePerSec * opts.durationSec)
  const latencies = new Float64Array(total)
  let done = 0, ok = 0, failed = 0, sent = 0
  const t0 = process.hrtime.bigint()
  const nowUs = () => Number(process.hrtime.bigint() - t0) / 1e3
  const one = (i: number): void => {
    const startUs = nowUs()
    const headers: Record<string, string> = { ...opts.headerFile?.fixed }
    if (values) applyLine(headers, names, values[i % values.length]!)
    pool.request({ method: 'GET', path: url.pathname + url.search, headers })
      .then(async (res) => {
        await res.body.dump()
        if (res.statusCode < 400) ok++
        else failed++
      }, () => { failed++ })
      .finally(() => { latencies[i] = nowUs() - startUs; done++ })
  }
  await new Promise<void>((resolve) => {
    const tick = () => {
      const due = Math.min(total, Math.floor((nowUs() / 1e6) * opts.ratePerSec) + 1)
      while (sent < due) one(sent++)
      if (sent < total) setTimeout(tick, 1)
      else resolve()
    }
    tick()
  })
  while (done < total) await new Promise((r) => setTimeout(r, 5))
  const durationSec = nowUs() / 1e6
  await pool.close()
  const sorted = latencies.sort()
  return { sent, ok, failed, durationSec, p50Us: percentile(sorted, 50), p99Us: percentile(sorted, 99), p999Us: percentile(sorted, 99.9) }
}

process.once('message', (opts: LoadOptions & { ratePerSec: number }) => {
  run(opts).then(
    (result) => process.send!({ ok: true, result }),
    (err: unknown) => process.send!({ ok: false, error: String((err as Error).stack ?? err) }),
  )
})
