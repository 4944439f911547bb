// The signed upstream assertion (proxy/assertion.ts) and its keys
// (secrets/assertion-keys.ts): an assertion verifies with jose against the
// JWKS the signer publishes, with the claims PROTOCOL.md §7 lists; any edit to
// it breaks the signature; with several keys the newest signs and all are
// published; the secrets file's keys are checked before use, and a pasted key
// whose public half does not match its private half is refused.

import t from 'tap'
import { generateKeyPairSync } from 'node:crypto'
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify, type JSONWebKeySet } from 'jose'
import { createAssertionSigner, ASSERTION_TYPE } from '../../src/proxy/assertion.js'
import { generateAssertionKey, ecThumbprint } from '../../src/secrets/assertion-keys.js'
import { parseSecrets } from '../../src/secrets/load.js'
import type { Principal } from '../../src/schemes/types.js'

const ISSUER = 'https://gw.test'
const AUD = 'http://127.0.0.1:3000'
const alice: Principal = { identity: 'alice.test', method: 'domainpop', thumbprint: 'NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs', confirmation: {}, channelBound: false, token: undefined, responseHeaders: undefined }
const verifyWith = (jwks: string, jwt: string, now = new Date()) =>
  jwtVerify(jwt, createLocalJWKSet(JSON.parse(jwks) as JSONWebKeySet), { issuer: ISSUER, audience: AUD, typ: ASSERTION_TYPE, algorithms: ['ES256'], currentDate: now })

t.test('verifies with the published JWKS and carries the §7 claims', async (t) => {
  const signer = createAssertionSigner([generateAssertionKey('a1')], { issuer: ISSUER, audience: AUD })
  const nowMs = Date.now()
  const jwt = signer.sign({ ...alice, channelBound: true }, 'POST', '/reports/q3', 'reports', nowMs)
  const { payload, protectedHeader } = await verifyWith(signer.jwks, jwt)
  t.same(protectedHeader, { alg: 'ES256', typ: ASSERTION_TYPE, kid: 'a1' })
  t.match(payload, { iss: ISSUER, aud: AUD, sub: 'alice.test', auth_method: 'domainpop', cnf: { jkt: alice.thumbprint }, rule: 'reports', htm: 'POST', htu: 'https://gw.test/reports/q3', channel_bound: true })
  t.equal(payload.iat, Math.floor(nowMs / 1000))
  t.equal(payload.exp! - payload.iat!, 60, '60 s life')
  t.match(payload.jti, /^[0-9a-f-]{36}$/)
  const other = signer.sign(alice, 'GET', '/x', undefined, nowMs)
  const p2 = (await verifyWith(signer.jwks, other)).payload
  t.not(p2.jti, payload.jti, 'a fresh jti each time')
  t.notOk('rule' in p2, 'no rule id, no claim')
  t.notOk('channel_bound' in p2, 'channel_bound only when true')
  await t.rejects(verifyWith(signer.jwks, other, new Date(nowMs + 61_000)), { code: 'ERR_JWT_EXPIRED' }, 'dead after 60 s')
})

t.test('a tampered assertion does not verify', async (t) => {
  const signer = createAssertionSigner([generateAssertionKey('a1')], { issuer: ISSUER, audience: AUD })
  const jwt = signer.sign(alice, 'GET', '/foo', 'foo', Date.now())
  const [h, p, s] = jwt.split('.') as [string, string, string]
  const claims = JSON.parse(Buffer.from(p, 'base64url').toString())
  const forged = Buffer.from(JSON.stringify({ ...claims, sub: 'admin.test' })).toString('base64url')
  await t.rejects(verifyWith(signer.jwks, `${h}.${forged}.${s}`), { code: 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED' }, 'identity changed')
  const flipped = s.slice(0, 10) + (s[10] === 'A' ? 'B' : 'A') + s.slice(11)
  await t.rejects(verifyWith(signer.jwks, `${h}.${p}.${flipped}`), { code: 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED' }, 'signature changed')
  const stranger = createAssertionSigner([generateAssertionKey('a1')], { issuer: ISSUER, audience: AUD })
  await t.rejects(verifyWith(signer.jwks, stranger.sign(alice, 'GET', '/foo', 'foo', Date.now())), { code: 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED' }, 'another key with the same kid')
  await t.rejects(jwtVerify(jwt, createLocalJWKSet(JSON.parse(signer.jwks)), { issuer: ISSUER, audience: 'https://elsewhere' }), { code: 'ERR_JWT_CLAIM_VALIDATION_FAILED' }, 'another audience')
})

t.test('rotation: the JWKS holds every configured key; the newest signs; the previous key\'s assertions still verify', async (t) => {
  const [a1, a2, a3] = [generateAssertionKey('a1'), generateAssertionKey('a2'), generateAssertionKey('a3')]
  const before = createAssertionSigner([a1], { issuer: ISSUER, audience: AUD })
  const after = createAssertionSigner([a3, a2, a1], { issuer: ISSUER, audience: AUD })
  const jwks = JSON.parse(after.jwks) as { keys: Record<string, string>[] }
  t.same(jwks.keys.map((k) => k.kid), ['a3', 'a2', 'a1'])
  for (const k of jwks.keys) {
    t.same(Object.keys(k).sort(), ['alg', 'crv', 'kid', 'kty', 'use', 'x', 'y'], `${k.kid}: public members only`)
    t.notOk('d' in k)
  }
  const jwt = after.sign(alice, 'GET', '/foo', 'foo', Date.now())
  t.equal(decodeProtectedHeader(jwt).kid, 'a3', 'the first (newest) key signs')
  await verifyWith(after.jwks, jwt)
  await verifyWith(after.jwks, before.sign(alice, 'GET', '/foo', 'foo', Date.now()))
  t.pass('an assertion signed before the rotation verifies with the new JWKS')
})

const jwkLine = (jwk: Record<string, unknown>) => JSON.stringify(jwk)
const NONCE = 'nonce: [{ id: n1, secret: ' + 'a'.repeat(43) + ' }]\n'
const privateJwk = () => generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' }) as Record<string, string>

t.test('secrets file: assertion keys are read, newest first, with kid defaulting to the thumbprint', async (t) => {
  const k1 = privateJwk(), k2 = privateJwk()
  const r = parseSecrets(NONCE + `assertion:\n  - ${jwkLine({ kid: 'new', ...k2, alg: 'ES256', use: 'sig' })}\n  - ${jwkLine(k1)}\n`, 'secrets.yaml')
  t.same(r.problems, [])
  t.same(r.secrets!.assertion.map((k) => k.kid), ['new', ecThumbprint(k1.x!, k1.y!)])
  t.same(parseSecrets(NONCE, 'secrets.yaml').secrets!.assertion, [], 'none listed: none made up')
})

t.test('secrets file: a bad assertion key is refused at its item, and its private part is never echoed', async (t) => {
  const k = privateJwk(), other = privateJwk()
  const cases: [Record<string, unknown> | string, RegExp][] = [
    [{ ...k, x: other.x, y: other.y }, /x and y are not the public half of d/],
    [{ ...k, crv: 'P-384' }, /kty: EC with crv: P-256/],
    [{ kty: 'OKP', crv: 'Ed25519', x: k.x, d: k.d }, /kty: EC with crv: P-256/],
    [{ ...k, d: undefined }, /d must be 32 bytes/],
    [{ ...k, alg: 'ES384' }, /alg, when given, must be ES256/],
    [{ ...k, key_ops: ['sign'] }, /key_ops: unknown key/],
    [{ ...k, kid: 'a b' }, /kid must be/],
    [{ ...k, d: 'A'.repeat(43) }, /not a valid P-256 private key|not the public half/],
    ['not-a-map', /must be an EC P-256 private JWK/],
  ]
  for (const [item, re] of cases) {
    const r = parseSecrets(NONCE + `assertion:\n  - ${typeof item === 'string' ? item : jwkLine(JSON.parse(JSON.stringify(item)))}\n`, 'secrets.yaml')
    t.equal(r.secrets, undefined, String(re))
    const text = r.problems.map((p) => `${p.line}: ${p.path}: ${p.message}`).join('\n')
    t.match(text, re)
    t.match(text, /^3: assertion\[0\]/)
    t.notMatch(text, k.d!, 'the private key is not in the message')
  }
  const dup = parseSecrets(NONCE + `assertion:\n  - ${jwkLine({ kid: 'a', ...k })}\n  - ${jwkLine({ kid: 'a', ...other })}\n`, 'secrets.yaml')
  t.match(dup.problems.map((p) => p.message), [/duplicate kid a/])
  t.match(parseSecrets(NONCE + 'assertion: {}\n', 'secrets.yaml').problems.map((p) => p.message), [/must be a list/])
})

t.test('a token principal: the token\'s sub, client_id and scope are signed, not only sent as plain headers (issue 19)', async (t) => {
  const signer = createAssertionSigner([generateAssertionKey('a1')], { issuer: ISSUER, audience: AUD })
  const dpop: Principal = { ...alice, method: 'dpop', token: { sub: 'mallory', clientId: 'svc-a', scopes: ['api:read', 'api:write'] } }
  const { payload } = await verifyWith(signer.jwks, signer.sign(dpop, 'GET', '/foo', 'foo', Date.now()))
  t.match(payload, { sub: 'alice.test', token_sub: 'mallory', client_id: 'svc-a', scope: 'api:read api:write' })
  const bare = (await verifyWith(signer.jwks, signer.sign({ ...dpop, token: { scopes: [] } }, 'GET', '/foo', 'foo', Date.now()))).payload
  t.notOk('token_sub' in bare || 'client_id' in bare || 'scope' in bare, 'absent facts, no claims')
  const domainpop = (await verifyWith(signer.jwks, signer.sign(alice, 'GET', '/foo', 'foo', Date.now()))).payload
  t.notOk('token_sub' in domainpop, 'no token, no token_sub')
})
