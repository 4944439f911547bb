// Session tickets and the session cookie (PROTOCOL.md §4). Tickets are wired:
// the `session` scheme (scheme.ts) and the grant that mints tickets after a
// proof with `epk`. The cookie's parts are built and tested here (cookie.ts,
// csrf.ts, cookie-header.ts) but not wired: `sessions.cookie.enabled: true`
// is refused at its line (config.ts), never silently ignored.

import type { SchemeModule } from '../module.js'
import { readSessions, type SessionsConfig } from './config.js'
import { createTicketBook } from './ticket.js'
import { createSessionScheme, createTicketGrant } from './scheme.js'
import { createMemoryRevocations } from '../../revocation/memory.js'
import { createRedisRevocations } from '../../revocation/redis.js'
import { isRevocations, withAclRevocations, type Revocations } from '../../revocation/types.js'

/** Which replay config and lifetime a revocation list was made for. */
const storeKeys = new WeakMap<Revocations, string>()

export type { SessionsConfig }

export const sessionsModule: SchemeModule<SessionsConfig> = {
  name: 'sessions',
  // Nothing yet: the ticket and cookie schemes come with PROTOCOL.md §4.
  schemeNames: [],
  section: 'sessions',
  credentialFields: ['domainpop-proof'],
  read: readSessions,
  async build(cfg, shared, prev) {
    if (!cfg.tickets.enabled) return { schemes: [] }
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
    const tickets = createTicketBook(shared.secrets.tickets, { ttlMs: cfg.tickets.ttlMs, clockSkewMs: skew, cacheSize: cfg.tickets.cacheSize })
    const replay = shared.replay('session')
    const deps = {
      tickets, revocations, now: shared.now, publicOrigin: shared.publicOrigin,
      replay: { firstUse: (key: string, ttlMs: number) => replay.firstUse(key, ttlMs) },
      maxAgeMs: shared.proof.maxAgeMs, clockSkewMs: skew, maxProofBytes: shared.proof.maxBytes,
    }
    return { schemes: [createSessionScheme(deps)], grants: [createTicketGrant(deps)], resources: [store] }
  },
}
