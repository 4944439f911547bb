// The session cookie through real gateways (PROTOCOL.md §4, docs/protocol.md
// "Cookies"): a proof with `ses: "cookie"` gets a `__Host-popgate` cookie;
// later requests carry only the cookie (X-PoP-Auth-Method: cookie), checked
// by the ACL on every request, refused after a revocation, on `sessions:
// false` rules and, for unsafe methods and upgrades, without an allowed
// Origin (CSRF). A cookie minted by one gateway is accepted by a second that
// shares only the secrets file; every bad cookie is refused with its own code
// and cleared in the browser.

import t, { type Test } from 'tap'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { writeFile, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { randomBytes } from 'node:crypto'
import { startUpstream, startTestGateway, rawRequest, rawSocket, type RawResponse, type TestGateway } from '../helpers/harness.js'
import { startKeyHost, keysConfig } from '../helpers/identity.js'
import { signDomainPopProof } from '../../src/client/proof.js'
import type { ClientKey } from '../../src/client/keys.js'

const ORIGIN = 'https://gw.test'
const APP = 'https://app.test'
const NAME = '__Host-popgate'
const CLEAR = `${NAME}=; Path=/; Secure; HttpOnly; SameSite=Lax; Max-Age=0`
const ACL = `version: 1
rules:
  - path: /public/**
    public: true
  - id: foo
    path: /foo
    read: [alice.test, bob.test]
    write: [alice.test]
  - id: strict
    path: /strict
    read: [alice.test]
    sessions: false
`
const HOUR = 3_600_000

const secretsYaml = (cookies: string) => `nonce: [{ id: n1, secret: ${randomBytes(32).toString('base64url')} }]\ncookies:\n${cookies}`
const key = () => randomBytes(32).toString('base64url')

interface Setup {
  readonly up: Awaited<ReturnType<typeof startUpstream>>
  readonly a: TestGateway
  readonly alice: { key: ClientKey; keyUrl: string }
  readonly bob: { key: ClientKey; keyUrl: string }
  /** Another gateway on the same upstream and key host, with its own secrets file (cookies list as YAML) and clock. */
  gateway(cookies: string, now?: () => number): Promise<TestGateway>
  readonly c1: string
}

async function setup(t: Test, opts: { upstream?: string } = {}): Promise<Setup> {
  const dir = await mkdtemp(join(tmpdir(), 'popgate-cookies-'))
  const up = await startUpstream()
  const kh = await startKeyHost()
  const started: TestGateway[] = []
  const c1 = key()
  const gateway = async (cookies: string, now?: () => number) => {
    const secretsFile = join(dir, `secrets-${started.length}.yaml`)
    await writeFile(secretsFile, secretsYaml(cookies))
    const extraConfig = `${keysConfig()}\nsecrets:\n  file: ${secretsFile}\nsessions:\n  cookie: { enabled: true }\ncors:\n  origins: [${APP}]\n`
    const g = await startTestGateway({ upstream: opts.upstream ?? up.url, publicOrigin: ORIGIN, acl: ACL, extraConfig, now })
    started.push(g)
    return g
  }
  const a = await gateway(`  - { id: c1, secret: ${c1} }\n`)
  t.teardown(async () => { for (const g of started) await g.close(); await up.close(); await kh.close(); await rm(dir, { recursive: true, force: true }) })
  return { up, a, alice: await kh.publish('alice.test'), bob: await kh.publish('bob.test'), gateway, c1 }
}

const setCookies = (r: RawResponse): string[] => { const v = r.headers['set-cookie']; return v === undefined ? [] : Array.isArray(v) ? v : [v] }
const codeOf = (r: RawResponse): string | undefined => { try { return (JSON.parse(r.body) as { code?: string }).code } catch { return undefined } }

/** A DomainPoP proof for `who` (nonce from the gateway's 401), with `ses: "cookie"` unless told otherwise. */
async function proofFor(g: TestGateway, who: { key: ClientKey; keyUrl: string }, identity: string, method = 'GET', path = '/foo', extra: Record<string, unknown> = { ses: 'cookie' }) {
  const nonce = (await rawRequest(g.url, { path: '/foo' })).headers['domainpop-nonce'] as string
  return signDomainPopProof(who.key, { identity, keyUrl: who.keyUrl, audience: ORIGIN, method, path, nonce, extraClaims: extra })
}

/** The sealed cookie value the gateway sets after a proof with `ses: "cookie"`. */
async function mint(t: Test, g: TestGateway, who: { key: ClientKey; keyUrl: string }): Promise<string> {
  const r = await rawRequest(g.url, { path: '/foo', headers: [['authorization', `DomainPoP ${await proofFor(g, who, 'alice.test')}`]] })
  t.equal(r.status, 200, 'the proof is accepted')
  const m = new RegExp(`^${NAME}=([A-Za-z0-9_.-]+); Path=/; Secure; HttpOnly; SameSite=Lax; Max-Age=3600$`).exec(setCookies(r)[0] ?? '')
  if (!m) throw new Error(`no session cookie in ${JSON.stringify(setCookies(r))}`)
  return m[1]!
}

const withCookie = (g: TestGateway, value: string, o: { method?: string; path?: string; headers?: [string, string][]; cookie?: string } = {}) =>
  rawRequest(g.url, { method: o.method ?? 'GET', path: o.path ?? '/foo', headers: [['cookie', o.cookie ?? `${NAME}=${value}`], ...(o.headers ?? [])] })

t.test('a proof with ses: "cookie" gets the cookie; later requests carry only it; a second gateway with the same secrets file accepts it', async (t) => {
  const { up, a, alice, gateway, c1 } = await setup(t)
  const cookie = await mint(t, a, alice)
  t.equal(up.seen.at(-1)!.headers['x-pop-auth-method'], 'domainpop', 'the minting request itself is a proof')
  const r = await withCookie(a, cookie, { cookie: `theme=dark; ${NAME}=${cookie}; lang=en` })
  t.equal(r.status, 200)
  const h = up.seen.at(-1)!.headers
  t.equal(h['x-pop-auth-method'], 'cookie', 'X-PoP-Auth-Method: cookie')
  t.equal(h['x-pop-identity'], 'alice.test')
  t.equal(h['x-pop-key-thumbprint'], alice.key.kid, 'the thumbprint of the key whose proof minted it')
  t.equal(h.cookie, 'theme=dark; lang=en', 'only the gateway\'s cookie is removed; the others pass')
  t.same(setCookies(r), [], 'a cookie never mints a cookie (only a proof does)')
  await withCookie(a, cookie)
  t.equal(up.seen.at(-1)!.headers.cookie, undefined, 'nothing left: no Cookie field upstream')
  const pub = await withCookie(a, cookie, { path: '/public/x', cookie: `${NAME}=${cookie}; a=1` })
  t.equal(pub.status, 200)
  t.equal(up.seen.at(-1)!.headers.cookie, 'a=1', 'removed on public routes too')
  // A proof without ses gets no cookie.
  const plain = await rawRequest(a.url, { path: '/foo', headers: [['authorization', `DomainPoP ${await proofFor(a, alice, 'alice.test', 'GET', '/foo', {})}`]] })
  t.equal(plain.status, 200)
  t.same(setCookies(plain), [], 'no ses, no cookie')
  t.equal(await a.metrics.value('popgate_sessions_minted_total', { scheme: 'cookie' }), 1, 'one cookie minted, counted')
  // Another gateway process sharing only the secrets file's cookie keys.
  const b = await gateway(`  - { id: c1, secret: ${c1} }\n`)
  t.equal((await withCookie(b, cookie)).status, 200, 'the second gateway opens it')
  t.equal(up.seen.at(-1)!.headers['x-pop-auth-method'], 'cookie')
})

t.test('CSRF over the wire: unsafe methods need an allowed Origin, or Sec-Fetch-Site: same-origin without one', async (t) => {
  const { up, a, alice } = await setup(t)
  const cookie = await mint(t, a, alice)
  const seen = () => up.seen.length
  const post = (headers: [string, string][]) => withCookie(a, cookie, { method: 'POST', headers })
  const before = seen()
  const cases: Array<[string, [string, string][], number, string | undefined]> = [
    ['no Origin, no Sec-Fetch-Site', [], 403, 'cookie_origin_missing'],
    ['an unlisted Origin', [['origin', 'https://evil.test']], 403, 'cookie_origin_refused'],
    ['Origin: null', [['origin', 'null']], 403, 'cookie_origin_refused'],
    ['an unlisted Origin with Sec-Fetch-Site: same-origin', [['origin', 'https://evil.test'], ['sec-fetch-site', 'same-origin']], 403, 'cookie_origin_refused'],
    ['cross-site fetch metadata', [['sec-fetch-site', 'cross-site']], 403, 'cookie_origin_missing'],
    ['same-site fetch metadata (a sibling host)', [['sec-fetch-site', 'same-site']], 403, 'cookie_origin_missing'],
    ['two Origin fields', [['origin', ORIGIN], ['origin', 'https://evil.test']], 403, 'cookie_origin_refused'],
  ]
  for (const [what, headers, status, code] of cases) {
    const r = await post(headers)
    t.equal(r.status, status, what)
    t.equal(codeOf(r), code, what)
    t.same(setCookies(r), [], `${what}: the cookie is not cleared (it is good; the request is not)`)
  }
  t.equal(seen(), before, 'nothing refused reached the upstream')
  for (const [what, headers] of [
    ['the gateway\'s own Origin', [['origin', ORIGIN]]],
    ['an Origin from cors.origins', [['origin', APP]]],
    ['no Origin, Sec-Fetch-Site: same-origin', [['sec-fetch-site', 'same-origin']]],
  ] as Array<[string, [string, string][]]>) {
    const r = await post(headers)
    t.equal(r.status, 200, what)
    t.equal(up.seen.at(-1)!.headers['x-pop-auth-method'], 'cookie', what)
  }
  t.equal((await withCookie(a, cookie, { headers: [['origin', 'https://evil.test']] })).status, 200, 'GET is a safe method')
})

t.test('bad cookies over the wire: each its own code, a 401 with the proof challenges, and the cookie cleared', async (t) => {
  const { a, alice, gateway, c1 } = await setup(t)
  const cookie = await mint(t, a, alice)
  const refused = async (g: TestGateway, what: string, code: string, o: Parameters<typeof withCookie>[2] & { value?: string } = {}) => {
    const r = await withCookie(g, o.value ?? cookie, o)
    t.equal(r.status, 401, what)
    t.equal(codeOf(r), code, what)
    t.same(setCookies(r), [CLEAR], `${what}: the answer clears the cookie`)
    t.match(String(r.headers['www-authenticate']), /DomainPoP realm="https:\/\/gw\.test", nonce="/, `${what}: the DomainPoP challenge says how to prove again`)
    t.notMatch(r.body, cookie.slice(20, 60), `${what}: the cookie is not echoed`)
  }
  const segs = cookie.split('.')
  const flip = (s: string) => (s[0] === 'A' ? 'B' : 'A') + s.slice(1)
  await refused(a, 'tampered ciphertext', 'cookie_invalid', { value: [segs[0], '', segs[2], flip(segs[3]!), segs[4]].join('.') })
  await refused(a, 'truncated', 'cookie_malformed', { value: cookie.slice(0, -4) })
  await refused(a, 'a segment missing', 'cookie_malformed', { value: segs.slice(0, 4).join('.') })
  await refused(a, 'oversized', 'cookie_too_large', { value: 'A'.repeat(4000) })
  await refused(a, 'two cookies of our name (one planted)', 'cookie_malformed', { cookie: `${NAME}=${cookie}; ${NAME}=${cookie}` })
  const other = await gateway(`  - { id: c9, secret: ${key()} }\n`)
  await refused(other, 'a key this gateway does not hold (unknown kid)', 'cookie_key_unknown')
  const retired = await gateway(`  - { id: c2, secret: ${key()} }\n  - { id: c1, secret: ${c1}, retired: ${new Date(Date.now() - 3 * HOUR).toISOString()} }\n`)
  await refused(retired, 'sealed with a key retired longer than the cookie lifetime ago', 'cookie_key_retired')
  let skewMs = 0
  const clocked = await gateway(`  - { id: c1, secret: ${c1} }\n`, () => Date.now() + skewMs)
  t.equal((await withCookie(clocked, cookie)).status, 200, 'good now')
  skewMs = HOUR + 10_000
  await refused(clocked, 'expired (the gateway\'s clock an hour later)', 'cookie_expired')
})

t.test('rotation: a newer key seals, the retired one still opens within its grace', async (t) => {
  const { a, alice, gateway, c1 } = await setup(t)
  const old = await mint(t, a, alice)
  const rotated = await gateway(`  - { id: c2, secret: ${key()} }\n  - { id: c1, secret: ${c1}, retired: ${new Date().toISOString()} }\n`)
  t.equal((await withCookie(rotated, old)).status, 200, 'a cookie sealed with the retired key still opens')
  const fresh = await mint(t, rotated, alice)
  t.equal(JSON.parse(Buffer.from(fresh.split('.')[0]!, 'base64url').toString()).kid, 'c2', 'the newest key seals')
  t.equal(codeOf(await withCookie(a, fresh)), 'cookie_key_unknown', 'a gateway without the new key cannot open it')
})

t.test('sessions: false refuses the cookie and asks for a proof; the cookie is kept', async (t) => {
  const { a, alice } = await setup(t)
  const cookie = await mint(t, a, alice)
  const r = await withCookie(a, cookie, { path: '/strict' })
  t.equal(r.status, 401)
  t.equal(codeOf(r), 'session_refused')
  t.match(JSON.parse(r.body).detail, /needs a proof on every request, not a session cookie/)
  t.same(setCookies(r), [], 'still good elsewhere: not cleared')
  t.match(String(r.headers['www-authenticate']), /DomainPoP realm=/)
  const proof = await proofFor(a, alice, 'alice.test', 'GET', '/strict')
  const p = await rawRequest(a.url, { path: '/strict', headers: [['authorization', `DomainPoP ${proof}`], ['cookie', `${NAME}=${cookie}`]] })
  t.equal(p.status, 200, 'a proof is accepted there')
  t.same(setCookies(p), [], 'and mints no cookie on a sessions: false rule')
})

t.test('the ACL on every request and revocation, through hot reloads', async (t) => {
  const { a, alice } = await setup(t)
  const cookie = await mint(t, a, alice)
  t.equal((await withCookie(a, cookie)).status, 200)
  await new Promise((r) => setTimeout(r, 5)) // the revocation time must be after the cookie's iat (ms)
  await writeFile(a.aclFile, ACL + `revoke:\n  alice.test: ${new Date().toISOString()}\n`)
  t.same(await a.gw.reload('test'), [])
  const revoked = await withCookie(a, cookie)
  t.equal(revoked.status, 401)
  t.equal(codeOf(revoked), 'session_revoked')
  t.same(setCookies(revoked), [CLEAR], 'a revoked cookie is cleared')
  await new Promise((r) => setTimeout(r, 5))
  const fresh = await mint(t, a, alice)
  t.equal((await withCookie(a, fresh)).status, 200, 'a cookie minted after the revocation works')
  await writeFile(a.aclFile, ACL.replace('read: [alice.test, bob.test]', 'read: [bob.test]'))
  t.same(await a.gw.reload('test'), [])
  const dropped = await withCookie(a, fresh)
  t.equal(dropped.status, 403, 'the cookie still opens; the ACL says no')
  t.equal(codeOf(dropped), 'forbidden')
  t.same(setCookies(dropped), [], 'not cleared: other paths may still allow the identity')
})

t.test('a cookie and a DomainPoP proof in one request: the explicit credential wins; a bad one is not rescued by the cookie', async (t) => {
  const { up, a, alice, bob } = await setup(t)
  const cookie = await mint(t, a, alice)
  const proof = await proofFor(a, bob, 'bob.test', 'GET', '/foo', {})
  const r = await withCookie(a, cookie, { headers: [['authorization', `DomainPoP ${proof}`]] })
  t.equal(r.status, 200)
  t.equal(up.seen.at(-1)!.headers['x-pop-identity'], 'bob.test', 'the proof decides, not the cookie')
  t.equal(up.seen.at(-1)!.headers['x-pop-auth-method'], 'domainpop')
  t.equal(up.seen.at(-1)!.headers.cookie, undefined, 'the cookie is still not forwarded')
  const bad = await withCookie(a, cookie, { headers: [['authorization', 'DomainPoP not-a-jws']] })
  t.equal(bad.status, 400)
  t.equal(codeOf(bad), 'malformed_proof', 'refused on the proof; no fallback to the cookie')
  // Re-proving while holding a cookie replaces it (the fixation rule: a new cookie only from a proof).
  const again = await rawRequest(a.url, { path: '/foo', headers: [['authorization', `DomainPoP ${await proofFor(a, alice, 'alice.test')}`], ['cookie', `${NAME}=${cookie}`]] })
  t.equal(again.status, 200)
  t.match(setCookies(again)[0], new RegExp(`^${NAME}=`))
  t.not(setCookies(again)[0], `${NAME}=${cookie}; Path=/; Secure; HttpOnly; SameSite=Lax; Max-Age=3600`, 'a fresh value')
})

t.test('logout: POST clears the cookie (204); CSRF-guarded; other methods are not the logout', async (t) => {
  const { up, a } = await setup(t)
  const path = '/.well-known/popgate/logout'
  const out = await rawRequest(a.url, { method: 'POST', path, headers: [['origin', ORIGIN]] })
  t.equal(out.status, 204)
  t.same(setCookies(out), [CLEAR])
  t.equal(out.headers['cache-control'], 'no-store')
  t.equal(out.body, '')
  t.equal((await rawRequest(a.url, { method: 'POST', path, headers: [['sec-fetch-site', 'same-origin']] })).status, 204, 'no Origin, same-origin fetch metadata')
  const forged = await rawRequest(a.url, { method: 'POST', path, headers: [['origin', 'https://evil.test']] })
  t.equal(forged.status, 403)
  t.equal(codeOf(forged), 'cookie_origin_refused')
  t.same(setCookies(forged), [], 'another site cannot log the user out')
  const bare = await rawRequest(a.url, { method: 'POST', path })
  t.equal(codeOf(bare), 'cookie_origin_missing')
  const before = up.seen.length
  const get = await rawRequest(a.url, { path })
  t.same(setCookies(get), [], 'GET is not the logout (an <img> cannot log a user out)')
  t.not(get.status, 204)
  t.equal(up.seen.length, before, 'and, matching no rule, it is not forwarded')
})

t.test('WebSocket: an upgrade authenticated by the cookie; an upgrade without an allowed Origin is refused', async (t) => {
  const ws = http.createServer((_req, res) => res.end('ok'))
  ws.on('upgrade', (req, socket) => {
    socket.end(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nX-Seen-Method: ${String(req.headers['x-pop-auth-method'])}\r\nX-Seen-Cookie: ${String(req.headers.cookie)}\r\n\r\n`)
  })
  await new Promise<void>((r) => ws.listen(0, '127.0.0.1', r))
  t.teardown(() => { ws.closeAllConnections(); ws.close() })
  const { a, alice } = await setup(t, { upstream: `http://127.0.0.1:${(ws.address() as AddressInfo).port}` })
  const cookie = await mint(t, a, alice)
  const UPGRADE = 'Connection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n'
  const up = (extra: string) => rawSocket(a.gw.http.port, `GET /foo HTTP/1.1\r\nHost: gw.test\r\n${UPGRADE}Cookie: ${NAME}=${cookie}; x=1\r\n${extra}\r\n`)
  const ok = await up(`Origin: ${ORIGIN}\r\n`)
  t.match(ok, /^HTTP\/1\.1 101 /)
  t.match(ok, /x-seen-method: cookie/i, 'the upgrade authenticated by the cookie')
  t.match(ok, /x-seen-cookie: x=1\r\n/i, 'the gateway\'s cookie removed on the upgrade too')
  const bare = await up('')
  t.match(bare, /^HTTP\/1\.1 403 /, 'an upgrade is checked like an unsafe method')
  t.match(bare, /cookie_origin_missing/)
  const evil = await up('Origin: https://evil.test\r\n')
  t.match(evil, /^HTTP\/1\.1 403 /)
  t.match(evil, /cookie_origin_refused/, 'cross-site WebSocket hijacking refused')
  // A proof with ses: "cookie" on an upgrade: the grant's Set-Cookie rides on the 101.
  const proof = await proofFor(a, alice, 'alice.test')
  const minted = await rawSocket(a.gw.http.port, `GET /foo HTTP/1.1\r\nHost: gw.test\r\n${UPGRADE}Authorization: DomainPoP ${proof}\r\n\r\n`)
  t.match(minted, /^HTTP\/1\.1 101 /)
  t.match(minted, new RegExp(`set-cookie: ${NAME}=[A-Za-z0-9_.-]+; Path=/; Secure; HttpOnly; SameSite=Lax; Max-Age=3600`, 'i'))
})
