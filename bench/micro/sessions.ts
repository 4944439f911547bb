// The session cookie's and the session ticket path's CPU per request (PROTOCOL.md §4), one request's
// checks back to back: opening the ticket and checking the HS256 session
// proof on node:crypto (cold: AES-GCM open; warm: the opened-ticket cache hit
// by `ath`), against the same wire format through jose (async WebCrypto, the
// test oracle), and one ES256 proof verify for scale. Run alone with
// `node dist/bench/micro/sessions.js`, or as part of `npm run bench`.

import { createPublicKey, generateKeyPairSync, randomBytes, sign, verify } from 'node:crypto'
import { compactDecrypt, jwtVerify } from 'jose'
import type { Identity } from '../../src/identity/domain.js'
import { athOf, checkSessionClaims, signSessionProof, splitSessionProof, verifySessionProofMac } from '../../src/proofs/session-proof.js'
import { createTicketBook } from '../../src/schemes/sessions/ticket.js'
import { createCookieJar } from '../../src/schemes/sessions/cookie.js'
import { createCookieScheme } from '../../src/schemes/sessions/cookie-scheme.js'
import { createMemoryRevocations } from '../../src/revocation/memory.js'
import type { RequestView } from '../../src/schemes/types.js'

export interface SessionsMicroRow { readonly path: string; readonly usPerOp: number }

const ORIGIN = 'https://gw.bench'
const KID = 'NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs'

/** µs per op; a synchronous op is not awaited (an await costs more than an HMAC). */
async function perOp(ms: number, op: () => unknown): Promise<number> {
  const run = async () => { const r = op(); if (r instanceof Promise) await r }
  const warm = Date.now() + 100
  while (Date.now() < warm) await run()
  let n = 0
  const t0 = process.hrtime.bigint(), until = t0 + BigInt(ms) * 1_000_000n
  if (op() instanceof Promise) while (process.hrtime.bigint() < until) for (let i = 0; i < 64; i++, n++) await op()
  else while (process.hrtime.bigint() < until) for (let i = 0; i < 64; i++, n++) op()
  return Number(process.hrtime.bigint() - t0) / 1000 / n
}

export async function runSessionsMicro(ms = 500): Promise<SessionsMicroRow[]> {
  const key = { id: 't1', key: randomBytes(32) }
  const sk = randomBytes(32)
  const now = Date.now()
  const book = () => createTicketBook([key], { ttlMs: 3_600_000, clockSkewMs: 5_000, cacheSize: 10 })
  const mint = () => book().mint({ sk, identity: 'alice.bench' as Identity, jkt: KID, method: 'domainpop', cb: undefined }, now).ticket
  const tickets = [mint(), mint()]
  const ticket = tickets[0]!
  const proofs = tickets.map((tk) => signSessionProof(sk, { htm: 'GET', htu: `${ORIGIN}/api/data`, ticket: tk, iatSec: Math.floor(now / 1000), jti: 'j' }))
  const proof = proofs[0]!
  const claimsCtx = (ath: string) => ({ method: 'GET', path: '/api/data', publicOrigin: ORIGIN, nowMs: now, maxAgeMs: 60_000, clockSkewMs: 5_000, ath })
  const check = (b: ReturnType<typeof book>, i: number) => {
    const ath = athOf(tickets[i]!)
    const t = b.open(tickets[i]!, ath, now)
    return checkSessionClaims(verifySessionProofMac(splitSessionProof(proofs[i]!, 8192), t.sk), claimsCtx(ath))
  }
  const warmBook = book()
  // A cache of one entry and two tickets in turn: every open misses.
  const coldBook = createTicketBook([key], { ttlMs: 3_600_000, clockSkewMs: 5_000, cacheSize: 1 })
  let turn = 0
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' })
  const pub = createPublicKey(privateKey)
  const data = Buffer.from('x'.repeat(400))
  const sig = sign('sha256', data, { key: privateKey, dsaEncoding: 'ieee-p1363' })
  // The session cookie as the gate parses it (CSRF check, duplicate scan, open): cached by value, and cold (two cookies, a cache of one).
  const jar = (size: number) => createCookieJar([{ id: 'c1', key: randomBytes(32) }], { ttlMs: 3_600_000, clockSkewMs: 5_000, cacheSize: size })
  const cookieScheme = (j: ReturnType<typeof jar>) => createCookieScheme({ jar: j, name: '__Host-popgate', revocations: createMemoryRevocations({ maxAgeMs: 3_600_000, now: () => now }), allowedOrigins: new Set([ORIGIN]) })
  const warmJar = jar(10), coldJar = jar(1)
  const cookieOf = (j: ReturnType<typeof jar>) => j.mint({ identity: 'alice.bench' as Identity, jkt: KID, method: 'domainpop' }, now)
  const warmCookie = cookieOf(warmJar), coldCookies = [cookieOf(coldJar), cookieOf(coldJar)]
  const view = (value: string): RequestView => {
    const field = `theme=dark; __Host-popgate=${value}`
    return { method: 'GET', path: '/api/data', target: '/api/data', authority: 'gw.bench', nowMs: now, channel: {} as RequestView['channel'], client: '127.0.0.1', field: (n) => (n === 'cookie' ? field : undefined), cookie: () => value }
  }
  const warmScheme = cookieScheme(warmJar), coldScheme = cookieScheme(coldJar)
  const warmView = view(warmCookie), coldViews = coldCookies.map(view)
  let cturn = 0
  return [
    { path: 'session cookie, cached by value (CSRF check + duplicate scan + cache hit)', usPerOp: await perOp(ms, () => warmScheme.parse({ authorization: undefined, fields: undefined, cookie: warmCookie }, warmView)) },
    { path: 'session cookie, cold (the same + AES-GCM open + contents)', usPerOp: await perOp(ms, () => { cturn ^= 1; return coldScheme.parse({ authorization: undefined, fields: undefined, cookie: coldCookies[cturn]! }, coldViews[cturn]!) }) },
    { path: 'node:crypto, ticket cached by ath (ath + HMAC + claims)', usPerOp: await perOp(ms, () => check(warmBook, 0)) },
    { path: 'node:crypto, cold (AES-GCM open + ath + HMAC + claims)', usPerOp: await perOp(ms, () => check(coldBook, (turn ^= 1))) },
    {
      path: 'jose (compactDecrypt + jwtVerify HS256)', usPerOp: await perOp(ms, async () => {
        const { plaintext } = await compactDecrypt(ticket, key.key)
        const t = JSON.parse(new TextDecoder().decode(plaintext)) as { sk: string }
        return jwtVerify(proof, Buffer.from(t.sk, 'base64url'), { typ: 'domainpop-session+jwt', algorithms: ['HS256'], currentDate: new Date(now) })
      }),
    },
    { path: 'one ES256 verify (node:crypto), for scale', usPerOp: await perOp(ms, () => verify('sha256', data, { key: pub, dsaEncoding: 'ieee-p1363' }, sig)) },
  ]
}

if (import.meta.url === `file://${process.argv[1]}`) {
  for (const r of await runSessionsMicro(Number(process.env.BENCH_MICRO_MS ?? 1000))) console.log(`${r.usPerOp.toFixed(2).padStart(8)} µs  ${r.path}`)
}
