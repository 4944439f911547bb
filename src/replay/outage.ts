// Turns a stream of store failures and successes into one log line and one
// count per outage, and one log line per recovery, however many requests
// fail in between (a dead Redis under load would otherwise log per request).

import type { Logger } from '../log.js'

/** Why the store could not answer: no connection, no answer in time, or an error reply (full, READONLY, NOAUTH...). */
export type OutageReason = 'unreachable' | 'timeout' | 'error'

export interface OutageLog {
  down(reason: OutageReason, err?: unknown): void
  up(): void
  readonly isDown: boolean
}

export function createOutageLog(log: Logger, count: (reason: OutageReason) => void, store: string): OutageLog {
  let down = false
  return {
    get isDown() { return down },
    down(reason, err) {
      if (down) return
      down = true
      count(reason)
      // The message only: a client's error can carry its options, and a URL with a password.
      const detail = err instanceof Error ? err.message : undefined
      log.error({ store, reason, detail }, 'replay store unavailable: proofs are refused with 503 until it answers again')
    },
    up() {
      if (!down) return
      down = false
      log.info({ store }, 'replay store answering again')
    },
  }
}
