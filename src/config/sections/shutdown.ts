// Section `shutdown`: how the process stops (server.ts drain, cli/serve.ts).
// On SIGTERM/SIGINT the gateway reports not ready, stops accepting, and gives
// the requests and WebSockets it is carrying up to `drainTimeout` to finish.
// It must fit inside the pod's terminationGracePeriodSeconds (docs/kubernetes.md).

import type { Config } from '../types.js'
import { Section, duration } from '../readers.js'

export function readShutdown(root: Section): Config['shutdown'] {
  const s = root.sub('shutdown', ['drainTimeout'])
  // 0s: cut what is in flight at once (still closing the listeners first).
  return { drainTimeoutMs: s.get('drainTimeout', duration({ allowZero: true }), 20_000) }
}
