// The sealed session cookie (PROTOCOL.md §4): minted only after a verified
// proof that asked for it (`ses: "cookie"`), never from what a client sends
// (session fixation), sealed like a ticket (JWE dir/A256GCM) under its own
// key list (`cookies` in the secrets file), and holding no session key: a
// cookie is a bearer credential, guarded by SameSite=Lax, HttpOnly, the
// `__Host-` prefix and the CSRF check (csrf.ts).
//
// Contents: sub (identity), jkt (the proof key's thumbprint), amr (the
// method that minted it), iat (seconds, fractional), exp (seconds).

import { GatewayError } from '../../errors.js'
import { identityProblem, type Identity } from '../../identity/domain.js'
import { createSealer } from '../../secrets/sealer.js'
import type { NamedSecret } from '../../secrets/types.js'
import type { MintingMethod } from './ticket.js'

export const COOKIE_TYP = 'popgate-cookie'
/** Browsers keep at least 4096 bytes per cookie (RFC 6265 §6.1); a sealed cookie is about 300. */
export const MAX_COOKIE_CHARS = 3072

export interface CookieContents {
  readonly identity: Identity
  readonly jkt: string
  readonly method: MintingMethod
  readonly iatMs: number
  readonly expMs: number
}

export interface CookieJar {
  readonly ttlMs: number
  mint(c: Pick<CookieContents, 'identity' | 'jkt' | 'method'>, nowMs: number): string
  open(value: string, nowMs: number): CookieContents
}

const THUMBPRINT = /^[A-Za-z0-9_-]{43}$/

export function createCookieJar(keys: readonly NamedSecret[], opts: { ttlMs: number; clockSkewMs: number }): CookieJar {
  // A browser cannot act on why a cookie is bad: one code, and a fresh proof mints a new one.
  const sealer = createSealer(keys, {
    typ: COOKIE_TYP, maxChars: MAX_COOKIE_CHARS, retiredGraceMs: opts.ttlMs + opts.clockSkewMs, noun: 'session cookie',
    codes: { tooLarge: 'cookie_invalid', malformed: 'cookie_invalid', invalid: 'cookie_invalid', unknownKey: 'cookie_invalid', retired: 'cookie_invalid' },
  })
  return {
    ttlMs: opts.ttlMs,
    mint(c, nowMs) {
      return sealer.seal({ sub: c.identity, jkt: c.jkt, amr: c.method, iat: nowMs / 1000, exp: (nowMs + opts.ttlMs) / 1000 })
    },
    open(value, nowMs) {
      const v = sealer.open(value, nowMs).value
      if (identityProblem(v.sub) !== undefined || typeof v.jkt !== 'string' || !THUMBPRINT.test(v.jkt) || (v.amr !== 'domainpop' && v.amr !== 'dpop')
        || typeof v.iat !== 'number' || !Number.isFinite(v.iat) || typeof v.exp !== 'number' || !Number.isFinite(v.exp)) {
        throw new GatewayError('cookie_invalid', 'session cookie content is invalid')
      }
      const c: CookieContents = { identity: v.sub as Identity, jkt: v.jkt, method: v.amr, iatMs: Math.round(v.iat * 1000), expMs: Math.round(v.exp * 1000) }
      if (nowMs >= c.expMs + opts.clockSkewMs) throw new GatewayError('cookie_expired', 'the session cookie has expired; sign in with a proof again')
      return c
    },
  }
}
