// Sections `dpop`, `sessions`, `identityHeaders` and `cors`. Several of their
// switches name features that are not built yet: switching one on is refused,
// never silently ignored (an operator would believe a protection is in
// place). Their other keys are still validated and kept, so a config written
// for the next version fails now, at its line, rather than later.

import type { Config } from '../types.js'
import { Section, bool, cookieName, duration, headerPrefix, httpUrl, listOf, mapOf, origin, scalar, str, type Reader } from '../readers.js'
import { stripEntry } from './upstream-host.js'

const NOT_YET = 'are not supported by this version yet'

/** `dpop.issuers`: issuer URL → { jwksUri }. */
const issuers: Reader<Record<string, { jwksUri: string }>> = mapOf(
  (k) => {
    const u = httpUrl(k, 'https://as.alice.example')
    return typeof u === 'string' ? u : u.protocol !== 'https:' ? 'must be an https: URL (PROTOCOL.md §3)' : { value: k as string }
  },
  (node, path, source) => {
    const s = new Section({ file: source, overrides: new Map() }, node, path, ['jwksUri'])
    return {
      jwksUri: s.required('jwksUri', scalar((v) => {
        const u = httpUrl(v, 'https://as.alice.example/jwks')
        return typeof u === 'string' ? u : u.protocol !== 'https:' ? 'must be an https: URL' : { value: u.href }
      }), ''),
    }
  },
)

export function readDpop(root: Section): Config['dpop'] {
  const d = root.sub('dpop', ['enabled', 'audience', 'issuers'])
  const enabled = d.get('enabled', scalar(bool), false)
  if (enabled) d.report('enabled', `DPoP tokens ${NOT_YET}`)
  return { enabled, audience: d.get('audience', scalar(str), undefined), issuers: d.get('issuers', issuers, {}) }
}

export function readSessions(root: Section): Config['sessions'] {
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

export function readIdentityHeaders(root: Section): Config['identityHeaders'] {
  const ih = root.sub('identityHeaders', ['prefix', 'assertion', 'forwardAuthorization', 'strip'])
  const assertion = ih.get('assertion', scalar(bool), false)
  if (assertion) ih.report('assertion', `signed identity assertions ${NOT_YET}`)
  return {
    prefix: ih.get('prefix', scalar(headerPrefix), 'X-PoP-'),
    assertion,
    forwardAuthorization: ih.get('forwardAuthorization', scalar(bool), false),
    strip: ih.get('strip', listOf(scalar(stripEntry), { unique: true }), []),
  }
}

export function readCors(root: Section): Config['cors'] {
  return { origins: root.sub('cors', ['origins']).get('origins', listOf(scalar(origin), { unique: true }), []) }
}
