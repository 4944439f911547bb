// The h2 load generator's process (h2.ts): node:http2 sessions to the URL,
// one stream in flight per session, per-request header values as the
// autocannon child takes them (a file, in order), the client certificate
// when the case presents one; the server certificate is not verified (the
// test CA), as autocannon does not verify either.

import http2 from 'node:http2'
import { readFileSync } from 'node:fs'
import type { LoadOptions, LoadResult } from '../lib/types.js'

process.once('message', async (opts: LoadOptions) => {
  try {
    process.send!({ ok: true, result: await run(opts) })
  } catch (err) {
    process.send!({ ok: false, error: String((err as Error).stack ?? err) })
  }
})

async function run(opts: LoadOptions): Promise<LoadResult> {
  const url = new URL(opts.url)
  const c = opts.client
  const tls = { rejectUnauthorized: false, ...(c?.certFile ? { cert: readFileSync(c.certFile), key: readFileSync(c.keyFile!) } : {}) }
  const values = opts.headerFile ? readFileSync(opts.headerFile.file, 'utf8').split('\n').filter(Boolean) : []
  let next = 0
  const latenciesMs: number[] = []
  let badStatus = 0, socketErrors = 0
  const start = process.hrtime.bigint()
  const endAt = start + BigInt(Math.round(opts.durationSec * 1e9))
  const path = url.pathname + url.search

  const session = async () => {
    const s = http2.connect(url.origin, tls)
    s.on('error', () => { socketErrors++ })
    await new Promise<void>((resolve, reject) => { s.once('connect', () => resolve()); s.once('error', reject) })
    while (process.hrtime.bigint() < endAt && !s.destroyed) {
      const headers: http2.OutgoingHttpHeaders = { ':path': path, ':method': 'GET', ...(opts.headerFile?.fixed ?? {}) }
      if (opts.headerFile) {
        if (next === values.length) next = 0
        headers[opts.headerFile.header.toLowerCase()] = values[next++]!
      }
      const t0 = process.hrtime.bigint()
      await new Promise<void>((resolve) => {
        const st = s.request(headers)
        st.on('response', (h) => { const status = Number(h[':status']); if (status < 200 || status > 299) badStatus++ })
        st.on('data', () => {})
        st.on('end', () => { latenciesMs.push(Number(process.hrtime.bigint() - t0) / 1e6); resolve() })
        st.on('error', () => { socketErrors++; resolve() })
        st.end()
      })
    }
    s.close()
  }
  await Promise.all(Array.from({ length: opts.connections }, session))
  const durationSec = Number(process.hrtime.bigint() - start) / 1e9
  latenciesMs.sort((a, b) => a - b)
  const pct = (p: number) => latenciesMs.length === 0 ? 0 : latenciesMs[Math.min(latenciesMs.length - 1, Math.floor(p * latenciesMs.length))]!
  return {
    tool: 'h2', requests: latenciesMs.length, durationSec, rps: latenciesMs.length / durationSec,
    p50Ms: pct(0.5), p99Ms: pct(0.99), p999Ms: pct(0.999), badStatus, socketErrors,
  }
}
