// What the gate did recently, for the admin page (admin/page.ts): requests,
// refusals and latency per second over the last minutes, the identities with
// the most requests and refusals, the last refusals and the last reloads.
// Fed by metrics.ts recordExchange from the same exchange record as the
// Prometheus series, so the page and /metrics agree.
//
// Bounded: a ring of seconds, a ring of refusals, a ring of reloads, and an
// identity table of at most MAX_IDENTITIES (new names are not added when it
// is full; every minute counts are halved and the ones that reach 0 leave,
// so a burst of strangers cannot keep it full). Never a credential: the
// facts recorded are the access line's (method, path, code, rule, identity).
// Per request: a few integer writes, one Math.log for the latency bucket,
// one Map lookup; a refusal also writes one ring slot.

import type { DecisionDiff, RuleChanges } from '../acl/index.js'

/** The part of an exchange the page shows (pipeline/exchange.ts Exchange has these members). */
export interface ExchangeFacts {
  readonly method: string
  readonly path: string | undefined
  readonly decision: string | undefined
  readonly code: string | undefined
  readonly ruleId: string | undefined
  readonly identity: string | undefined
  /** Claimed by a credential, never verified: shown as such. */
  readonly claimed: string | undefined
  readonly scheme: string | undefined
}

export interface SecondSample {
  /** Start of the second, ms since the epoch. */
  readonly at: number
  readonly requests: number
  readonly refusals: number
  /** Upper bound of the latency bucket holding the median and the 99th percentile, ms (0 with no requests). */
  readonly p50Ms: number
  readonly p99Ms: number
}

export interface IdentityCount { readonly identity: string; readonly verified: boolean; readonly requests: number; readonly refusals: number }

export interface Refusal {
  readonly at: number
  readonly method: string
  readonly path: string
  readonly status: number
  readonly code: string
  readonly rule: string | undefined
  /** The proven identity, else the claimed one (verified false), else undefined. */
  readonly identity: string | undefined
  readonly verified: boolean
  readonly scheme: string | undefined
}

export interface ReloadRecord {
  readonly at: number
  readonly reason: string
  readonly result: 'ok' | 'invalid'
  /** For an invalid reload: the problems, `file:line:col message`. */
  readonly problems?: readonly string[]
  /** For an accepted reload: the ACL rules changed and the recent decisions that flip. */
  readonly acl?: RuleChanges & DecisionDiff
}

export interface ActivitySnapshot {
  readonly seconds: readonly SecondSample[]
  readonly topByRequests: readonly IdentityCount[]
  readonly topByRefusals: readonly IdentityCount[]
  readonly refusals: readonly Refusal[]
  readonly reloads: readonly ReloadRecord[]
}

export interface Activity {
  record(ex: ExchangeFacts, decision: string, status: number, seconds: number): void
  reload(entry: ReloadRecord): void
  /** Closes the current second (the timer calls it every second; tests may call it). */
  tick(): void
  snapshot(top?: number): ActivitySnapshot
}

export const HISTORY_SECONDS = 300
export const MAX_REFUSALS = 50
export const MAX_RELOADS = 20
export const MAX_IDENTITIES = 2000
/** Long paths are cut: the page is for a glance, the access log has the rest. */
const MAX_PATH_CHARS = 200

/** Latency buckets: 0.1 ms × 1.5^i, i < LATENCY_BUCKETS (up to ~ 50 s). */
const LATENCY_BUCKETS = 33
const bucketBound = (i: number): number => Math.round(0.1 * 1.5 ** i * 1000) / 1000
const LOG_STEP = Math.log(1.5)

class Counts { requests = 0; refusals = 0; constructor(readonly verified: boolean) {} }

export function createActivity(opts: { now?: () => number; timer?: boolean } = {}): Activity {
  const now = opts.now ?? Date.now
  const seconds: SecondSample[] = []
  const latency = new Array<number>(LATENCY_BUCKETS).fill(0)
  let requests = 0
  let refusalsThisSecond = 0
  let secondStart = now()
  let ticks = 0
  const refusals: Refusal[] = []
  const reloads: ReloadRecord[] = []
  const identities = new Map<string, Counts>()
  let timer: ReturnType<typeof setInterval> | undefined

  const percentile = (q: number): number => {
    if (requests === 0) return 0
    const want = Math.ceil(requests * q)
    let seen = 0
    for (let i = 0; i < LATENCY_BUCKETS; i++) if ((seen += latency[i]!) >= want) return bucketBound(i)
    return bucketBound(LATENCY_BUCKETS - 1)
  }

  function tick(): void {
    seconds.push({ at: secondStart, requests, refusals: refusalsThisSecond, p50Ms: percentile(0.5), p99Ms: percentile(0.99) })
    if (seconds.length > HISTORY_SECONDS) seconds.shift()
    requests = 0
    refusalsThisSecond = 0
    latency.fill(0)
    secondStart = now()
    if (++ticks % 60 === 0) decay()
  }

  function decay(): void {
    for (const [name, c] of identities) {
      c.requests >>= 1
      c.refusals >>= 1
      if (c.requests === 0 && c.refusals === 0) identities.delete(name)
    }
  }

  const top = (n: number, by: 'requests' | 'refusals'): IdentityCount[] =>
    [...identities].filter(([, c]) => c[by] > 0).sort((a, b) => b[1][by] - a[1][by]).slice(0, n)
      .map(([key, c]) => ({ identity: c.verified ? key : key.slice(1), verified: c.verified, requests: c.requests, refusals: c.refusals }))

  return {
    record(ex, decision, status, secs) {
      if (timer === undefined && opts.timer !== false) { timer = setInterval(tick, 1000); timer.unref() }
      requests++
      const ms = secs * 1000
      const i = ms <= 0.1 ? 0 : Math.min(LATENCY_BUCKETS - 1, Math.ceil(Math.log(ms / 0.1) / LOG_STEP))
      latency[i]!++
      const refused = decision === 'deny' || decision === 'error'
      if (refused) refusalsThisSecond++
      const verified = ex.identity !== undefined
      const name = ex.identity ?? ex.claimed
      if (name !== undefined) {
        // A claimed name and the same name proven are two rows: a stranger's failures never look like the owner's.
        const key = verified ? name : '?' + name
        let c = identities.get(key)
        if (c === undefined && identities.size < MAX_IDENTITIES) identities.set(key, c = new Counts(verified))
        if (c !== undefined) { c.requests++; if (refused) c.refusals++ }
      }
      if (!refused) return
      const path = ex.path ?? ''
      refusals.push({ at: now(), method: ex.method, path: path.length > MAX_PATH_CHARS ? path.slice(0, MAX_PATH_CHARS) + '…' : path, status, code: ex.code ?? 'error', rule: ex.ruleId, identity: name, verified, scheme: ex.scheme })
      if (refusals.length > MAX_REFUSALS) refusals.shift()
    },
    reload(entry) {
      reloads.push(entry)
      if (reloads.length > MAX_RELOADS) reloads.shift()
    },
    tick,
    snapshot(n = 10) {
      return {
        seconds: [...seconds],
        topByRequests: top(n, 'requests'),
        topByRefusals: top(n, 'refusals'),
        refusals: [...refusals].reverse(),
        reloads: [...reloads].reverse(),
      }
    },
  }
}
