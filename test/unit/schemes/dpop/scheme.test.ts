// createDpopScheme (schemes/dpop/): parse with no I/O, verify with an injected
// issuer-key source, a memory replay store and a fixed clock. Each negative
// case changes one thing in an otherwise valid token + proof.

import t from 'tap'
import { randomBytes } from 'node:crypto'
import { GatewayError } from '../../../../src/errors.js'
import { createDpopScheme, type DpopClaim } from '../../../../src/schemes/dpop/index.js'
import type { IssuerKeys } from '../../../../src/schemes/dpop/issuers.js'
import { parseJwks } from '../../../../src/keys/index.js'
import { createMemoryReplayStore } from '../../../../src/replay/memory.js'
import { createNonceIssuer } from '../../../../src/secrets/nonce.js'
import type { Credentials, Scheme } from '../../../../src/schemes/types.js'
import { namespacedReplay } from '../../../../src/schemes/replay.js'
import { fakeView } from '../../../helpers/request-view.js'
import type { Rule } from '../../../../src/acl/index.js'
import { athOf, forgedJws, mintProof, mintToken, newKey, tokenClaims, type SigningKey } from '../../../helpers/dpop.js'
import { openKeyTrust } from '../../../helpers/key-trust.js'

const ORIGIN = 'https://gw.test'
const ISS = 'https://as.alice.test'
const NOW = 1_750_000_000_000
const nowSec = NOW / 1000
const nonces = createNonceIssuer([{ id: 'n1', key: randomBytes(32) }], { ttlMs: 300_000, clockSkewMs: 5_000 })
const ctx = fakeView({ method: 'GET', path: '/foo', nowMs: NOW })

async function setup(opts: { requireNonce?: boolean } = {}) {
  const issuerKey = await newKey('RS256', 'k1')
  const client = await newKey('ES256')
  const keyForCalls: string[] = []
  const set = parseJwks(JSON.stringify({ keys: [issuerKey.jwk] }))
  const issuerKeys: IssuerKeys = {
    async keyFor(token) { keyForCalls.push(token.issuer); return set.keys[0]! },
    markProven() {},
    async close() {},
  }
  const scheme = createDpopScheme({ keyTrust: openKeyTrust(),
    publicOrigin: ORIGIN,
    dpop: { enabled: true, audience: undefined, algorithms: ['RS256', 'PS256', 'ES256', 'EdDSA', 'Ed25519'], requireNonce: opts.requireNonce ?? true, issuers: {} },
    pinned: new Map(),
    proof: { maxAgeMs: 60_000, clockSkewMs: 5_000, maxBytes: 8192 },
    allowPorts: 'any',
    issuerKeys,
    replay: namespacedReplay(createMemoryReplayStore({ maxEntries: 100, now: () => NOW }), 'dpop', 71_000, () => {}),
    nonces,
    now: () => NOW,
  })
  const token = (over: { header?: Record<string, unknown>; claims?: Record<string, unknown> } = {}, key: SigningKey = issuerKey) =>
    mintToken(key, { issuer: ISS, audience: ORIGIN, client, nowSec, ...over })
  const proof = (tok: string, over: { header?: Record<string, unknown>; claims?: Record<string, unknown>; nonce?: string | undefined } = {}, key: SigningKey = client) =>
    mintProof(key, { token: tok, htm: 'GET', htu: `${ORIGIN}/foo`, nowSec, nonce: 'nonce' in over ? over.nonce : nonces.issue(NOW), ...over })
  return { scheme, issuerKey, client, token, proof, keyForCalls }
}

const creds = (auth: string, dpop?: string): Credentials => ({ authorization: auth, fields: dpop === undefined ? undefined : new Map([['dpop', dpop]]) })
const RULE = {} as Rule

/** 'ok <identity>' or the GatewayError code. */
function parse(scheme: Scheme<DpopClaim>, c: Credentials): string {
  try {
    return `ok ${scheme.parse(c, ctx).identity}`
  } catch (err) {
    return err instanceof GatewayError ? err.code : `raw ${String(err)}`
  }
}

t.test('a valid token and proof parse to the issuer host, and verify to a principal with the token facts', async (t) => {
  const { scheme, token, proof, client, keyForCalls } = await setup()
  const tok = token()
  t.equal(parse(scheme, creds(`DPoP ${tok}`, proof(tok))), 'ok as.alice.test')
  const claim = scheme.parse(creds(`DPoP ${tok}`, proof(tok)), ctx)
  const p = await scheme.verify(claim, ctx, RULE)
  t.match(p, { identity: 'as.alice.test', method: 'dpop', thumbprint: client.jkt, confirmation: { jkt: client.jkt }, channelBound: false })
  t.strictSame(p.token, { sub: 'svc-a', clientId: 'svc-a', scopes: ['api:read'] })
  t.equal(p.responseHeaders, undefined, 'a fresh nonce needs no refresh')
  t.strictSame(keyForCalls, [ISS])
})

t.test('token checks (parse, no I/O)', async (t) => {
  const { scheme, token, proof, issuerKey, client } = await setup()
  const with2 = (tok: string) => parse(scheme, creds(`DPoP ${tok}`, proof(tok)))
  t.equal(with2(token({ claims: { exp: nowSec - 60 } })), 'token_expired', 'expired')
  t.equal(with2(token({ claims: { nbf: nowSec + 60 } })), 'token_expired', 'not yet valid')
  t.equal(with2(token({ claims: { aud: 'https://other.test' } })), 'token_audience_mismatch', 'wrong aud')
  t.equal(with2(token({ claims: { aud: ['https://other.test', ORIGIN] } })), 'ok as.alice.test', 'aud array containing ours')
  t.equal(with2(token({ claims: { cnf: undefined } })), 'token_unbound', 'no cnf: a bearer token')
  t.equal(with2(token({ claims: { cnf: { jkt: client.jkt, jwk: client.jwk } } })), 'token_invalid', 'two key confirmations (jkt and jwk)')
  t.equal(with2(token({ claims: { cnf: { jkt: client.jkt, x5u: 'https://x.test/' } } })), 'token_invalid', 'a confirmation member this gateway does not read')
  // RFC 8705 §3.1: x5t#S256 beside jkt is a certificate binding too; a malformed one is refused as a mismatch, never ignored.
  t.equal(with2(token({ claims: { cnf: { jkt: client.jkt, 'x5t#S256': 'x' } } })), 'certificate_binding_mismatch', 'jkt and a malformed x5t#S256')
  t.equal(with2(token({ claims: { cnf: { jwk: client.jwk } } })), 'ok as.alice.test', 'cnf.jwk (RFC 7800) equal to the proof key')
  t.equal(with2(token({ header: { typ: 'dpop+jwt' } })), 'token_invalid', 'a proof is not a token (typ)')
  t.equal(with2(token({ header: { typ: 'JWT' } })), 'ok as.alice.test', 'typ JWT')
  t.equal(with2(token({ claims: { iss: 'http://as.alice.test' } })), 'token_invalid', 'iss not https')
  t.equal(with2(token({ claims: { iss: 'https://AS.alice.test' } })), 'token_invalid', 'iss not canonical')
  t.equal(with2(token({ claims: { iss: 'https://127.0.0.1' } })), 'token_invalid', 'iss host is an IP')
  t.equal(with2(token({ claims: { sub: 'a\r\nX-Evil: 1' } })), 'token_invalid', 'sub that would break a header')
  const claims = tokenClaims({ issuer: ISS, audience: ORIGIN, client, nowSec })
  t.equal(with2(forgedJws('none', { typ: 'at+jwt' }, claims)), 'token_invalid', 'alg none with an empty signature: not a JWS')
  t.equal(with2(forgedJws('none', { typ: 'at+jwt' }, claims) + 'AAAA'), 'token_alg_unsupported', 'alg none with any signature')
  t.equal(with2(forgedJws('HS256', { typ: 'at+jwt' }, claims)), 'token_alg_unsupported', 'HS256')
  t.equal(with2(token({ header: { alg: 'rs256' } })), 'token_alg_unsupported', 'alg compared case-sensitively')
  t.equal(parse(scheme, creds('DPoP not-a-jwt', proof('x'))), 'token_invalid')
  t.ok(issuerKey)
})

t.test('proof checks: RFC 9449 §4.3 and the binding to the token', async (t) => {
  const { scheme, token, proof } = await setup()
  const tok = token()
  const p = (over: Parameters<typeof proof>[1], key?: SigningKey) => parse(scheme, creds(`DPoP ${tok}`, proof(tok, over, key)))
  t.equal(p({ claims: { ath: athOf(token()) } }), "dpop_proof_mismatch", "ath of another token")
  t.equal(p({}, await newKey('ES256')), 'dpop_proof_mismatch', 'proof key is not cnf.jkt')
  t.equal(p({ header: { typ: 'JWT' } }), 'dpop_proof_invalid', 'typ')
  t.equal(p({ header: { alg: 'HS256' } }), 'dpop_proof_invalid', 'symmetric alg')
  t.equal(p({ claims: { htm: 'POST' } }), 'dpop_proof_invalid', 'htm')
  t.equal(p({ claims: { htu: `${ORIGIN}/bar` } }), 'dpop_proof_invalid', 'htu')
  t.equal(p({ claims: { htu: `${ORIGIN}/foo?q=1#f` } }), 'ok as.alice.test', 'htu ignores query and fragment')
  t.equal(p({ claims: { iat: nowSec - 120 } }), 'dpop_proof_invalid', 'iat too old')
  t.equal(p({ claims: { iat: nowSec + 60 } }), 'dpop_proof_invalid', 'iat in the future')
  t.equal(p({ claims: { jti: undefined } }), 'dpop_proof_invalid', 'no jti')
  t.equal(p({ nonce: undefined }), 'dpop_nonce_required', 'no nonce once one is required')
  t.equal(p({ nonce: 'forged' }), 'dpop_nonce_invalid', 'forged nonce')
  t.equal(p({ nonce: nonces.issue(NOW - 600_000) }), 'dpop_nonce_invalid', 'stale nonce')
  t.equal(parse(scheme, creds(`DPoP ${tok}`, `${proof(tok)}, ${proof(tok)}`)), 'dpop_credentials_invalid', 'two proofs joined')
  t.equal(parse(scheme, creds(`DPoP ${tok}`)), 'dpop_credentials_invalid', 'no DPoP header')
  const { client } = await setup()
  const priv = client.privateKey.export({ format: 'jwk' })
  t.equal(p({ header: { jwk: priv } }), 'dpop_proof_invalid', 'a private jwk')
})


t.test('a nonce is optional when requireNonce is false, but checked when present', async (t) => {
  const { scheme, token, proof } = await setup({ requireNonce: false })
  const tok = token()
  t.equal(parse(scheme, creds(`DPoP ${tok}`, proof(tok, { nonce: undefined }))), 'ok as.alice.test')
  t.equal(parse(scheme, creds(`DPoP ${tok}`, proof(tok, { nonce: 'forged' }))), 'dpop_nonce_invalid')
})

t.test('Bearer downgrade: a bound token presented as Bearer is refused, in parse', async (t) => {
  const { scheme, token, proof } = await setup()
  const tok = token()
  t.equal(parse(scheme, creds(`Bearer ${tok}`, proof(tok))), 'token_bearer_refused')
  t.equal(parse(scheme, creds(`Bearer ${tok}`)), 'token_bearer_refused', 'without a proof too')
  t.equal(parse(scheme, creds(`Bearer ${token({ claims: { cnf: undefined } })}`)), 'token_unbound', 'an unbound bearer token')
})

t.test('verify: signatures and replay', async (t) => {
  const { scheme, token, proof, keyForCalls } = await setup()
  const code = async (c: Credentials) => {
    try { await scheme.verify(scheme.parse(c, ctx), ctx, RULE); return 'ok' } catch (err) { return err instanceof GatewayError ? err.code : String(err) }
  }
  const other = await newKey('RS256', 'k1')
  const forged = token({}, other)
  t.equal(await code(creds(`DPoP ${forged}`, proof(forged))), 'token_signature_invalid', 'token signed by a key not in the issuer set')
  const tok = token()
  const bad = proof(tok).replace(/\.[^.]+$/, '.' + Buffer.alloc(64, 1).toString('base64url'))
  const before = keyForCalls.length
  t.equal(await code(creds(`DPoP ${tok}`, bad)), 'dpop_proof_signature_invalid')
  t.equal(keyForCalls.length, before, 'a bad proof costs no issuer key lookup')
  const once = proof(tok)
  t.equal(await code(creds(`DPoP ${tok}`, once)), 'ok')
  t.equal(await code(creds(`DPoP ${tok}`, once)), 'dpop_proof_replayed', 'replayed proof')
})

t.test('a nonce past half its life: the principal carries a fresh DPoP-Nonce', async (t) => {
  const { scheme, token, proof } = await setup()
  const tok = token()
  const p = await scheme.verify(scheme.parse(creds(`DPoP ${tok}`, proof(tok, { nonce: nonces.issue(NOW - 200_000) })), ctx), ctx, RULE)
  t.equal(p.responseHeaders?.[0], 'DPoP-Nonce')
  t.ok(nonces.check(p.responseHeaders?.[1], NOW).ok)
})

t.test('challenge: DPoP words, DPoP-Nonce, scope on insufficient_scope, no error without credentials', async (t) => {
  const { scheme } = await setup()
  const bare = scheme.challenge(undefined)
  t.match(bare.field, /^DPoP algs="ES256 ES384 EdDSA Ed25519 PS256 RS256"$/)
  t.equal(bare.headers?.[0], 'DPoP-Nonce')
  t.match(scheme.challenge(new GatewayError('dpop_nonce_required')).field, /error="use_dpop_nonce"/)
  t.match(scheme.challenge(new GatewayError('key_not_found')).field, /error="invalid_token"/, 'a key failure is the token\'s')
  t.match(scheme.challenge(new GatewayError('dpop_proof_replayed')).field, /error="invalid_dpop_proof"/)
  const { InsufficientScopeError } = await import('../../../../src/errors.js')
  t.match(scheme.challenge(new InsufficientScopeError('api:write admin')).field, /error="insufficient_scope".*scope="api:write admin"/)
})
