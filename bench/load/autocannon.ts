// Load with autocannon (the devDependency), used when wrk is not installed.
// Same connections and duration as wrk; runs in a forked node process.

import { fork } from 'node:child_process'
import type { Result } from 'autocannon'
import type { LoadOptions, LoadResult } from '../lib/types.js'

const CHILD = new URL('./autocannon-child.js', import.meta.url)

export function runAutocannon(opts: LoadOptions): Promise<LoadResult> {
  const child = fork(CHILD, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`autocannon child exited with ${code}`)))
    child.once('message', (m: { ok: boolean; result?: Result; error?: string }) => {
      child.removeAllListeners('exit')
      child.disconnect()
      if (!m.ok || !m.result) return reject(new Error(`autocannon failed: ${m.error}`))
      const r = m.result
      resolve({
        tool: 'autocannon', requests: r.requests.total, durationSec: r.duration, rps: r.requests.total / r.duration,
        p50Ms: r.latency.p50, p99Ms: r.latency.p99, p999Ms: r.latency.p99_9, badStatus: r.non2xx, socketErrors: r.errors + r.timeouts,
      })
    })
    child.send(opts)
  })
}
