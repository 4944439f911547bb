// Runs autocannon in its own process (so it does not share an event loop
// with any server) and sends the result to the parent over IPC. With a
// header file, every request gets the next pre-generated value.

import { readFileSync } from 'node:fs'
import autocannon, { type RequestSpec } from 'autocannon'
import type { LoadOptions } from '../lib/types.js'
import { applyLine, lineHeaders } from './header-line.js'

process.once('message', async (opts: LoadOptions) => {
  try {
    let requests: RequestSpec[] | undefined
    if (opts.headerFile) {
      const values = readFileSync(opts.headerFile.file, 'utf8').split('\n').filter(Boolean)
      const names = lineHeaders(opts.headerFile)
      const fixed = opts.headerFile.fixed ?? {}
      let next = 0
      requests = [{
        method: 'GET',
        setupRequest: (req) => {
          // Out of values: reuse from the top; the gateway refuses these as replays (counted as non-2xx).
          if (next === values.length) next = 0
          return { ...req, headers: applyLine({ ...req.headers, ...fixed }, names, values[next++]!) }
        },
      }]
    }
    // TLS cases: the client certificate, when the case presents one (autocannon skips server verification itself).
    const c = opts.client
    const tlsOptions = c?.certFile !== undefined ? { cert: readFileSync(c.certFile), key: readFileSync(c.keyFile!) } : undefined
    const r = await autocannon({ url: opts.url, connections: opts.connections, duration: opts.durationSec, requests, ...(tlsOptions ? { tlsOptions } : {}), ...(opts.ratePerSec ? { overallRate: opts.ratePerSec } : {}) })
    process.send!({ ok: true, result: r })
  } catch (err) {
    process.send!({ ok: false, error: String((err as Error).stack ?? err) })
  }
})
