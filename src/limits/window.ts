// A sliding-window counter per key (two fixed windows, weighted), bounded in
// the number of keys it remembers. Used for the abuse limits: failed
// authentications per client address and per claimed identity, and distinct
// identity domains fetched per minute. O(1) per call, no timers.

export interface RateWindow {
  /** Counts one event for `key`. */
  hit(key: string, nowMs: number): void
  /** 0 when `key` is under its limit, else seconds until it will be. */
  retryAfterSec(key: string, nowMs: number): number
  /** Distinct keys seen in the current window. */
  readonly size: number
}

export function createRateWindow(opts: { limit: number; windowMs?: number; maxKeys?: number }): RateWindow {
  const windowMs = opts.windowMs ?? 60_000
  const maxKeys = opts.maxKeys ?? 100_000
  let windowStart = 0
  let current = new Map<string, number>()
  let previous = new Map<string, number>()

  const roll = (nowMs: number) => {
    const start = nowMs - (nowMs % windowMs)
    if (start === windowStart) return
    previous = start - windowStart === windowMs ? current : new Map()
    current = new Map()
    windowStart = start
  }
  const estimate = (key: string, nowMs: number) => {
    const weight = 1 - (nowMs - windowStart) / windowMs
    return (previous.get(key) ?? 0) * weight + (current.get(key) ?? 0)
  }
  return {
    hit(key, nowMs) {
      roll(nowMs)
      // Memory bound: past maxKeys distinct keys, forget the previous window early
      // (limits then err toward letting a few more failures through, never fewer successes).
      if (current.size >= maxKeys && !current.has(key)) { previous = current; current = new Map() }
      current.set(key, (current.get(key) ?? 0) + 1)
    },
    retryAfterSec(key, nowMs) {
      roll(nowMs)
      if (estimate(key, nowMs) < opts.limit) return 0
      return Math.max(1, Math.ceil((windowStart + windowMs - nowMs) / 1000))
    },
    get size() { return current.size },
  }
}
