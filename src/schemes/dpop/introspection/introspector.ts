// Asks the configured issuer about an opaque access token (RFC 7662), after
// the ACL said yes to that issuer's host (the caller is verify). Reads: the
// token and its hash. Returns: the token's facts (answer.ts). Throws
// GatewayError, always a 401 invalid_token (never 5xx: the issuer being down
// is the token's failure, and the gateway stays healthy): token_inactive,
// token_unbound, token_expired, token_audience_mismatch,
// introspection_identity_mismatch, introspection_failed.
//
// Order of lookups: this replica's cache (cache.ts) → one call in flight per
// token (single-flight.ts) → the shared Redis cache, when there is one
// (shared-cache.ts) → an authenticated POST through the safe fetcher (no
// redirects, bounded body, one deadline; keys/fetcher.ts). A definite answer
// (active or not) is cached; a transport failure is not (the next request
// asks again), but concurrent requests share the one failed call.

import { GatewayError, isGatewayError } from '../../../errors.js'
import type { FetchOne } from '../../../keys/index.js'
import { JSON_PROFILE } from '../../../keys/index.js'
import type { IntrospectionConfig } from './config.js'
import { readIntrospectionAnswer, type IntrospectedToken } from './answer.js'
import { createIntrospectionCache, DEFINITE_CODES, MAX_CACHED_ANSWERS, type CachedAnswer, type IntrospectionCache } from './cache.js'
import { createSingleFlight } from './single-flight.js'
import type { ClientAuthenticator } from './client-auth.js'
import type { SharedAnswers } from './shared-cache.js'

/** Cache outcomes (popgate_introspection_cache_total) and call outcomes (popgate_introspection_requests_total). */
export type CacheResult = 'hit' | 'negative_hit' | 'shared_hit' | 'coalesced' | 'miss'
export type CallOutcome = 'active' | 'inactive' | 'refused' | 'failed'

export interface IntrospectorDeps {
  readonly cfg: IntrospectionConfig
  /** The configured issuer, canonical: what an answer's `iss` must be. */
  readonly issuer: string
  readonly audience: string
  readonly clockSkewMs: number
  readonly fetch: FetchOne
  readonly authenticate: ClientAuthenticator
  readonly now: () => number
  readonly shared?: SharedAnswers | undefined
  readonly onCache?: (result: CacheResult) => void
  readonly onCall?: (outcome: CallOutcome, ms: number) => void
  readonly maxEntries?: number
}

export interface Introspector {
  /** This replica's cached answer, without I/O (parse uses it to check the proof's key early). */
  peek(hash: string, nowMs: number): CachedAnswer | undefined
  /** The token's facts, from a cache or the issuer; throws as the file header says. */
  introspect(token: string, hash: string, nowMs: number): Promise<IntrospectedToken>
  readonly cache: IntrospectionCache
  close(): Promise<void>
}


/** A safe-fetcher failure, said of the introspection endpoint (the key_fetch_* words speak of key hosts). */
const FAILURE_WORDS: Readonly<Record<string, string>> = {
  key_fetch_timeout: 'did not answer in time',
  key_fetch_redirect: 'answered a redirect (not followed)',
  key_fetch_status: 'answered an error status',
  key_fetch_too_large: 'answered more than the body cap (keys.maxBytes)',
  key_fetch_content_type: 'answered something other than application/json',
  key_fetch_blocked_address: 'resolves to a blocked address',
}

export function createIntrospector(deps: IntrospectorDeps): Introspector {
  const { cfg } = deps
  const cache = createIntrospectionCache({ cacheTtlMs: cfg.cacheTtlMs, negativeTtlMs: cfg.negativeTtlMs, maxEntries: deps.maxEntries ?? MAX_CACHED_ANSWERS })
  const flights = createSingleFlight<CachedAnswer>()
  const endpoint = new URL(cfg.endpoint)
  const closing = new AbortController()

  /** One POST; a definite answer as a cache entry, or a GatewayError introspection_failed thrown. */
  async function call(token: string, hash: string): Promise<CachedAnswer> {
    const started = deps.now()
    const creds = await deps.authenticate(started)
    // RFC 7662 §2.1: token, and the hint that it is an access token.
    const form = new URLSearchParams([['token', token], ['token_type_hint', 'access_token'], ...creds.form.map(([k, v]) => [k, v])])
    let body: Buffer
    try {
      const res = await deps.fetch({
        url: endpoint, method: 'POST', profile: JSON_PROFILE,
        body: { contentType: 'application/x-www-form-urlencoded', bytes: form.toString() },
        ...(creds.authorization !== undefined ? { authorization: creds.authorization } : {}),
      }, closing.signal)
      body = res.body
    } catch (err) {
      deps.onCall?.('failed', deps.now() - started)
      const why = isGatewayError(err) ? FAILURE_WORDS[err.code] ?? 'could not be reached' : 'could not be reached'
      throw new GatewayError('introspection_failed', `the introspection endpoint ${why}`, { cause: err })
    }
    const nowMs = deps.now()
    try {
      const facts = readIntrospectionAnswer(body, { issuer: deps.issuer, audience: deps.audience, nowMs, clockSkewMs: deps.clockSkewMs })
      deps.onCall?.('active', nowMs - started)
      return cache.setActive(hash, facts, nowMs) ?? { active: true, token: facts, expiresAtMs: nowMs }
    } catch (err) {
      if (!isGatewayError(err) || !DEFINITE_CODES.has(err.code)) {
        deps.onCall?.('failed', nowMs - started)
        throw err
      }
      deps.onCall?.(err.code === 'token_inactive' ? 'inactive' : 'refused', nowMs - started)
      return cache.setInactive(hash, err.code, err.detail, nowMs) ?? { active: false, code: err.code, detail: err.detail, expiresAtMs: nowMs }
    }
  }

  async function fill(token: string, hash: string): Promise<CachedAnswer> {
    if (deps.shared !== undefined) {
      const found = await deps.shared.get(hash)
      const nowMs = deps.now()
      if (found !== undefined && found.expiresAtMs > nowMs) {
        deps.onCache?.('shared_hit')
        cache.put(hash, found, nowMs)
        return found
      }
    }
    deps.onCache?.('miss')
    const entry = await call(token, hash)
    if (deps.shared !== undefined) await deps.shared.set(hash, entry, deps.now())
    return entry
  }

  const use = (e: CachedAnswer): IntrospectedToken => {
    if (!e.active) throw new GatewayError(e.code, e.detail)
    return e.token
  }

  return {
    cache,
    peek: (hash, nowMs) => cache.get(hash, nowMs),
    async introspect(token, hash, nowMs) {
      const cached = cache.get(hash, nowMs)
      if (cached !== undefined) {
        deps.onCache?.(cached.active ? 'hit' : 'negative_hit')
        return use(cached)
      }
      let joined = true
      const flight = flights.run(hash, () => { joined = false; return fill(token, hash) })
      // Counted when joining, not when the shared call ends.
      if (joined) deps.onCache?.('coalesced')
      return use(await flight)
    },
    async close() {
      closing.abort()
      await deps.shared?.close()
    },
  }
}
