// The `sessions` config section (tickets, cookie), owned by the sessions
// module. `cors.origins` (the origins the cookie's CSRF guard accepts besides
// publicOrigin) is a core section (config/sections/cors.ts). Every
// problem is reported at its file:line.

import type { Config } from '../../config/types.js'
import { Section, bool, cookieName, positiveInt, refine, scalar, str, duration, type Reader } from '../../config/readers.js'

/**
 * Which session schemes the gateway wires. One that is not: switching it on
 * is refused (an operator would believe a protection is in place) and its
 * other keys are still read and checked.
 */
export const TICKETS_BUILT = true
export const COOKIES_BUILT = true
const NOT_YET = 'are not supported by this version yet'

const MINUTE = 60_000, HOUR = 3_600_000, DAY = 24 * HOUR
/** A duration within [min, max]: a ticket or cookie that outlives a day is a bearer credential with too long a reach. */
const boundedDuration = (min: number, max: number, what: string): Reader<number> => (node, path, source) => {
  const v = duration()(node, path, source)
  if (typeof v !== 'number') return v
  if (v < min || v > max) {
    source.problems.at(node.pos, path, `${what} must be between ${min / MINUTE}m and ${max / HOUR}h`)
    return v < min ? min : max
  }
  return v
}

const hostCookieName = refine(cookieName, (v) => (v.startsWith('__Host-') && v.length > 7
  ? { value: v }
  // draft-ietf-httpbis-rfc6265bis §4.1.3.2: only a __Host- cookie is sure to be Secure, host-only and Path=/, so no sibling host can set or shadow it.
  : 'must start with __Host- (no other host of the site can then set or shadow the cookie)'))

/** The logout route's path: plain segments of unreserved characters (RFC 3986 §2.3), so the normalized target is the same string. */
const logoutPath = refine(str, (v) => (v.length <= 256 && /^(\/[A-Za-z0-9._~-]+)+$/.test(v) && !/\/\.{1,2}(\/|$)/.test(v)
  ? { value: v }
  : 'must be an absolute path of plain segments (letters, digits, . _ ~ -), such as /.well-known/popgate/logout'))

export const DEFAULT_LOGOUT_PATH = '/.well-known/popgate/logout'

export interface SessionsConfig {
  /** `cacheSize`: opened tickets kept by `ath` (schemes/sessions/ticket.ts). */
  readonly tickets: { readonly enabled: boolean; readonly ttlMs: number; readonly cacheSize: number }
  /** `name` always starts with `__Host-`; `logoutPath`: POST there clears the cookie (schemes/sessions/logout.ts). */
  readonly cookie: { readonly enabled: boolean; readonly name: string; readonly ttlMs: number; readonly logoutPath: string }
}

export function readSessions(root: Section): SessionsConfig {
  const s = root.sub('sessions', ['tickets', 'cookie'])
  const st = s.sub('tickets', ['enabled', 'ttl', 'cacheSize'])
  const sc = s.sub('cookie', ['enabled', 'name', 'ttl', 'logoutPath', 'deviceBound'])
  const tickets = {
    enabled: st.get('enabled', scalar(bool), false),
    ttlMs: st.get('ttl', boundedDuration(MINUTE, DAY, 'a ticket lifetime'), HOUR),
    cacheSize: st.get('cacheSize', scalar(positiveInt(1_000_000)), 10_000),
  }
  if (tickets.enabled && !TICKETS_BUILT) st.report('enabled', `session tickets ${NOT_YET}`)
  const cookie = {
    enabled: sc.get('enabled', scalar(bool), false),
    name: sc.get('name', scalar(hostCookieName), '__Host-popgate'),
    ttlMs: sc.get('ttl', boundedDuration(MINUTE, 7 * DAY, 'a cookie lifetime'), HOUR),
    logoutPath: sc.get('logoutPath', scalar(logoutPath), DEFAULT_LOGOUT_PATH),
  }
  if (cookie.enabled && !COOKIES_BUILT) sc.report('enabled', `session cookies ${NOT_YET}`)
  // Device Bound Session Credentials (W3C DBSC) after a proof: not built.
  if (sc.get('deviceBound', scalar(bool), false)) sc.report('deviceBound', `device-bound session cookies (DBSC) ${NOT_YET}`)
  return { tickets, cookie }
}

/** The origins a cookie-authenticated unsafe request may come from: the gateway's own and `cors.origins`. */
export const allowedOrigins = (publicOrigin: string, cors: Config['cors']): ReadonlySet<string> => new Set([publicOrigin, ...cors.origins])

/**
 * A cookie session behind an http:// publicOrigin: the cookie is `Secure`
 * (the `__Host-` prefix requires it, rfc6265bis §4.1.3.2) and browsers drop a
 * Secure cookie set over http (§5.7) — except on localhost, which Chromium
 * treats as a secure context. Valid (a local try-out), but worth saying.
 */
export function sessionsWarnings(cfg: SessionsConfig, config: Pick<Config, 'publicOrigin'>): string[] {
  if (!cfg.cookie.enabled || !config.publicOrigin.toLowerCase().startsWith('http://')) return []
  return [`sessions.cookie.enabled: publicOrigin ${config.publicOrigin} is http://, and browsers drop the Secure ${cfg.cookie.name} cookie (a __Host- cookie must be Secure) when it is set over http, so browsers keep no cookie session: serve publicOrigin over https. The one exception is http://localhost, which Chromium treats as secure and keeps the cookie on (other browsers may not)`]
}
