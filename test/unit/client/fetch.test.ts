// The Node client (src/client/fetch.ts) against a tiny local server that plays
// a gateway: it issues nonces in challenges, checks each proof's signature and
// `nonce` claim, answers use_nonce, and pushes a fresh DomainPoP-Nonce on
// success. Everything on 127.0.0.1:0.

import t from 'tap'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { verify, randomBytes } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createDomainPopFetch, nonceFromResponse } from '../../../src/client/fetch.js'
import { generateClientKey, saveClientKey, clientKeyFrom, type ClientKey } from '../../../src/client/keys.js'
import { serializeChallenge } from '../../../src/http/auth-header.js'

const KEY_URL = 'https://alice.test/.well-known/domainpop/keys/k1'
const key = await generateClientKey('ES256')

interface Seen {
  readonly method: string
  readonly url: string
  readonly body: string
  readonly proof?: { header: Record<string, unknown>; claims: Record<string, unknown>; signatureOk: boolean }
}
type Mode = 'normal' | 'use_nonce_always' | 'use_nonce_once' | 'invalid_proof' | 'basic' | 'forbidden'

interface FakeGateway {
  readonly origin: string
  readonly seen: Seen[]
  readonly issued: string[]
  mode: Mode
  close(): Promise<void>
}

function decodeProof(jws: string, k: ClientKey): Seen['proof'] {
  const [h, p, s] = jws.split('.')
  const json = (seg: string) => JSON.parse(Buffer.from(seg, 'base64url').toString('utf8')) as Record<string, unknown>
  const header = json(h!)
  const data = Buffer.from(`${h}.${p}`), sig = Buffer.from(s!, 'base64url')
  const signatureOk = header.alg === 'ES256' ? verify('sha256', data, { key: k.privateKey, dsaEncoding: 'ieee-p1363' }, sig)
    : header.alg === 'Ed25519' ? verify(null, data, k.privateKey, sig)
    : false
  return { header, claims: json(p!), signatureOk }
}

async function startFakeGateway(k: ClientKey = key): Promise<FakeGateway> {
  const seen: Seen[] = []
  const issued: string[] = []
  const issue = () => { const n = randomBytes(12).toString('base64url'); issued.push(n); return n }
  let useNonceSent = false
  const gw: FakeGateway = { origin: '', seen, issued, mode: 'normal', close: async () => {} }
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const authz = req.headers.authorization
      const proof = authz?.startsWith('DomainPoP ') ? decodeProof(authz.slice('DomainPoP '.length), k) : undefined
      seen.push({ method: req.method!, url: req.url!, body: Buffer.concat(chunks).toString('utf8'), proof })
      const challenge = (error?: string) => {
        const nonce = issue()
        const params: Record<string, string> = { realm: gw.origin, nonce, algs: 'ES256' }
        if (error) params.error = error
        res.writeHead(401, { 'www-authenticate': serializeChallenge('DomainPoP', params), 'domainpop-nonce': nonce, 'content-type': 'application/problem+json' })
        res.end(JSON.stringify({ code: error ?? 'credentials_missing' }))
      }
      if (gw.mode === 'basic') { res.writeHead(401, { 'www-authenticate': 'Basic realm="x"' }); res.end(); return }
      if (!proof) return challenge()
      if (gw.mode === 'forbidden') { res.writeHead(403); res.end('forbidden'); return }
      if (gw.mode === 'invalid_proof') return challenge('invalid_proof')
      if (gw.mode === 'use_nonce_always') return challenge('use_nonce')
      if (gw.mode === 'use_nonce_once' && !useNonceSent) { useNonceSent = true; return challenge('use_nonce') }
      if (!proof.signatureOk || !issued.includes(proof.claims.nonce as string)) return challenge('use_nonce')
      res.writeHead(200, { 'domainpop-nonce': issue(), 'content-type': 'text/plain' })
      res.end(`ok ${req.method} ${req.url}`)
    })
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  return Object.assign(gw, {
    origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()) }),
  })
}

const client = (extra: Partial<Parameters<typeof createDomainPopFetch>[0]> = {}) =>
  createDomainPopFetch({ identity: 'alice.test', keyUrl: KEY_URL, privateKey: key, ...extra })

t.test('answers the challenge: a bare 401 → one retry with a signed proof', async (t) => {
  const gw = await startFakeGateway()
  t.teardown(() => gw.close())
  const before = Math.floor(Date.now() / 1000)
  const res = await client()(`${gw.origin}/reports/q3?x=1#frag`)
  t.equal(res.status, 200)
  t.equal(await res.text(), 'ok GET /reports/q3?x=1')
  t.equal(gw.seen.length, 2)
  t.equal(gw.seen[0]!.proof, undefined, 'no nonce yet: no proof sent')
  const p = gw.seen[1]!.proof!
  t.equal(p.signatureOk, true)
  t.same(p.header, { typ: 'domainpop+jwt', alg: 'ES256', jku: KEY_URL, kid: key.kid })
  t.match(p.claims, { iss: 'alice.test', aud: gw.origin, htm: 'GET', htu: `${gw.origin}/reports/q3`, nonce: gw.issued[0] })
  t.ok(typeof p.claims.iat === 'number' && p.claims.iat >= before && p.claims.iat <= Math.floor(Date.now() / 1000) + 1, 'iat is now, in seconds')
  t.match(p.claims.jti, /^[A-Za-z0-9_-]{16,128}$/)
})

t.test('caches the nonce and takes the fresh one a response pushes', async (t) => {
  const gw = await startFakeGateway()
  t.teardown(() => gw.close())
  const f = client()
  t.equal((await f(`${gw.origin}/a`)).status, 200)
  t.equal(gw.seen.length, 2)
  for (let i = 0; i < 3; i++) {
    const res = await f(`${gw.origin}/b${i}`, { method: 'post', body: `body ${i}` })
    t.equal(res.status, 200)
    const last = gw.seen.at(-1)!
    t.equal(last.proof?.claims.nonce, gw.issued.at(-2), `request ${i}: the nonce pushed by the previous 200`)
    t.equal(last.proof?.claims.htm, 'POST', 'method upper-cased, as sent')
    t.equal(last.method, 'POST')
    t.equal(last.body, `body ${i}`)
  }
  t.equal(gw.seen.length, 5, 'no extra round trip once a nonce is cached')
})

t.test('nonces are cached per origin and never sent to another', async (t) => {
  const a = await startFakeGateway()
  const b = await startFakeGateway()
  t.teardown(() => Promise.all([a.close(), b.close()]))
  const f = client()
  t.equal((await f(`${a.origin}/x`)).status, 200)
  t.equal((await f(`${b.origin}/x`)).status, 200)
  t.equal(b.seen[0]!.proof, undefined, 'the first request to b carries no proof (a\'s nonce is a\'s)')
  t.equal(b.seen[1]!.proof?.claims.aud, b.origin)
  t.equal((await f(`${a.origin}/y`)).status, 200)
  t.equal(a.seen.length, 3, 'a\'s nonce still cached after talking to b')
  t.ok(a.issued.includes(a.seen[2]!.proof?.claims.nonce as string))
})

t.test('audience: aud and htu name the gateway\'s publicOrigin, not the URL', async (t) => {
  const gw = await startFakeGateway()
  t.teardown(() => gw.close())
  const res = await client({ audience: 'https://bob.example' })(`${gw.origin}/p?q`)
  t.equal(res.status, 200)
  t.match(gw.seen[1]!.proof!.claims, { aud: 'https://bob.example', htu: 'https://bob.example/p' })
})

t.test('use_nonce: retried exactly once', async (t) => {
  const gw = await startFakeGateway()
  t.teardown(() => gw.close())
  const f = client()
  await f(`${gw.origin}/warm`)
  const before = gw.seen.length
  gw.mode = 'use_nonce_once'
  const res = await f(`${gw.origin}/once`, { method: 'PUT', body: 'payload' })
  t.equal(res.status, 200, 'the retry succeeds')
  t.equal(gw.seen.length, before + 2)
  t.equal(gw.seen.at(-1)!.proof?.claims.nonce, gw.issued.at(-2), 'the retry uses the nonce of the use_nonce answer')
  t.equal(gw.seen.at(-1)!.body, 'payload', 'and re-sends the body')

  gw.mode = 'use_nonce_always'
  const n = gw.seen.length
  const res2 = await f(`${gw.origin}/always`)
  t.equal(res2.status, 401)
  t.equal(gw.seen.length, n + 2, 'one retry, not a loop')
  t.match(await res2.json(), { code: 'use_nonce' }, 'the last answer is returned, body intact')
})

t.test('invalid_proof, other schemes, 403: not retried', async (t) => {
  const gw = await startFakeGateway()
  t.teardown(() => gw.close())
  const f = client()
  await f(`${gw.origin}/warm`)
  for (const [mode, status] of [['invalid_proof', 401], ['forbidden', 403], ['basic', 401]] as [Mode, number][]) {
    gw.mode = mode
    const n = gw.seen.length
    const res = await f(`${gw.origin}/${mode}`)
    t.equal(res.status, status, mode)
    t.equal(gw.seen.length, n + 1, `${mode}: exactly one request`)
  }
})

t.test('a non-replayable (stream) body is not retried', async (t) => {
  const gw = await startFakeGateway()
  t.teardown(() => gw.close())
  const stream = new ReadableStream<Uint8Array>({ start(c) { c.enqueue(new TextEncoder().encode('streamed')); c.close() } })
  const res = await client()(`${gw.origin}/upload`, { method: 'POST', body: stream, duplex: 'half' } as RequestInit)
  t.equal(res.status, 401, 'the challenge is handed back')
  t.equal(gw.seen.length, 1)
  t.equal(gw.seen[0]!.body, 'streamed')
  t.ok(nonceFromResponse(res), 'with its nonce, for the caller to use')
})

t.test('every request is signed with a new jti', async (t) => {
  const gw = await startFakeGateway()
  t.teardown(() => gw.close())
  const f = client()
  await Promise.all(Array.from({ length: 5 }, () => f(`${gw.origin}/warm`)))
  for (let i = 0; i < 20; i++) await f(`${gw.origin}/n${i}`)
  const proofs = gw.seen.map((s) => s.proof).filter((p) => p !== undefined)
  t.ok(proofs.length >= 20)
  t.ok(proofs.every((p) => p.signatureOk), 'all signatures verify')
  const jtis = proofs.map((p) => p.claims.jti)
  t.equal(new Set(jtis).size, jtis.length, 'no jti repeats, retries included')
})

t.test('the private key may be a ClientKey, a KeyObject or a JWK file', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'popgate-client-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  const ed = await generateClientKey('Ed25519')
  const { privateFile } = await saveClientKey(ed, dir)
  t.equal((await clientKeyFrom(ed.privateKey)).kid, ed.kid)
  for (const [why, privateKey] of [['file', privateFile], ['KeyObject', ed.privateKey], ['ClientKey', ed]] as const) {
    const gw = await startFakeGateway(ed)
    const res = await createDomainPopFetch({ identity: 'alice.test', keyUrl: KEY_URL, privateKey })(`${gw.origin}/k`)
    await gw.close()
    t.equal(res.status, 200, why)
    const p = gw.seen[1]?.proof
    t.same([p?.header.kid, p?.header.alg, p?.signatureOk], [ed.kid, 'Ed25519', true], `${why}: kid, alg and signature of the Ed25519 key`)
  }
})
