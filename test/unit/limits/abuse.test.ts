// Abuse limits around authentication (limits/abuse.ts over limits/window.ts),
// with the clock passed in: failed authentications per client address and
// per claimed identity (sliding one-minute windows), the budget of new
// identity domains whose keys may be fetched per minute, and which errors
// count as a failed authentication at all.

import t from 'tap'
import { createAbuseLimits, isAuthFailure, rateLimited } from '../../../src/limits/abuse.js'
import { createRateWindow } from '../../../src/limits/window.js'
import { ERRORS, GatewayError, type ErrorCode } from '../../../src/errors.js'
import { unitConfig } from '../../helpers/unit/config.js'

const W = 60_000
const T0 = 1_700_000_040_000 - (1_700_000_040_000 % W) // the start of a window
const base = unitConfig().limits
const limits = { ...base, failedAuthPerClientPerMinute: 3, failedAuthPerIdentityPerMinute: 5, newKeyDomainsPerMinute: 2 }

const hits = (w: { hit(k: string, now: number): void }, key: string, n: number, now: number) => { for (let i = 0; i < n; i++) w.hit(key, now) }

t.test('per client: the limit-th failure in a window closes it until the window ends', async (t) => {
  const abuse = createAbuseLimits(limits)
  t.equal(abuse.limits, limits)
  hits(abuse.clients, '192.0.2.1', 2, T0)
  t.equal(abuse.clients.retryAfterSec('192.0.2.1', T0 + 1000), 0, 'under the limit')
  abuse.clients.hit('192.0.2.1', T0 + 1000)
  t.equal(abuse.clients.retryAfterSec('192.0.2.1', T0 + 15_000), 45, 'at the limit: seconds to the end of the window')
  t.equal(abuse.clients.retryAfterSec('192.0.2.1', T0 + W - 1), 1, 'never less than one second')
  t.equal(abuse.clients.retryAfterSec('192.0.2.2', T0 + 15_000), 0, 'another address is not affected')
  t.equal(abuse.identities.retryAfterSec('192.0.2.1', T0 + 15_000), 0, 'the identity window is a separate count')
})

t.test('per client: the window slides — the previous minute counts in proportion', async (t) => {
  const abuse = createAbuseLimits(limits)
  hits(abuse.clients, 'c', 3, T0 + 59_000)
  t.equal(abuse.clients.retryAfterSec('c', T0 + W), 60, 'just into the next window the previous one weighs fully')
  t.equal(abuse.clients.retryAfterSec('c', T0 + W + 1000), 0, 'and decays from then on: 3 × 59/60 < 3')
  abuse.clients.hit('c', T0 + W + 30_000)
  t.equal(abuse.clients.retryAfterSec('c', T0 + W + 30_000), 0, 'half way: 3 × 0.5 + 1 = 2.5 < 3')
  abuse.clients.hit('c', T0 + W + 30_000)
  t.equal(abuse.clients.retryAfterSec('c', T0 + W + 30_000), 30, '3 × 0.5 + 2 ≥ 3')
  t.equal(abuse.clients.retryAfterSec('c', T0 + 3 * W), 0, 'two quiet windows later: nothing remembered')
})

t.test('per identity: its own limit, by identity', async (t) => {
  const abuse = createAbuseLimits(limits)
  hits(abuse.identities, 'alice.example', 4, T0)
  t.equal(abuse.identities.retryAfterSec('alice.example', T0), 0)
  abuse.identities.hit('alice.example', T0)
  t.ok(abuse.identities.retryAfterSec('alice.example', T0) > 0, '5 failures for an identity limited to 5')
  t.equal(abuse.identities.retryAfterSec('bob.example', T0), 0)
  t.equal(abuse.clients.retryAfterSec('alice.example', T0), 0)
})

t.test('new identity domains: counted once per window each, refused past the budget', async (t) => {
  const limited: string[] = []
  const abuse = createAbuseLimits(limits, (scope) => { limited.push(scope) })
  const admit = (identity: string, now: number): string => {
    try {
      abuse.newDomains.admit(identity, now)
      return 'ok'
    } catch (err) {
      return err instanceof GatewayError ? err.code : `raw ${String(err)}`
    }
  }
  t.equal(admit('a.example', T0), 'ok')
  t.equal(admit('a.example', T0 + 1000), 'ok', 'the same identity again: not a new domain')
  t.equal(admit('a.example', T0 + 2000), 'ok')
  t.equal(admit('b.example', T0 + 3000), 'ok', 'the second of two')
  t.same(limited, [])
  t.equal(admit('c.example', T0 + 4000), 'key_fetch_busy', 'the third is over the budget')
  t.same(limited, ['new_domain'], 'onLimited is told, once per refusal')
  t.equal(admit('c.example', T0 + 5000), 'key_fetch_busy', 'a refused identity was not recorded as admitted')
  t.same(limited, ['new_domain', 'new_domain'])
  t.equal(admit('a.example', T0 + 6000), 'ok', 'identities already admitted this window still pass')
  t.equal(admit('b.example', T0 + W - 1), 'ok')

  // The budget is a sliding window: the previous minute weighs in proportion.
  t.equal(admit('c.example', T0 + W), 'key_fetch_busy', 'the first instant of the next window: the previous one counts fully')
  t.equal(admit('c.example', T0 + W + 30_000), 'ok', 'half way through it: 2 × 0.5 < 2')
  // 31 s in: 2 × 29/60 + 1 (c) ≈ 1.97 < 2, so one more fits; a.example was counted in the previous window, so it is new again here …
  t.equal(admit('a.example', T0 + W + 31_000), 'ok')
  // … and took that place: 0.97 + 2 ≥ 2.
  t.equal(admit('g.example', T0 + W + 31_000), 'key_fetch_busy', 'a.example counted again in the new window')
  t.equal(admit('d.example', T0 + 3 * W), 'ok', 'after a quiet window the budget is whole again')
  t.equal(admit('e.example', T0 + 3 * W), 'ok')
  t.equal(admit('f.example', T0 + 3 * W), 'key_fetch_busy')
})

t.test('the new-domain refusal is a 401 key_fetch_busy, and the default onLimited is harmless', async (t) => {
  const abuse = createAbuseLimits({ ...limits, newKeyDomainsPerMinute: 1 })
  abuse.newDomains.admit('a.example', T0)
  try {
    abuse.newDomains.admit('b.example', T0)
    t.fail('admitted')
  } catch (err) {
    t.match(err, { code: 'key_fetch_busy', status: 401, authError: 'invalid_proof' })
    t.ok(err instanceof GatewayError)
  }
})

t.test('which errors count as a failed authentication', async (t) => {
  const failure = (code: ErrorCode) => isAuthFailure(new GatewayError(code))
  for (const code of ['credentials_missing', 'path_rejected', 'forbidden', 'rate_limited', 'replay_store_unavailable', 'upstream_unavailable',
    'upstream_timeout', 'internal_error', 'headers_too_large', 'request_timeout'] as const) {
    t.equal(failure(code), false, `${code} is not a failure`)
  }
  for (const code of ['malformed_proof', 'multiple_credentials', 'proof_too_large', 'nonce_missing', 'nonce_stale', 'nonce_invalid',
    'proof_typ_invalid', 'proof_signature_invalid', 'proof_replayed', 'channel_binding_mismatch', 'key_fetch_busy', 'key_not_found'] as const) {
    t.equal(failure(code), true, `${code} is a failure`)
  }
  // And the whole registry: every 400 and 401 but the two that are step one of a normal flow or no credential at all.
  for (const code of Object.keys(ERRORS) as ErrorCode[]) {
    const s = ERRORS[code].status
    t.equal(failure(code), (s === 400 || s === 401) && code !== 'credentials_missing' && code !== 'path_rejected', code)
  }
})

t.test('rateLimited: a 429 carrying Retry-After and saying which limit', async (t) => {
  const e = rateLimited(7, 'from this address')
  t.ok(e instanceof GatewayError)
  t.match(e, { code: 'rate_limited', status: 429, retryAfterSec: 7, authError: undefined })
  t.match(e.detail, /from this address/)
  t.equal(isAuthFailure(e), false, 'a refusal does not feed the count')
})

t.test('createRateWindow: size, and a bounded number of keys', async (t) => {
  const w = createRateWindow({ limit: 2, maxKeys: 2 })
  t.equal(w.size, 0)
  w.hit('a', T0)
  w.hit('a', T0)
  w.hit('b', T0)
  t.equal(w.size, 2)
  t.ok(w.retryAfterSec('a', T0) > 0)
  w.hit('c', T0) // a third key: the current window becomes the previous one early
  t.equal(w.size, 1)
  t.ok(w.retryAfterSec('a', T0) > 0, 'moved, not forgotten, at the start of the window')
  t.equal(w.retryAfterSec('a', T0 + W), 0, 'and gone a window later (errs toward letting failures through)')
})
