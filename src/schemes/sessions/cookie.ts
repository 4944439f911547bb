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
import { Lru } from '../../keys/lru.js'
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
  /** Opens (or finds already opened) and checks the contents, the expiry and the key's retirement. */
  open(value: string, nowMs: number): CookieContents
  readonly stats: () => { cached: number }
}

export interface CookieJarOptions {
  readonly ttlMs: number
  readonly clockSkewMs: number
  /** Opened cookies kept, by their value (default 10,000): a browser's next request skips the AES-GCM open. */
  readonly cacheSize?: number
}

interface Cached { readonly contents: CookieContents; readonly keyUsableUntilMs: number }

const THUMBPRINT = /^[A-Za-z0-9_-]{43}$/

export function createCookieJar(keys: readonly NamedSecret[], opts: CookieJarOptions): CookieJar {
  // Each failure its own code (for logs and metrics); a browser's page acts on all of them the same way: a fresh proof mints a new cookie.
  const sealer = createSealer(keys, {
    typ: COOKIE_TYP, maxChars: MAX_COOKIE_CHARS, retiredGraceMs: opts.ttlMs + opts.clockSkewMs, noun: 'session cookie',
    codes: { tooLarge: 'cookie_too_large', malformed: 'cookie_malformed', invalid: 'cookie_invalid', unknownKey: 'cookie_key_unknown', retired: 'cookie_key_retired' },
  })
  const cache = new Lru<string, Cached>(opts.cacheSize ?? 10_000)
  return {
    ttlMs: opts.ttlMs,
    mint(c, nowMs) {
      return sealer.seal({ sub: c.identity, jkt: c.jkt, amr: c.method, iat: nowMs / 1000, exp: (nowMs + opts.ttlMs) / 1000 })
    },
    open(value, nowMs) {
      const hit = cache.get(value)
      if (hit) {
        // Evicted at expiry or when its key stops opening; opened again below for the exact code.
        if (nowMs >= hit.contents.expMs + opts.clockSkewMs || nowMs > hit.keyUsableUntilMs) cache.delete(value)
        else return hit.contents
      }
      const opened = sealer.open(value, nowMs)
      const v = opened.value
      if (identityProblem(v.sub) !== undefined || typeof v.jkt !== 'string' || !THUMBPRINT.test(v.jkt) || (v.amr !== 'domainpop' && v.amr !== 'dpop')
        || typeof v.iat !== 'number' || !Number.isFinite(v.iat) || typeof v.exp !== 'number' || !Number.isFinite(v.exp)) {
        throw new GatewayError('cookie_invalid', 'session cookie content is invalid')
      }
      const c: CookieContents = { identity: v.sub as Identity, jkt: v.jkt, method: v.amr, iatMs: Math.round(v.iat * 1000), expMs: Math.round(v.exp * 1000) }
      if (nowMs >= c.expMs + opts.clockSkewMs) throw new GatewayError('cookie_expired', 'the session cookie has expired; sign in with a proof again')
      cache.set(value, { contents: c, keyUsableUntilMs: opened.keyUsableUntilMs })
      return c
    },
    stats: () => ({ cached: cache.size }),
  }
}
