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

export type { SessionsConfig }

export const sessionsModule: SchemeModule<SessionsConfig> = {
  name: 'sessions',
  section: 'sessions',
  redactFields: ['domainpop-proof'],
  read: readSessions,
  async build(cfg, shared) {
    if (!cfg.tickets.enabled) return { schemes: [] }
    const skew = shared.config.proof.clockSkewMs
    const maxAgeMs = Math.max(cfg.tickets.ttlMs, cfg.cookie.ttlMs) + skew
    // Shared by the replicas when the replay store is: a revocation reaches every one at once.
    const revocations = shared.config.replay.store === 'redis'
      ? createRedisRevocations(shared.config.replay, { maxAgeMs, onError: (err) => shared.log.warn({ err }, 'session revocation list: Redis error') })
      : createMemoryRevocations({ maxAgeMs, now: shared.now })
    const tickets = createTicketBook(shared.secrets.tickets, { ttlMs: cfg.tickets.ttlMs, clockSkewMs: skew, cacheSize: cfg.tickets.cacheSize })
    const replay = shared.replay('session')
    const deps = {
      tickets, revocations, now: shared.now, publicOrigin: shared.publicOrigin,
      replay: { firstUse: (key: string, ttlMs: number) => replay.firstUse(key, ttlMs) },
      maxAgeMs: shared.proof.maxAgeMs, clockSkewMs: skew, maxProofBytes: shared.proof.maxBytes,
    }
    return { schemes: [createSessionScheme(deps)], grants: [createTicketGrant(deps)], resources: [revocations] }
  },
}
