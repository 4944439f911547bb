// Session tickets and the session cookie (PROTOCOL.md §4): not built yet.
// The module owns the `sessions:` section so that a config written for the
// next version is validated now, and switching either on is refused at its
// line, never silently ignored (an operator would believe a protection is in
// place). It builds no scheme.

import { bool, cookieName, duration, scalar, type Section } from '../../config/readers.js'
import type { SchemeModule } from '../module.js'

const NOT_YET = 'are not supported by this version yet'

export interface SessionsConfig {
  readonly tickets: { readonly enabled: boolean; readonly ttlMs: number }
  readonly cookie: { readonly enabled: boolean; readonly name: string; readonly ttlMs: number }
}

export function readSessions(root: Section): SessionsConfig {
  const s = root.sub('sessions', ['tickets', 'cookie'])
  const st = s.sub('tickets', ['enabled', 'ttl'])
  const sc = s.sub('cookie', ['enabled', 'name', 'ttl'])
  const tickets = { enabled: st.get('enabled', scalar(bool), false), ttlMs: st.get('ttl', duration(), 3_600_000) }
  if (tickets.enabled) st.report('enabled', `session tickets ${NOT_YET}`)
  const cookie = {
    enabled: sc.get('enabled', scalar(bool), false),
    name: sc.get('name', scalar(cookieName), '__Host-popgate'),
    ttlMs: sc.get('ttl', duration(), 3_600_000),
  }
  if (cookie.enabled) sc.report('enabled', `session cookies ${NOT_YET}`)
  return { tickets, cookie }
}

export const sessionsModule: SchemeModule<SessionsConfig> = {
  name: 'sessions',
  section: 'sessions',
  redactFields: ['domainpop-proof'],
  read: readSessions,
  async build() { return { schemes: [] } },
}
