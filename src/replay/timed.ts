// A ReplayStore that reports each first-use check's latency and result
// (metrics.ts popgate_replay_store_duration_seconds): `first_use`,
// `replay`, or `error` when the store could not answer; when tracing is on,
// each check is a child span of the request (src/tracing/). Behaviour is
// the wrapped store's, unchanged.

import { performance } from 'node:perf_hooks'
import type { ReplayStore } from './types.js'
import { childSpan } from '../tracing/context.js'

export type ReplayResult = 'first_use' | 'replay' | 'error'

const describe = (first: boolean) => ({ 'popgate.replay.result': first ? 'first_use' : 'replay' })

export function timeReplayStore(store: ReplayStore, report: (result: ReplayResult, seconds: number) => void): ReplayStore {
  async function firstUse(key: string, ttlMs: number): Promise<boolean> {
    const start = performance.now()
    let result: ReplayResult = 'error'
    try {
      const first = await store.firstUse(key, ttlMs)
      result = first ? 'first_use' : 'replay'
      return first
    } finally {
      report(result, (performance.now() - start) / 1e3)
    }
  }
  return {
    firstUse: (key, ttlMs) => childSpan('popgate.replay_store', {}, () => firstUse(key, ttlMs), describe),
    healthy: () => store.healthy(),
    close: () => store.close(),
  }
}
