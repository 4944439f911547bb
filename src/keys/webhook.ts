// keys.webhook: each key_first_seen event POSTed as JSON to the operator's
// URL, through the safe fetcher (its address policy, deadline, no
// redirects), retried, and never on a request's path: `notify` returns at
// once, the delivery runs on its own, a webhook that hangs or fails costs
// requests nothing. At most MAX_PENDING events wait; beyond that an event is
// dropped and counted (the key_first_seen log line is the record that stays).

import type { FetchOne, MediaProfile } from './types.js'

/** Any 2xx is delivered; the answer's body is not read. */
export const WEBHOOK_PROFILE: MediaProfile = Object.freeze({ accept: 'application/json', mediaTypes: new Set<string>(), any2xx: true })

export const MAX_PENDING = 100
/** Waits before the 2nd and 3rd attempts. */
export const RETRY_DELAYS_MS: readonly number[] = [1_000, 5_000]

export type WebhookOutcome = 'delivered' | 'failed' | 'dropped'

export interface KeyWebhookDeps {
  readonly url: string
  readonly fetch: FetchOne
  /** Counts each event's outcome (after its last attempt). */
  readonly onOutcome?: (outcome: WebhookOutcome, code: string | undefined) => void
  /** The wait between attempts (tests pass one that does not wait). */
  readonly sleep?: (ms: number) => Promise<void>
}

export interface KeyWebhook {
  notify(event: Readonly<Record<string, unknown>>): void
  /** Resolves when nothing is pending (tests, shutdown). */
  idle(): Promise<void>
}

const defaultSleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms).unref())

export function createKeyWebhook(deps: KeyWebhookDeps): KeyWebhook {
  const url = new URL(deps.url)
  const sleep = deps.sleep ?? defaultSleep
  const pending = new Set<Promise<void>>()

  async function deliver(bytes: string): Promise<void> {
    let code: string | undefined
    for (let attempt = 0; attempt <= RETRY_DELAYS_MS.length; attempt++) {
      if (attempt > 0) await sleep(RETRY_DELAYS_MS[attempt - 1]!)
      try {
        await deps.fetch({ url, method: 'POST', profile: WEBHOOK_PROFILE, body: { contentType: 'application/json', bytes } }, new AbortController().signal)
        deps.onOutcome?.('delivered', undefined)
        return
      } catch (err) {
        code = (err as { code?: string }).code ?? 'error'
      }
    }
    deps.onOutcome?.('failed', code)
  }

  return {
    notify(event) {
      if (pending.size >= MAX_PENDING) { deps.onOutcome?.('dropped', undefined); return }
      const p = deliver(JSON.stringify(event)).catch(() => undefined).finally(() => { pending.delete(p) })
      pending.add(p)
    },
    async idle() { while (pending.size > 0) await Promise.allSettled([...pending]) },
  }
}
