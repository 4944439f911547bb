// The Node clients' ticket flow (session: 'ticket') against a small server
// on 127.0.0.1:0 that plays the gateway's session half with the real
// gateway modules (mintTicket, parseSessionRequest, verifySessionRequest):
// negotiate on the first request, HMAC proofs afterwards, renew before
// expiry, fall back to a full proof when the ticket is refused (key
// rotated away, revoked), for the DomainPoP and the DPoP client.

import t from 'tap'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { randomBytes } from 'node:crypto'
import { createDomainPopFetch } from '../../../src/client/fetch.js'
import { createDpopFetch } from '../../../src/client/dpop.js'
import { generateClientKey } from '../../../src/client/keys.js'
import { isGatewayError } from '../../../src/errors.js'
import type { Identity } from '../../../src/identity/domain.js'
import { createMemoryReplayStore } from '../../../src/replay/memory.js'
import { createMemoryRevocations } from '../../../src/revocation/memory.js'
import { mintTicket } from '../../../src/schemes/sessions/grant.js'
import { createTicketBook, type TicketBook } from '../../../src/schemes/sessions/ticket.js'
import { parseSessionRequest, verifySessionRequest, type SessionDeps } from '../../../src/schemes/sessions/verify.js'

const key = await generateClientKey('ES256')
const ALICE = 'alice.example' as Identity
const json = (seg: string) => JSON.parse(Buffer.from(seg, 'base64url').toString('utf8')) as Record<string, unknown>

interface Gateway {
  origin: string
  log: string[]
  book: TicketBook
  revocations: ReturnType<typeof createMemoryRevocations>
  close(): Promise<void>
}

/** Accepts any proof (signatures are not the point here), mints on `epk`, checks tickets for real. */
async function startGateway(ttlMs = 3_600_000): Promise<Gateway> {
  const nonces = new Set<string>()
  const gw = { log: [] as string[], book: createTicketBook([{ id: 't1', key: randomBytes(32) }], { ttlMs, clockSkewMs: 5_000 }), revocations: createMemoryRevocations({ maxAgeMs: 7_200_000 }) } as Gateway
  const deps = (): SessionDeps => ({ tickets: gw.book, replay, revocations: gw.revocations, publicOrigin: gw.origin, maxAgeMs: 60_000, clockSkewMs: 5_000, maxProofBytes: 8192 })
  const replay = createMemoryReplayStore({ maxEntries: 10_000 })
  const server = http.createServer((req, res) => {
    void (async () => {
      const nonce = randomBytes(12).toString('base64url')
      nonces.add(nonce)
      const authz = req.headers.authorization ?? ''
      const deny = (error: string, scheme = 'DomainPoP') => {
        res.writeHead(401, { 'www-authenticate': `${scheme} ${error ? `error="${error}", ` : ''}nonce="${nonce}"`, 'domainpop-nonce': nonce, 'dpop-nonce': nonce })
        res.end()
      }
      if (authz.startsWith('DomainPoP-Session ')) {
        try {
          const claim = parseSessionRequest(authz.slice(18), req.headers['domainpop-proof'] as string | undefined, Date.now(), deps())
          await verifySessionRequest(claim, { method: req.method!, path: req.url!, nowMs: Date.now(), exporter: undefined }, deps())
          gw.log.push('session')
          res.end('ok')
        } catch (e) {
          gw.log.push(`session refused: ${isGatewayError(e) ? e.code : String(e)}`)
          deny('invalid_token', 'DomainPoP-Session')
        }
        return
      }
      let claims: Record<string, unknown> | undefined, kid = '', aud = gw.origin, proofNonce = ''
      if (authz.startsWith('DomainPoP ')) {
        const [h, p] = authz.slice(10).split('.') as [string, string]
        claims = json(p)
        kid = json(h).kid as string
        aud = claims.aud as string
        proofNonce = claims.nonce as string
        if (!nonces.has(proofNonce)) { gw.log.push('use_nonce'); return deny('use_nonce') }
      } else if (authz.startsWith('DPoP ')) {
        const [, p] = String(req.headers.dpop).split('.') as [string, string]
        claims = json(p)
        kid = key.kid
        proofNonce = (claims.nonce as string | undefined) ?? ''
        if (!nonces.has(proofNonce)) { gw.log.push('use_dpop_nonce'); return deny('use_dpop_nonce', 'DPoP') }
      }
      if (!claims) { gw.log.push('challenge'); return deny('', 'DomainPoP') }
      const headers: Record<string, string> = {}
      if (claims.epk) headers['domainpop-session'] = mintTicket({ epk: claims.epk, nonce: proofNonce, aud, kid, identity: ALICE, method: authz.startsWith('DPoP ') ? 'dpop' : 'domainpop', cb: undefined }, gw.book, Date.now())
      gw.log.push(claims.epk ? 'proof+epk' : 'proof')
      res.writeHead(200, headers)
      res.end('ok')
    })()
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  gw.origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  gw.close = () => new Promise<void>((r) => server.close(() => r()))
  return gw
}

t.test('DomainPoP client: negotiate, then HMAC proofs; no ticket without session: ticket', async (t) => {
  const gw = await startGateway()
  t.teardown(() => gw.close())
  const f = createDomainPopFetch({ identity: ALICE, keyUrl: 'https://alice.example/.well-known/domainpop/keys/k1', privateKey: key, session: 'ticket' })
  for (let i = 0; i < 3; i++) t.equal((await f(`${gw.origin}/api/x`, { method: i === 1 ? 'POST' : 'GET', body: i === 1 ? 'b' : undefined })).status, 200)
  t.same(gw.log, ['challenge', 'proof+epk', 'session', 'session'], 'one full proof, then the ticket')
  const plain = createDomainPopFetch({ identity: ALICE, keyUrl: 'https://alice.example/.well-known/domainpop/keys/k1', privateKey: key })
  gw.log.length = 0
  await plain(`${gw.origin}/a`); await plain(`${gw.origin}/a`)
  t.same(gw.log, ['challenge', 'proof', 'proof'], 'default: a proof per request, no epk')
})

t.test('X25519 tickets', async (t) => {
  const gw = await startGateway()
  t.teardown(() => gw.close())
  const f = createDomainPopFetch({ identity: ALICE, keyUrl: 'https://alice.example/.well-known/domainpop/keys/k1', privateKey: key, session: 'ticket', sessionCurve: 'X25519' })
  await f(`${gw.origin}/a`); await f(`${gw.origin}/a`)
  t.same(gw.log, ['challenge', 'proof+epk', 'session'])
})

t.test('a key-rotated gateway: the refused ticket is dropped, a full proof gets a new one', async (t) => {
  const gw = await startGateway()
  t.teardown(() => gw.close())
  const f = createDomainPopFetch({ identity: ALICE, keyUrl: 'https://alice.example/.well-known/domainpop/keys/k1', privateKey: key, session: 'ticket' })
  await f(`${gw.origin}/a`); await f(`${gw.origin}/a`)
  gw.book = createTicketBook([{ id: 't2', key: randomBytes(32) }], { ttlMs: 3_600_000, clockSkewMs: 5_000 }) // t1 dropped
  gw.log.length = 0
  t.equal((await f(`${gw.origin}/a`)).status, 200)
  t.same(gw.log, ['session refused: ticket_key_unknown', 'proof+epk'], 'fell back to a full proof (the 401 carried a nonce)')
  t.equal((await f(`${gw.origin}/a`)).status, 200)
  t.same(gw.log.at(-1), 'session', 'the new ticket is used')
})

t.test('a revoked identity: same fallback', async (t) => {
  const gw = await startGateway()
  t.teardown(() => gw.close())
  const f = createDomainPopFetch({ identity: ALICE, keyUrl: 'https://alice.example/.well-known/domainpop/keys/k1', privateKey: key, session: 'ticket' })
  await f(`${gw.origin}/a`)
  await gw.revocations.revoke(ALICE, Date.now() + 1)
  gw.log.length = 0
  await new Promise((r) => setTimeout(r, 5)) // the new ticket must be minted after the revocation time (ms)
  t.equal((await f(`${gw.origin}/a`)).status, 200)
  t.same(gw.log, ['session refused: session_revoked', 'proof+epk'])
})

t.test('a stream body cannot be sent twice: the refusal is returned, the ticket still dropped', async (t) => {
  const gw = await startGateway()
  t.teardown(() => gw.close())
  const f = createDomainPopFetch({ identity: ALICE, keyUrl: 'https://alice.example/.well-known/domainpop/keys/k1', privateKey: key, session: 'ticket' })
  await f(`${gw.origin}/a`)
  await gw.revocations.revoke(ALICE, Date.now() + 1)
  const stream = new ReadableStream({ start(c) { c.enqueue(new TextEncoder().encode('x')); c.close() } })
  const r = await f(`${gw.origin}/a`, { method: 'POST', body: stream, duplex: 'half' } as RequestInit)
  t.equal(r.status, 401)
  gw.log.length = 0
  await new Promise((r) => setTimeout(r, 5))
  await f(`${gw.origin}/a`)
  t.same(gw.log, ['proof+epk'], 'next request: a full proof, not the dead ticket')
})

t.test('renewal before expiry', async (t) => {
  const gw = await startGateway(100_000) // expires_in=100: renewed 10 s before
  t.teardown(() => gw.close())
  let now = Date.now()
  const f = createDomainPopFetch({ identity: ALICE, keyUrl: 'https://alice.example/.well-known/domainpop/keys/k1', privateKey: key, session: 'ticket', now: () => now })
  await f(`${gw.origin}/a`)
  now += 89_000
  await f(`${gw.origin}/a`)
  now += 1_000
  await f(`${gw.origin}/a`)
  t.same(gw.log, ['challenge', 'proof+epk', 'session', 'proof+epk'], 'at 90 s of 100 a full proof asks for a new ticket')
})

t.test('DPoP client: epk in the DPoP proof, then the ticket', async (t) => {
  const gw = await startGateway()
  t.teardown(() => gw.close())
  const f = createDpopFetch({ accessToken: 'a.b.c', privateKey: key, session: 'ticket' })
  for (let i = 0; i < 3; i++) t.equal((await f(`${gw.origin}/api`)).status, 200)
  t.same(gw.log, ['use_dpop_nonce', 'proof+epk', 'session', 'session'])
  gw.book = createTicketBook([{ id: 't9', key: randomBytes(32) }], { ttlMs: 3_600_000, clockSkewMs: 5_000 })
  gw.log.length = 0
  t.equal((await f(`${gw.origin}/api`)).status, 200)
  t.same(gw.log, ['session refused: ticket_key_unknown', 'proof+epk'], 'falls back to token + DPoP proof')
})

t.test('popgate fetch --session ticket asks for a ticket and says whether one came', async (t) => {
  const { mkdtemp, rm } = await import('node:fs/promises')
  const { tmpdir } = await import('node:os')
  const { join } = await import('node:path')
  const { saveClientKey } = await import('../../../src/client/keys.js')
  const { popgate } = await import('../../integration/cli-run.js')
  const dir = await mkdtemp(join(tmpdir(), 'popgate-session-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  const { privateFile } = await saveClientKey(key, dir)
  const gw = await startGateway()
  t.teardown(() => gw.close())
  const args = [`${gw.origin}/a`, '--identity', ALICE, '--key', privateFile, '--key-url', 'https://alice.example/.well-known/domainpop/keys/k1']
  const r = await popgate(['fetch', ...args, '--session', 'ticket', '-i'])
  t.equal(r.code, 0, r.stderr)
  t.match(r.stdout, /domainpop-session: ticket="[^"]+", epk="[^"]+", expires_in=3600/)
  t.match(r.stderr, /session ticket granted, expires in 3600 s/)
  t.same(gw.log, ['challenge', 'proof+epk'])
  const none = await popgate(['fetch', ...args])
  t.equal(none.stderr, '', 'without --session nothing is said')
  const bad = await popgate(['fetch', ...args, '--session', 'cookie'])
  t.equal(bad.code, 2)
  t.match(bad.stderr, /--session cookie: expected ticket or none/)
})
