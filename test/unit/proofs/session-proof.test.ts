// The HS256 session proof (PROTOCOL.md §4) on node:crypto, with jose as the
// oracle in both directions, and every malformed or wrong proof refused with
// its own code.

import t from 'tap'
import { createHmac, randomBytes } from 'node:crypto'
import { SignJWT, jwtVerify } from 'jose'
import { GatewayError } from '../../../src/errors.js'
import {
  SESSION_PROOF_TYP, SessionClockError, athOf, checkSessionClaims, signSessionProof, splitSessionProof, verifySessionProofMac,
} from '../../../src/proofs/session-proof.js'

const SK = randomBytes(32)
const TICKET = 'eyJhbGciOiJkaXIifQ..aXY.Y3Q.dGFn'
const ORIGIN = 'https://bob.example'
const NOW = 1_765_100_000_000
const ctx = { method: 'POST', path: '/api/x', publicOrigin: ORIGIN, nowMs: NOW, maxAgeMs: 60_000, clockSkewMs: 5_000, ath: athOf(TICKET) }
const MAX = 8192

const check = (proof: string, sk = SK, c = ctx) => checkSessionClaims(verifySessionProofMac(splitSessionProof(proof, MAX), sk), c)
const code = (fn: () => unknown): string | undefined => {
  try { fn() } catch (e) { return e instanceof GatewayError ? e.code : `not a GatewayError: ${String(e)}` }
  return undefined
}
const sign = (claims: object = {}) => signSessionProof(SK, { htm: 'POST', htu: `${ORIGIN}/api/x`, ticket: TICKET, iatSec: NOW / 1000, ...claims })
/** A proof with any header and payload, HMAC'd with `sk`. */
const forge = (header: object, payload: object, sk = SK) => {
  const si = `${Buffer.from(JSON.stringify(header)).toString('base64url')}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}`
  return `${si}.${createHmac('sha256', sk).update(si).digest('base64url')}`
}
const goodPayload = { htm: 'POST', htu: `${ORIGIN}/api/x`, iat: NOW / 1000, jti: 'j1', ath: athOf(TICKET) }

t.test('round trip; query and fragment are not part of htu', async (t) => {
  const c = check(signSessionProof(SK, { htm: 'POST', htu: `${ORIGIN}/api/x?q=1#f`, ticket: TICKET, iatSec: NOW / 1000, jti: 'abc', cb: 'x' }))
  t.same(c, { jti: 'abc', iatSec: NOW / 1000, cb: 'x' })
})

t.test('jose interop: jose-signed proofs verify here, ours verify in jose', async (t) => {
  const byJose = await new SignJWT(goodPayload).setProtectedHeader({ alg: 'HS256', typ: SESSION_PROOF_TYP }).sign(SK)
  t.same(check(byJose).jti, 'j1', 'jose → node:crypto')
  const ours = sign({ jti: 'j2' })
  const { payload, protectedHeader } = await jwtVerify(ours, SK, { typ: SESSION_PROOF_TYP, algorithms: ['HS256'], currentDate: new Date(NOW) })
  t.equal(protectedHeader.typ, SESSION_PROOF_TYP)
  t.equal(payload.ath, athOf(TICKET))
  t.equal(payload.jti, 'j2')
  await t.rejects(jwtVerify(ours, randomBytes(32), { algorithms: ['HS256'] }), 'jose too refuses another key')
})

t.test('shape: each malformed proof is session_proof_malformed', async (t) => {
  const good = sign()
  const [h, p, s] = good.split('.') as [string, string, string]
  const cases: [string, string][] = [
    ['two segments', `${h}.${p}`], ['four segments', `${good}.x`], ['empty header', `.${p}.${s}`],
    ['padding', `${h}=.${p}.${s}`], ['header not JSON', `bm90IGpzb24.${p}.${s}`],
    ['header an array', `${Buffer.from('[1]').toString('base64url')}.${p}.${s}`],
    ['oversized', 'a'.repeat(MAX + 1)],
  ]
  for (const [what, proof] of cases) t.equal(code(() => check(proof)), 'session_proof_malformed', what)
  t.equal(code(() => check(forge({ typ: SESSION_PROOF_TYP, alg: 'HS256' }, [1] as unknown as object))), 'session_proof_malformed', 'payload not an object (after the MAC)')
})

t.test('header: typ and alg exactly, nothing else', async (t) => {
  const cases: [string, object][] = [
    ['DomainPoP typ', { typ: 'domainpop+jwt', alg: 'HS256' }], ['DPoP typ', { typ: 'dpop+jwt', alg: 'HS256' }], ['no typ', { alg: 'HS256' }],
    ['alg none', { typ: SESSION_PROOF_TYP, alg: 'none' }], ['HS384', { typ: SESSION_PROOF_TYP, alg: 'HS384' }], ['ES256', { typ: SESSION_PROOF_TYP, alg: 'ES256' }],
    ['crit', { typ: SESSION_PROOF_TYP, alg: 'HS256', crit: ['x'], x: 1 }], ['kid', { typ: SESSION_PROOF_TYP, alg: 'HS256', kid: 'k' }],
    ['jwk', { typ: SESSION_PROOF_TYP, alg: 'HS256', jwk: {} }],
  ]
  for (const [what, header] of cases) t.equal(code(() => check(forge(header, goodPayload))), 'session_proof_invalid', what)
  t.equal(check(forge({ alg: 'HS256', typ: SESSION_PROOF_TYP }, goodPayload)).jti, 'j1', 'member order does not matter')
})

t.test('the HMAC: another key, a cut or altered tag, an altered payload', async (t) => {
  const good = sign()
  t.equal(code(() => check(good, randomBytes(32))), 'session_proof_signature_invalid', 'another key')
  t.equal(code(() => check(good.slice(0, -2))), 'session_proof_signature_invalid', 'truncated MAC')
  const [h, p, s] = good.split('.') as [string, string, string]
  t.equal(code(() => check(`${h}.${p}.${s}${s}`)), 'session_proof_signature_invalid', 'doubled MAC')
  const alteredPayload = Buffer.from(JSON.stringify({ ...goodPayload, htm: 'DELETE' })).toString('base64url')
  t.equal(code(() => check(`${h}.${alteredPayload}.${s}`)), 'session_proof_signature_invalid', 'payload changed under the old MAC')
  const flipped = Buffer.from(s, 'base64url'); flipped[0]! ^= 1
  t.equal(code(() => check(`${h}.${p}.${flipped.toString('base64url')}`)), 'session_proof_signature_invalid', 'one bit')
})

t.test('claims', async (t) => {
  t.equal(code(() => check(sign(), SK, { ...ctx, ath: athOf(TICKET + 'x') })), 'session_proof_ath_mismatch', 'the ath of another ticket')
  t.equal(code(() => check(forge({ typ: SESSION_PROOF_TYP, alg: 'HS256' }, { ...goodPayload, ath: undefined }))), 'session_proof_ath_mismatch', 'no ath')
  t.equal(code(() => check(sign({ htm: 'GET' }))), 'session_proof_mismatch', 'htm')
  t.equal(code(() => check(sign({ htu: `${ORIGIN}/api/y` }))), 'session_proof_mismatch', 'htu path')
  t.equal(code(() => check(sign({ htu: `https://eve.example/api/x` }))), 'session_proof_mismatch', 'htu origin')
  t.equal(code(() => check(forge({ typ: SESSION_PROOF_TYP, alg: 'HS256' }, { ...goodPayload, iat: '1' }))), 'session_proof_invalid', 'iat a string')
  t.equal(code(() => check(forge({ typ: SESSION_PROOF_TYP, alg: 'HS256' }, { ...goodPayload, jti: '' }))), 'session_proof_invalid', 'empty jti')
  t.equal(code(() => check(forge({ typ: SESSION_PROOF_TYP, alg: 'HS256' }, { ...goodPayload, jti: 'x'.repeat(129) }))), 'session_proof_invalid', 'long jti')
})

t.test('iat window edges, and the gateway time in the error', async (t) => {
  t.ok(check(sign({ iatSec: (NOW + 5_000) / 1000 })), 'now + skew accepted')
  t.ok(check(sign({ iatSec: (NOW - 65_000) / 1000 })), 'now - maxAge - skew accepted')
  for (const iat of [(NOW + 6_000) / 1000, (NOW - 66_000) / 1000]) {
    try { check(sign({ iatSec: iat })); t.fail('accepted') } catch (e) {
      t.type(e, SessionClockError)
      t.equal((e as SessionClockError).code, 'session_proof_iat_invalid')
      t.equal((e as SessionClockError).serverTimeSec, NOW / 1000, 'carries the gateway time')
      t.match((e as SessionClockError).detail, String(NOW / 1000))
    }
  }
})
