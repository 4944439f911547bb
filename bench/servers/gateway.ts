// Cases 5–7: the real gateway (startGateway) in its own process, with the
// production logger pointed at /dev/null: access lines are still built,
// serialized and written (the honest setting), just not kept.
// argv: <config file>

import { pino } from 'pino'
import { startGateway } from '../../src/server.js'
import { createLogger } from '../../src/log.js'
import { createMetrics } from '../../src/admin/metrics.js'
import { serveChild } from '../lib/child-main.js'

serveChild(async ([configFile]) => {
  // Same stream settings as createLogger's default (async SonicBoom), different fd.
  const log = createLogger('info', pino.destination({ dest: '/dev/null', sync: false }))
  const gw = await startGateway(configFile!, { env: {}, log, metrics: createMetrics(), watch: false })
  return { port: gw.http.port, close: () => gw.close() }
})
