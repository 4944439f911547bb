// Abuse limits around authentication (issue "Adversarial suite"):
//   - failed authentications per client address per minute → 429 before any proof work
//   - failed authentications per (claimed identity, client address) per minute → 429
//     before the key fetch. Per pair, not per identity: anyone can name alice,
//     so an identity-wide count would let a stranger lock her out.
//   - distinct identity domains whose keys are fetched per minute, in all → key_fetch_busy
// A bare challenge (no credentials) is not a failure: it is step one of every flow.

import { GatewayError } from '../errors.js'
import { createRateWindow, type RateWindow } from './window.js'
import type { Config } from '../config/types.js'

export interface AbuseLimits {
  readonly limits: Config['limits']
  readonly clients: RateWindow
  readonly identities: RateWindow
  readonly newDomains: { admit(identity: string, nowMs: number): void }
}

export function createAbuseLimits(limits: Config['limits'], onLimited: (scope: 'new_domain') => void = () => {}): AbuseLimits {
  const domains = createRateWindow({ limit: limits.newKeyDomainsPerMinute })
  const seen = new Map<string, number>() // identity → window start it was counted in
  return {
    limits,
    clients: createRateWindow({ limit: limits.failedAuthPerClientPerMinute }),
    identities: createRateWindow({ limit: limits.failedAuthPerIdentityPerMinute }),
    newDomains: {
      admit(identity, nowMs) {
        const window = nowMs - (nowMs % 60_000)
        if (seen.get(identity) === window) return
        if (domains.retryAfterSec('*', nowMs) > 0) {
          onLimited('new_domain')
          throw new GatewayError('key_fetch_busy', 'too many new identity domains this minute; try again shortly')
        }
        if (seen.size > 100_000) seen.clear()
        seen.set(identity, window)
        domains.hit('*', nowMs)
      },
    },
  }
}

/** The identity window's key. An address holds no space, so distinct pairs never share a key. */
export const identityClientKey = (identity: string, client: string): string => identity + ' ' + client

export const isAuthFailure = (e: GatewayError): boolean =>
  (e.status === 400 || e.status === 401) && e.code !== 'credentials_missing' && e.code !== 'path_rejected'

export function rateLimited(retryAfterSec: number, what: string): GatewayError {
  return new GatewayError('rate_limited', `too many failed authentications ${what}; retry later`, { retryAfterSec })
}
