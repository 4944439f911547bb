// Load over HTTP/2 (ALPN h2) for the gateway's TLS listener: neither wrk nor
// autocannon speaks h2. `connections` sessions, each with one stream in
// flight at a time (as autocannon's one request per connection), for the
// duration; latency from the stream's request to its end. Runs in a forked
// node process (h2-child.ts), like autocannon.

import { fork } from 'node:child_process'
import type { LoadOptions, LoadResult } from '../lib/types.js'

const CHILD = new URL('./h2-child.js', import.meta.url)

export function runH2Load(opts: LoadOptions): Promise<LoadResult> {
  const child = fork(CHILD, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`h2 load child exited with ${code}`)))
    child.once('message', (m: { ok: boolean; result?: LoadResult; error?: string }) => {
      child.removeAllListeners('exit')
      child.disconnect()
      if (!m.ok || !m.result) return reject(new Error(`h2 load failed: ${m.error}`))
      resolve(m.result)
    })
    child.send(opts)
  })
}
