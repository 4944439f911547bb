// Session tickets and the session cookie (PROTOCOL.md §4). The parts are
// built and tested in this folder (ticket.ts, verify.ts, grant.ts, cookie.ts,
// csrf.ts, cookie-header.ts); until they are wired here, switching either on
// is refused at its line (config.ts SESSIONS_BUILT), never silently ignored.
// It builds no scheme yet.

import type { SchemeModule } from '../module.js'
import { readSessions, type SessionsConfig } from './config.js'

export type { SessionsConfig }

export const sessionsModule: SchemeModule<SessionsConfig> = {
  name: 'sessions',
  section: 'sessions',
  redactFields: ['domainpop-proof'],
  read: readSessions,
  async build() { return { schemes: [] } },
}
