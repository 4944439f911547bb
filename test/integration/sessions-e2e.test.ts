// Session tickets through real gateways (PROTOCOL.md §4): a proof with `epk`
// gets a DomainPoP-Session field; follow-up requests carry the ticket and an
// HMAC proof, and the upstream sees X-PoP-Auth-Method: session. A ticket
// minted by one gateway process is accepted by a second that shares only the
// secrets file; bad tickets and `sessions: false` are refused with their codes.

import t, { type Test } from 'tap'
import { writeFile, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startUpstream, startTestGateway, rawRequest } from '../helpers/harness.js'
import { startKeyHost, keysConfig } from '../helpers/identity.js'
import { createDomainPopFetch } from '../../src/client/fetch.js'
import { formatSecretsYaml, generateSecrets } from '../../src/secrets/generate.js'
import { signSessionProof } from '../../src/proofs/session-proof.js'

const ORIGIN = 'https://gw.test'
const ACL = `version: 1
rules:
  - id: foo
    path: /foo
    read: [alice.test]
  - id: strict
    path: /strict
    read: [alice.test]
    sessions: false
`

async function setup(t: Test) {
  const dir = await mkdtemp(join(tmpdir(), 'popgate-sessions-'))
  const secretsFile = join(dir, 'secrets.yaml')
  await writeFile(secretsFile, formatSecretsYaml(generateSecrets()))
  const up = await startUpstream()
  const kh = await startKeyHost()
  const extraConfig = `${keysConfig()}\nsecrets:\n  file: ${secretsFile}\nsessions:\n  tickets: { enabled: true }\n`
  const a = await startTestGateway({ upstream: up.url, publicOrigin: ORIGIN, acl: ACL, extraConfig })
  const b = await startTestGateway({ upstream: up.url, publicOrigin: ORIGIN, acl: ACL, extraConfig })
  t.teardown(async () => { await a.close(); await b.close(); await up.close(); await kh.close(); await rm(dir, { recursive: true, force: true }) })
  const { key, keyUrl } = await kh.publish('alice.test')
  let last: Response | undefined
  const statuses: number[] = []
  const f = createDomainPopFetch({ identity: 'alice.test', keyUrl, privateKey: key, audience: ORIGIN, session: 'ticket',
    fetch: async (u, i) => { const r = await fetch(u, i); statuses.push(r.status); last = r; return r } })
  return { up, a, b, f, statuses, last: () => last! }
}

t.test('a ticket after a proof; the next request is a session; a second gateway with the same secrets file accepts it', async (t) => {
  const { up, a, b, f, statuses, last } = await setup(t)
  t.equal((await f(`${a.url}/foo`)).status, 200)
  t.match(last().headers.get('domainpop-session'), /^ticket="[^"]+", epk="[^"]+", expires_in=3600$/)
  t.equal(up.seen.at(-1)!.headers['x-pop-auth-method'], 'domainpop')
  t.equal((await f(`${a.url}/foo`)).status, 200)
  t.equal(up.seen.at(-1)!.headers['x-pop-auth-method'], 'session', 'X-PoP-Auth-Method: session')
  t.equal(up.seen.at(-1)!.headers['x-pop-identity'], 'alice.test')
  t.notOk(up.seen.at(-1)!.headers['domainpop-proof'], 'the session proof is not forwarded')
  t.notOk(up.seen.at(-1)!.headers.authorization, 'nor the ticket')
  t.equal((await f(`${b.url}/foo`)).status, 200, 'the other gateway process')
  t.equal(up.seen.at(-1)!.headers['x-pop-auth-method'], 'session')
  t.same(statuses, [401, 200, 200, 200], 'one challenge, one proof, then tickets only')
})

t.test('sessions: false refuses the ticket with session_refused; the client falls back to a proof', async (t) => {
  const { up, a, f, statuses } = await setup(t)
  await f(`${a.url}/foo`)
  statuses.length = 0
  const res = await f(`${a.url}/strict`)
  t.equal(res.status, 200)
  t.same(statuses, [401, 200], 'ticket refused, then a full proof')
  t.equal(up.seen.at(-1)!.headers['x-pop-auth-method'], 'domainpop')
})

t.test('bad tickets over the wire, each with its code and a DomainPoP-Session challenge', async (t) => {
  const { a } = await setup(t)
  const sk = Buffer.alloc(32, 1)
  const ask = async (ticket: string, proof?: string) => {
    const headers: [string, string][] = [['authorization', `DomainPoP-Session ${ticket}`]]
    if (proof) headers.push(['domainpop-proof', proof])
    const r = await rawRequest(a.url, { path: '/foo', headers })
    return { status: r.status, code: (JSON.parse(r.body) as { code: string }).code, www: String(r.headers['www-authenticate']) }
  }
  const proofFor = (ticket: string) => signSessionProof(sk, { htm: 'GET', htu: `${ORIGIN}/foo`, ticket })
  const fake = 'eyJhbGciOiJkaXIiLCJlbmMiOiJBMjU2R0NNIiwia2lkIjoibm9wZSIsInR5cCI6InBvcGdhdGUtdGlja2V0In0..AAAAAAAAAAAAAAAA.AAAA.AAAAAAAAAAAAAAAAAAAAAA'
  const unknownKid = await ask(fake, proofFor(fake))
  t.match(unknownKid, { status: 401, code: 'ticket_key_unknown' })
  t.match(unknownKid.www, /DomainPoP-Session realm="https:\/\/gw\.test", error="invalid_token"/)
  t.match(await ask('a.b.c.d', proofFor('a.b.c.d')), { status: 400, code: 'ticket_malformed' })
  t.match(await ask('A'.repeat(3000), proofFor('x')), { status: 400 })
  t.match(await ask(fake), { status: 400, code: 'session_proof_malformed' })
})

t.test('a revocation on one replica reaches a second through Redis', async (t) => {
  const { redisServerBinary, startRedisServer, NO_REDIS } = await import('../helpers/redis-server.js')
  const { waitFor } = await import('../helpers/harness.js')
  if (!redisServerBinary()) { t.comment(NO_REDIS); t.pass(NO_REDIS); return }
  const redis = await startRedisServer()
  const dir = await mkdtemp(join(tmpdir(), 'popgate-sessions-'))
  const secretsFile = join(dir, 'secrets.yaml')
  await writeFile(secretsFile, formatSecretsYaml(generateSecrets()))
  const up = await startUpstream()
  const kh = await startKeyHost()
  const extraConfig = `${keysConfig()}\nsecrets:\n  file: ${secretsFile}\nsessions:\n  tickets: { enabled: true }\nreplay:\n  store: redis\n  url: ${redis.url}\nadmin:\n  listen: 127.0.0.1:0\n`
  const a = await startTestGateway({ upstream: up.url, publicOrigin: ORIGIN, acl: ACL, extraConfig })
  const b = await startTestGateway({ upstream: up.url, publicOrigin: ORIGIN, acl: ACL, extraConfig })
  t.teardown(async () => { await a.close(); await b.close(); await up.close(); await kh.close(); await redis.close(); await rm(dir, { recursive: true, force: true }) })
  const { key, keyUrl } = await kh.publish('alice.test')
  const statuses: number[] = []
  const f = createDomainPopFetch({ identity: 'alice.test', keyUrl, privateKey: key, audience: ORIGIN, session: 'ticket',
    fetch: async (u, i) => { const r = await fetch(u, i); statuses.push(r.status); return r } })
  await f(`${a.url}/foo`)
  t.equal((await f(`${b.url}/foo`)).status, 200)
  t.equal(up.seen.at(-1)!.headers['x-pop-auth-method'], 'session', 'replica b takes a\'s ticket')
  const res = await fetch(`http://127.0.0.1:${a.gw.admin!.port}/sessions/revoke/alice.test`, { method: 'POST' })
  t.equal(res.status, 200, 'revoked through replica a\'s admin listener')
  await new Promise((r) => setTimeout(r, 5)) // a new ticket must be minted after the revocation time (ms)
  // Replica b hears it through Redis pub/sub.
  await waitFor(async () => {
    statuses.length = 0
    const r = await f(`${b.url}/foo`)
    return r.status === 200 && statuses[0] === 401
  }, 5_000, 50)
  t.equal(statuses[0], 401, 'the old ticket is refused at replica b')
  t.match(b.log.lines.map((l) => l.code).join(' '), /session_revoked/, 'with session_revoked')
  t.equal(up.seen.at(-1)!.headers['x-pop-auth-method'], 'domainpop', 'the client proved again')
  statuses.length = 0
  t.equal((await f(`${b.url}/foo`)).status, 200)
  t.same(statuses, [200], 'and has a fresh ticket')
  t.equal(up.seen.at(-1)!.headers['x-pop-auth-method'], 'session')
})

t.test('the ACL checked on every request, and its revoke: map, both through a hot reload', async (t) => {
  const { a, f, statuses, up } = await setup(t)
  await f(`${a.url}/foo`)
  statuses.length = 0
  t.equal((await f(`${a.url}/foo`)).status, 200)
  t.same(statuses, [200])
  // revoke: alice.test from now on; the ticket minted before is refused, the client proves again.
  await writeFile(a.aclFile, ACL + `revoke:\n  alice.test: ${new Date().toISOString()}\n`)
  t.same(await a.gw.reload('test'), [])
  await new Promise((r) => setTimeout(r, 5))
  statuses.length = 0
  t.equal((await f(`${a.url}/foo`)).status, 200)
  t.same(statuses, [401, 200], 'session_revoked, then a proof')
  t.match(a.log.lines.map((l) => l.code).join(' '), /session_revoked/)
  t.equal(up.seen.at(-1)!.headers['x-pop-auth-method'], 'domainpop')
  // The identity dropped from the ACL: its fresh ticket gets 403 at once.
  await writeFile(a.aclFile, ACL.replace(/read: \[alice\.test\]/g, 'read: [bob.test]'))
  t.same(await a.gw.reload('test'), [])
  statuses.length = 0
  t.equal((await f(`${a.url}/foo`)).status, 403)
  t.same(statuses, [403], 'the ticket is still good, the ACL says no: 403 forbidden')
})

t.test('WebSocket: an upgrade authenticated by a ticket; sessions: false refuses it on an upgrade too', async (t) => {
  const http = await import('node:http')
  const { rawSocket } = await import('../helpers/harness.js')
  const { signDomainPopProof } = await import('../../src/client/proof.js')
  const { acceptTicket, newPendingTicket } = await import('../../src/client/session.js')
  const ws = http.createServer((_req, res) => res.end('ok'))
  ws.on('upgrade', (req, socket) => {
    socket.end('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nX-Seen-Method: ' + String(req.headers['x-pop-auth-method']) + '\r\n\r\n')
  })
  await new Promise<void>((r) => ws.listen(0, '127.0.0.1', r))
  const kh = await startKeyHost()
  const gw = await startTestGateway({ upstream: `http://127.0.0.1:${(ws.address() as import('node:net').AddressInfo).port}`, publicOrigin: ORIGIN, acl: ACL, extraConfig: `${keysConfig()}\nsessions:\n  tickets: { enabled: true }\n` })
  t.teardown(async () => { await gw.close(); await kh.close(); ws.closeAllConnections(); ws.close() })
  const { key, keyUrl } = await kh.publish('alice.test')
  const UPGRADE = 'Connection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n'
  const nonce = (await rawRequest(gw.url, { path: '/foo' })).headers['domainpop-nonce'] as string
  const pending = newPendingTicket()
  const proof = signDomainPopProof(key, { identity: 'alice.test', keyUrl, audience: ORIGIN, method: 'GET', path: '/foo', nonce, extraClaims: { epk: pending.epk } })
  // The ticket comes from a plain request (a grant's field on a 101 is the seam's part: not seen in this version).
  const res = await rawRequest(gw.url, { path: '/foo', headers: [['authorization', `DomainPoP ${proof}`]] })
  t.equal(res.status, 200)
  const field = res.headers['domainpop-session'] as string
  t.ok(field)
  const ticket = acceptTicket(new Response(null, { headers: { 'domainpop-session': field ?? '' } }), pending, { nonce, aud: ORIGIN, kid: key.kid })!
  const second = await rawSocket(gw.gw.http.port, `GET /foo HTTP/1.1\r\nHost: gw.test\r\n${UPGRADE}Authorization: DomainPoP-Session ${ticket.ticket}\r\nDomainPoP-Proof: ${signSessionProof(ticket.sk, { htm: 'GET', htu: `${ORIGIN}/foo`, ticket: ticket.ticket })}\r\n\r\n`)
  t.match(second, /^HTTP\/1\.1 101 /)
  t.match(second, /x-seen-method: session/i, 'the upgrade authenticated by the ticket')
  const strict = await rawSocket(gw.gw.http.port, `GET /strict HTTP/1.1\r\nHost: gw.test\r\n${UPGRADE}Authorization: DomainPoP-Session ${ticket.ticket}\r\nDomainPoP-Proof: ${signSessionProof(ticket.sk, { htm: 'GET', htu: `${ORIGIN}/strict`, ticket: ticket.ticket })}\r\n\r\n`)
  t.match(strict, /^HTTP\/1\.1 401 /)
  t.match(strict, /session_refused/, 'sessions: false on an upgrade too')
})
