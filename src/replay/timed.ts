// A ReplayStore that reports each first-use check's latency and result
// (metrics.ts popgate_replay_store_duration_seconds): `first_use`,
// `replay`, or `error` when the store could not answer. Behaviour is the
// wrapped store's, unchanged.

import { performance } from 'node:perf_hooks'
import type { ReplayStore } from './types.js'

export type ReplayResult = 'first_use' | 'replay' | 'error'

export function timeReplayStore(store: ReplayStore, report: (result: ReplayResult, seconds: number) => void): ReplayStore {
  return {
    async firstUse(key, ttlMs) {
      const start = performance.now()
      let result: ReplayResult = 'error'
      try {
        const first = await store.firstUse(key, ttlMs)
        result = first ? 'first_use' : 'replay'
        return first
      } finally {
        report(result, (performance.now() - start) / 1e3)
      }
    },
    healthy: () => store.healthy(),
    close: () => store.close(),
  }
}
