// Wraps a ReplayStore so no request waits on it for long (issue "Credential
// schemes behind one seam", replay store): each `firstUse` and `healthy` call
// gets a deadline. A store that does not answer in time, or fails in any
// other way, becomes GatewayError('replay_store_unavailable') with
// Retry-After, i.e. 503: a proof is never accepted unchecked (fail closed).
//
// Reads: the inner store and the clock (`timers`, injectable for tests).
// Throws: only GatewayError('replay_store_unavailable') from firstUse.

import { GatewayError, isGatewayError } from '../errors.js'
import type { OutageLog } from './outage.js'
import type { ReplayStore } from './types.js'

/** What a 503 from the replay store asks the client to wait: short, since a load balancer may route the retry to a healthy path. */
export const REPLAY_RETRY_AFTER_SEC = 1

export interface Timers {
  setTimeout(fn: () => void, ms: number): unknown
  clearTimeout(handle: unknown): void
}

const realTimers: Timers = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
}

export interface DeadlineOptions {
  readonly timeoutMs: number
  readonly timers?: Timers
  /** Told about each failure and success, to log outages once (outage.ts). */
  readonly outages?: OutageLog
  /** False when the store belongs to someone else (a test's injected store): close() then leaves it open. */
  readonly closeInner?: boolean
}

const unavailable = (detail: string, cause?: unknown) => new GatewayError('replay_store_unavailable', detail, { cause, retryAfterSec: REPLAY_RETRY_AFTER_SEC })

export function withDeadline(store: ReplayStore, opts: DeadlineOptions): ReplayStore {
  const timers = opts.timers ?? realTimers
  const outages = opts.outages

  /** Settles with `work`, or rejects with `onLate()` after timeoutMs. */
  function race<T>(work: Promise<T>, onLate: () => Error): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      let settled = false
      const timer = timers.setTimeout(() => {
        if (settled) return
        settled = true
        reject(onLate())
      }, opts.timeoutMs)
      work.then(
        (v) => { if (!settled) { settled = true; timers.clearTimeout(timer); resolve(v) } },
        (e) => { if (!settled) { settled = true; timers.clearTimeout(timer); reject(e) } },
      )
    })
  }

  return {
    async firstUse(key, ttlMs) {
      let first: boolean
      try {
        first = await race(store.firstUse(key, ttlMs), () => {
          outages?.down('timeout')
          return unavailable(`the replay store did not answer within ${opts.timeoutMs} ms`)
        })
      } catch (err) {
        if (isGatewayError(err) && err.code === 'replay_store_unavailable' && err.retryAfterSec !== undefined) throw err
        outages?.down('error', err)
        throw unavailable(isGatewayError(err) && err.code === 'replay_store_unavailable' ? err.detail : 'the replay store failed', err)
      }
      outages?.up()
      return first
    },
    async healthy() {
      try {
        return await race(store.healthy(), () => new Error('timeout'))
      } catch {
        return false
      }
    },
    async close() {
      if (opts.closeInner !== false) await store.close()
    },
  }
}
