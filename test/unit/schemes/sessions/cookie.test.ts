// The session cookie: sealed contents, Set-Cookie attributes, finding and
// stripping it in a Cookie field, and the CSRF guard (PROTOCOL.md §4).

import t from 'tap'
import { randomBytes } from 'node:crypto'
import { CompactEncrypt, compactDecrypt } from 'jose'
import { GatewayError } from '../../../../src/errors.js'
import { createCookieJar } from '../../../../src/schemes/sessions/cookie.js'
import { clearCookieValue, cookieValues, sessionCookie, setCookieValue, withoutCookie } from '../../../../src/schemes/sessions/cookie-header.js'
import { checkCsrf, type CsrfFacts } from '../../../../src/schemes/sessions/csrf.js'
import { createTicketBook } from '../../../../src/schemes/sessions/ticket.js'
import type { Identity } from '../../../../src/identity/domain.js'

const T0 = 1_765_100_000_000
const TTL = 3_600_000, SKEW = 5_000
const KID = 'NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs'
const ALICE = 'alice.example' as Identity
const code = (fn: () => unknown): string | undefined => {
  try { fn() } catch (e) { return e instanceof GatewayError ? e.code : `not a GatewayError: ${String(e)}` }
  return undefined
}

t.test('Set-Cookie: __Host- prefix attributes, Max-Age; clearing', async (t) => {
  t.equal(setCookieValue('__Host-popgate', 'abc', 3600), '__Host-popgate=abc; Path=/; Secure; HttpOnly; SameSite=Lax; Max-Age=3600')
  t.equal(clearCookieValue('__Host-popgate'), '__Host-popgate=; Path=/; Secure; HttpOnly; SameSite=Lax; Max-Age=0')
})

t.test('finding and stripping the session cookie; the others pass', async (t) => {
  const f = 'a=1; __Host-popgate=SEALED; b=2'
  t.same(cookieValues(f, '__Host-popgate'), ['SEALED'])
  t.equal(sessionCookie(f, '__Host-popgate'), 'SEALED')
  t.equal(sessionCookie('a=1', '__Host-popgate'), undefined)
  t.equal(sessionCookie(undefined, '__Host-popgate'), undefined)
  t.equal(sessionCookie('__Host-popgate=', '__Host-popgate'), undefined, 'empty value: none')
  t.equal(sessionCookie('x__Host-popgate=1', '__Host-popgate'), undefined, 'a longer name is another cookie')
  t.equal(code(() => sessionCookie('__Host-popgate=a; __Host-popgate=b', '__Host-popgate')), 'cookie_malformed', 'two: one is a plant')
  t.equal(withoutCookie(f, '__Host-popgate'), 'a=1; b=2')
  t.equal(withoutCookie('__Host-popgate=x', '__Host-popgate'), undefined, 'nothing left: no Cookie field')
  t.equal(withoutCookie('a=1;b=2', '__Host-popgate'), 'a=1;b=2', 'untouched when absent')
  t.equal(withoutCookie('a=1;__Host-popgate=x;__Host-popgate=y; c', '__Host-popgate'), 'a=1; c', 'every copy goes')
})

t.test('the sealed cookie: round trip, expiry, tampering, a ticket is not a cookie', async (t) => {
  const keys = [{ id: 'c1', key: randomBytes(32) }]
  const jar = createCookieJar(keys, { ttlMs: TTL, clockSkewMs: SKEW })
  const v = jar.mint({ identity: ALICE, jkt: KID, method: 'domainpop' }, T0)
  t.match(v, /^[A-Za-z0-9_-]+\.\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/, 'cookie-octets only (RFC 6265 §4.1.1)')
  t.same(jar.open(v, T0), { identity: ALICE, jkt: KID, method: 'domainpop', iatMs: T0, expMs: T0 + TTL })
  t.equal(code(() => jar.open(v, T0 + TTL + SKEW)), 'cookie_expired')
  t.equal(code(() => jar.open(v.slice(0, -3), T0)), 'cookie_malformed', 'truncated (the tag is short)')
  t.equal(code(() => jar.open(v.split('.').slice(0, 4).join('.'), T0)), 'cookie_malformed', 'a segment missing')
  t.equal(code(() => jar.open(v.replace(/\.([A-Za-z0-9_-])/, (_, c: string) => '.' + (c === 'A' ? 'B' : 'A')), T0)), 'cookie_invalid', 'tampered')
  t.equal(code(() => jar.open('x'.repeat(4000), T0)), 'cookie_too_large', 'oversized')
  t.equal(code(() => createCookieJar([{ id: 'c2', key: randomBytes(32) }], { ttlMs: TTL, clockSkewMs: SKEW }).open(v, T0)), 'cookie_key_unknown', 'unknown key')
  // Rotation: a new key first seals; the old one still opens until it has been retired for TTL + skew.
  const rotated = createCookieJar([{ id: 'c3', key: randomBytes(32) }, { ...keys[0]!, retiredAtMs: T0 }], { ttlMs: TTL, clockSkewMs: SKEW })
  t.equal(rotated.open(v, T0 + 1000).identity, ALICE, 'the retired key still opens within TTL + skew')
  t.match(rotated.mint({ identity: ALICE, jkt: KID, method: 'dpop' }, T0), /^eyJ/, 'the newest key seals')
  const late = createCookieJar([{ id: 'c3', key: randomBytes(32) }, { ...keys[0]!, retiredAtMs: T0 - TTL - SKEW - 1 }], { ttlMs: TTL, clockSkewMs: SKEW })
  t.equal(code(() => late.open(v, T0)), 'cookie_key_retired', 'retired longer than TTL + skew ago')
  // The cache of opened cookies never outlives the cookie.
  jar.open(v, T0)
  t.equal(jar.stats().cached, 1, 'opened once, kept')
  t.equal(code(() => jar.open(v, T0 + TTL + SKEW)), 'cookie_expired', 'a cached cookie expires too')
  // Same key material under both lists (an operator's mistake): the typ still keeps them apart.
  const book = createTicketBook([{ id: 'c1', key: keys[0]!.key }], { ttlMs: TTL, clockSkewMs: SKEW })
  const ticket = book.mint({ sk: randomBytes(32), identity: ALICE, jkt: KID, method: 'domainpop', cb: undefined }, T0).ticket
  t.equal(code(() => jar.open(ticket, T0)), 'cookie_invalid', 'a ticket is never taken for a cookie (wrong typ)')
  t.equal(code(() => book.open(v, 'ath', T0)), 'ticket_invalid', 'nor a cookie for a ticket')
})

t.test('CSRF: unsafe methods need a listed Origin, or Sec-Fetch-Site: same-origin without one', async (t) => {
  const allowed = new Set(['https://bob.example', 'https://app.example'])
  const req = (o: Partial<CsrfFacts>): CsrfFacts => ({ method: 'POST', upgrade: false, origin: undefined, secFetchSite: undefined, ...o })
  const ok = (o: Partial<CsrfFacts>, what: string) => t.equal(code(() => checkCsrf(req(o), allowed)), undefined, what)
  const refused = (o: Partial<CsrfFacts>, what: string) => t.equal(code(() => checkCsrf(req(o), allowed)), 'cookie_origin_refused', what)
  for (const m of ['GET', 'HEAD', 'OPTIONS', 'TRACE']) ok({ method: m, origin: 'https://evil.example' }, `${m} is safe`)
  for (const m of ['POST', 'PUT', 'PATCH', 'DELETE', 'PROPFIND']) t.equal(code(() => checkCsrf(req({ method: m }), allowed)), 'cookie_origin_missing', `${m} without Origin or Sec-Fetch-Site`)
  ok({ origin: 'https://bob.example' }, 'the gateway\'s own origin')
  ok({ origin: 'https://app.example', secFetchSite: 'cross-site' }, 'a listed origin')
  refused({ origin: 'https://evil.example' }, 'an unlisted origin')
  refused({ origin: 'https://evil.example', secFetchSite: 'same-origin' }, 'an unlisted Origin is not rescued by Sec-Fetch-Site')
  refused({ origin: 'null' }, 'Origin: null')
  refused({ origin: 'https://bob.example.evil.example' }, 'a suffix trick')
  refused({ origin: 'https://BOB.example' }, 'exact serialization only')
  ok({ secFetchSite: 'same-origin' }, 'no Origin, same-origin fetch metadata')
  const missing = (o: Partial<CsrfFacts>, what: string) => t.equal(code(() => checkCsrf(req(o), allowed)), 'cookie_origin_missing', what)
  missing({ secFetchSite: 'same-site' }, 'same-site is not same-origin (a sibling subdomain)')
  missing({ secFetchSite: 'cross-site' }, 'cross-site')
  missing({ secFetchSite: 'none' }, 'none (user-initiated, but not a POST a user types)')
  t.equal(code(() => checkCsrf(req({ method: 'GET', upgrade: true }), allowed)), 'cookie_origin_missing', 'a WebSocket handshake is checked like an unsafe method')
  refused({ method: 'GET', upgrade: true, origin: 'https://evil.example' }, 'cross-site WebSocket hijacking')
  ok({ method: 'GET', upgrade: true, origin: 'https://bob.example' }, 'a WebSocket from the gateway\'s origin')
})

t.test('jose interop for the cookie: jose opens a minted cookie, a jose-sealed cookie opens here', async (t) => {
  const k = { id: 'c1', key: randomBytes(32) }
  const jar = createCookieJar([k], { ttlMs: TTL, clockSkewMs: SKEW })
  const now = Date.now()
  const { plaintext, protectedHeader } = await compactDecrypt(jar.mint({ identity: ALICE, jkt: KID, method: 'dpop' }, now), k.key)
  t.same(protectedHeader, { alg: 'dir', enc: 'A256GCM', kid: 'c1', typ: 'popgate-cookie' })
  t.same(JSON.parse(new TextDecoder().decode(plaintext)), { sub: ALICE, jkt: KID, amr: 'dpop', iat: now / 1000, exp: (now + TTL) / 1000 })
  const byJose = await new CompactEncrypt(new TextEncoder().encode(JSON.stringify({ sub: 'bob.example', jkt: KID, amr: 'domainpop', iat: T0 / 1000, exp: (T0 + TTL) / 1000 })))
    .setProtectedHeader({ alg: 'dir', enc: 'A256GCM', kid: 'c1', typ: 'popgate-cookie' }).encrypt(k.key)
  t.same(jar.open(byJose, T0), { identity: 'bob.example', jkt: KID, method: 'domainpop', iatMs: T0, expMs: T0 + TTL })
  const asTicket = await new CompactEncrypt(new TextEncoder().encode('{}')).setProtectedHeader({ alg: 'dir', enc: 'A256GCM', kid: 'c1', typ: 'popgate-ticket' }).encrypt(k.key)
  t.equal(code(() => jar.open(asTicket, T0)), 'cookie_invalid', 'jose-sealed with the ticket typ: not a cookie')
})
