// One call in flight per key (issue 24): concurrent callers asking for the
// same key while a call is under way share its promise, so 50 first requests
// with one new token cost one introspection, not 50 (lua-resty-openidc #573).
// Per replica; the shared Redis cache (shared-cache.ts) spreads answers
// across replicas. The entry is gone once the call settles, success or not:
// a failure is not remembered here (the negative cache decides that).

export interface SingleFlight<V> {
  /** `call()`'s promise, or the one already running for `key`. */
  run(key: string, call: () => Promise<V>): Promise<V>
  /** Calls under way (tests, gauges). */
  readonly inFlight: number
}

export function createSingleFlight<V>(): SingleFlight<V> {
  const running = new Map<string, Promise<V>>()
  return {
    run(key, call) {
      const current = running.get(key)
      if (current !== undefined) return current
      let p: Promise<V>
      try {
        p = call()
      } catch (err) {
        return Promise.reject(err)
      }
      const done = p.finally(() => { if (running.get(key) === done) running.delete(key) })
      running.set(key, done)
      return done
    },
    get inFlight() { return running.size },
  }
}
