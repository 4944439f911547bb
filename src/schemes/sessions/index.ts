// Session tickets and the session cookie (PROTOCOL.md §4), each switched on
// by its own key:
//   sessions.tickets.enabled — the `session` scheme (scheme.ts) and the grant
//     that mints a ticket after a proof with `epk`;
//   sessions.cookie.enabled  — the `cookie` scheme (cookie-scheme.ts: an
//     ambient `__Host-popgate` cookie, CSRF-guarded), the grant that mints it
//     after a proof with `ses: "cookie"`, and the logout route (logout.ts).
// Both share one revocation list (the ACL's `revoke:` and the run-time one).

import type { SchemeModule } from '../module.js'
import { readSessions, sessionsWarnings, type SessionsConfig } from './config.js'
import { createTicketBook } from './ticket.js'
import { createSessionScheme, createTicketGrant } from './scheme.js'
import { createCookieJar } from './cookie.js'
import { createCookieGrant, createCookieScheme } from './cookie-scheme.js'
import { logoutRoute } from './logout.js'
import { allowedOrigins } from './config.js'
import type { Claim, Grant, Scheme } from '../types.js'
import { isGatewayError } from '../../errors.js'
import type { Metrics } from '../../metrics.js'
import type { OwnRoute } from '../../http/own-routes.js'
import { createMemoryRevocations } from '../../revocation/memory.js'
import { createRedisRevocations } from '../../revocation/redis.js'
import { isRevocations, withAclRevocations, type Revocations } from '../../revocation/types.js'

/** Which replay config and lifetime a revocation list was made for. */
const storeKeys = new WeakMap<Revocations, string>()

export type { SessionsConfig }

export const sessionsModule: SchemeModule<SessionsConfig> = {
  name: 'sessions',
  // What a rule's require: may name (PROTOCOL.md §8).
  schemeNames: ['session', 'cookie'],
  section: 'sessions',
  credentialFields: ['domainpop-proof'],
  read: readSessions,
  warnings: sessionsWarnings,
  async build(cfg, shared, prev) {
    if (!cfg.tickets.enabled && !cfg.cookie.enabled) return { schemes: [] }
    const skew = shared.config.proof.clockSkewMs
    const maxAgeMs = Math.max(cfg.tickets.ttlMs, cfg.cookie.ttlMs) + skew
    // A reload keeps the run-time list (a memory one would otherwise forget `popgate sessions revoke`)
    // unless the replay store or the lifetimes changed.
    const key = JSON.stringify([shared.config.replay, maxAgeMs])
    const kept = prev?.built.resources?.find(isRevocations)
    const store = kept !== undefined && storeKeys.get(kept) === key ? kept
      // Shared by the replicas when the replay store is: a revocation reaches every one at once.
      : shared.config.replay.store === 'redis'
        ? createRedisRevocations(shared.config.replay, { maxAgeMs, onError: (err) => shared.log.warn({ err }, 'session revocation list: Redis error') })
        : createMemoryRevocations({ maxAgeMs, now: shared.now })
    storeKeys.set(store, key)
    // The ACL's revoke: map (hot-reloaded with the ACL) on top of the run-time list.
    const revocations = withAclRevocations(store, shared.aclRevocations)
    const schemes: Scheme[] = [], grants: Grant[] = [], routes = new Map<string, OwnRoute>()
    if (cfg.tickets.enabled) {
      const tickets = createTicketBook(shared.secrets.tickets, { ttlMs: cfg.tickets.ttlMs, clockSkewMs: skew, cacheSize: cfg.tickets.cacheSize })
      const replay = shared.replay('session')
      const deps = {
        tickets, revocations, now: shared.now, publicOrigin: shared.publicOrigin,
        replay: { firstUse: (key: string, ttlMs: number) => replay.firstUse(key, ttlMs) },
        maxAgeMs: shared.proof.maxAgeMs, clockSkewMs: skew, maxProofBytes: shared.proof.maxBytes,
      }
      schemes.push(createSessionScheme(deps))
      grants.push(createTicketGrant(deps))
    }
    if (cfg.cookie.enabled) {
      // Its own key list (`cookies` in the secrets file): newest seals, every listed one opens (secrets/sealer.ts).
      const jar = createCookieJar(shared.secrets.cookies, { ttlMs: cfg.cookie.ttlMs, clockSkewMs: skew, cacheSize: cfg.tickets.cacheSize })
      const origins = allowedOrigins(shared.publicOrigin, shared.config.cors)
      schemes.push(createCookieScheme({ jar, name: cfg.cookie.name, revocations, allowedOrigins: origins }))
      grants.push(createCookieGrant({ jar, name: cfg.cookie.name }))
      routes.set(cfg.cookie.logoutPath, logoutRoute(cfg.cookie.name, origins))
    }
    // popgate_sessions_minted_total{scheme}: counted where a grant answered with a credential.
    const counted = grants.map((g): Grant => ({
      name: g.name,
      issue(p, req, rule) {
        const fields = g.issue(p, req, rule) as readonly string[] | undefined // both grants here are synchronous
        if (fields !== undefined) shared.metrics.inc('popgate_sessions_minted_total', { scheme: g.name === 'session-cookie' ? 'cookie' : 'session' })
        return fields
      },
    }))
    return { schemes: schemes.map((s) => countingRefusals(s, shared.metrics)), grants: counted, routes, resources: [store] }
  },
}

/**
 * popgate_sessions_refused_total{scheme,code}: counted where the scheme
 * refuses its own credential, in parse (a ticket or cookie that does not open,
 * expired, CSRF) or verify (`sessions: false`, the HMAC, replay, revocation).
 * An ACL or rule-policy refusal of a ticket that checked out is the gate's,
 * counted in popgate_refusals_total like any scheme's.
 */
function countingRefusals<C extends Claim>(s: Scheme<C>, metrics: Metrics): Scheme<C> {
  const refused = (err: unknown): never => {
    metrics.inc('popgate_sessions_refused_total', { scheme: s.name, code: isGatewayError(err) ? err.code : 'internal_error' })
    throw err
  }
  return {
    ...s,
    parse(credentials, req) {
      try { return s.parse(credentials, req) } catch (err) { return refused(err) }
    },
    verify(claim, req, rule) {
      return s.verify(claim, req, rule).then(undefined, refused)
    },
  }
}
