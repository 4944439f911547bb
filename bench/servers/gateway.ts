// Cases 5–7: the real gateway (startGateway) in its own process, with the
// production logger pointed at /dev/null: access lines are still built,
// serialized and written (the honest setting), just not kept.
// argv: <config file>
//
// BENCH_GATEWAY_LOG=sync|buffered swaps the destination's write mode, and
// =discard drops lines after pino has serialized them (no write at all), to
// tell the cost of writing from the cost of building the line.

import { pino } from 'pino'
import { startGateway } from '../../src/server.js'
import { createLogger } from '../../src/log.js'
import { createMetrics } from '../../src/admin/metrics.js'
import { serveChild } from '../lib/child-main.js'

serveChild(async ([configFile]) => {
  // Default: the same stream settings as createLogger's own (async SonicBoom), different fd.
  const mode = process.env.BENCH_GATEWAY_LOG
  const dest = mode === 'sync' ? { sync: true } : mode === 'buffered' ? { sync: false, minLength: 4096 } : { sync: false }
  const log = createLogger('info', mode === 'discard' ? { write: () => {} } : pino.destination({ dest: '/dev/null', ...dest }))
  const gw = await startGateway(configFile!, { env: {}, log, metrics: createMetrics(), watch: false })
  return { port: gw.http.port, close: () => gw.close() }
})
