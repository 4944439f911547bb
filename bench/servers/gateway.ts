// Cases 5–7: the real gateway (startGateway) in its own process, with the
// production logger pointed at /dev/null: access lines are still built,
// serialized and written (the honest setting), just not kept.
// argv: <config file> [log mode] [metrics mode]
//
// A second argument (or BENCH_GATEWAY_LOG) swaps the production destination
// (createDestination: batched, synchronous writes) for another write mode:
// async (the same batches written on libuv's thread pool), sync (pino's
// default: one synchronous write per line), unbatched (one asynchronous write
// per line), or discard (lines built, never written), to tell the cost of
// writing from the cost of building the line. A third argument picks the
// metrics on the hot path (bench/lib/metrics-modes.ts): on (the default) or
// none.
//
// BENCH_HEAP=1: the process samples its memory every 50 ms (RSS, V8's heap
// spaces, external and ArrayBuffer memory) and prints the peak of each to
// stderr when it exits, to tell where peak RSS under load goes.

import { pino } from 'pino'
import { startGateway } from '../../src/server.js'
import { createLogger, createDestination } from '../../src/log.js'
import { benchMetrics, type MetricsMode } from '../lib/metrics-modes.js'
import { serveChild } from '../lib/child-main.js'
import { getHeapSpaceStatistics } from 'node:v8'

if (process.env.BENCH_HEAP === '1') {
  const peak: Record<string, number> = {}
  const keep = (k: string, v: number) => { if (v > (peak[k] ?? 0)) peak[k] = v }
  setInterval(() => {
    const m = process.memoryUsage()
    keep('rss', m.rss); keep('heapTotal', m.heapTotal); keep('heapUsed', m.heapUsed); keep('external', m.external); keep('arrayBuffers', m.arrayBuffers)
    for (const s of getHeapSpaceStatistics()) keep(`space:${s.space_name}`, s.space_size)
  }, 50).unref()
  process.on('exit', () => {
    const mb = Object.fromEntries(Object.entries(peak).map(([k, v]) => [k, Math.round(v / 1048576 * 10) / 10]))
    process.stderr.write(`[heap ${process.argv[2] ?? ''}] peak MB ${JSON.stringify(mb)}\n`)
  })
}

serveChild(async ([configFile, logMode, metricsMode]) => {
  // Default: createLogger's own destination, pointed at /dev/null.
  const mode = logMode || process.env.BENCH_GATEWAY_LOG
  const dest = mode === 'discard' ? { write: () => {} }
    : mode === 'sync' ? pino.destination({ dest: '/dev/null', sync: true })
      : mode === 'unbatched' ? pino.destination({ dest: '/dev/null', sync: false })
        : mode === 'async' ? createDestination('/dev/null', { sync: false })
          : createDestination('/dev/null')
  const log = createLogger('info', dest)
  const gw = await startGateway(configFile!, { env: {}, log, metrics: benchMetrics((metricsMode || 'on') as MetricsMode), watch: false })
  // A config with a TLS listener (the TLS, HTTP/2 and mTLS cases): that is the port under test.
  return { port: gw.https?.port ?? gw.http.port, close: () => gw.close() }
})
