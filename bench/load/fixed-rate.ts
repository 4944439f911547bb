// The fixed-rate latency case's driver: forks fixed-rate-child.js (its own
// process, like the other load generators) and returns its percentiles.

import { fork } from 'node:child_process'
import type { LoadOptions } from '../lib/types.js'
import type { FixedRateResult } from './fixed-rate-child.js'

const CHILD = new URL('./fixed-rate-child.js', import.meta.url)

export function runFixedRate(opts: LoadOptions & { ratePerSec: number }): Promise<FixedRateResult> {
  const child = fork(CHILD, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`fixed-rate child exited with ${code}`)))
    child.once('message', (m: { ok: boolean; result?: FixedRateResult; error?: string }) => {
      child.removeAllListeners('exit')
      child.disconnect()
      if (!m.ok || !m.result) return reject(new Error(`fixed-rate load failed: ${m.error}`))
      resolve(m.result)
    })
    child.send(opts)
  })
}
