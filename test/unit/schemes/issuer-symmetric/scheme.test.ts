// createIssuerSymmetricScheme (schemes/issuer-symmetric/) against the scheme
// contract (test/unit/schemes/contract.ts), then every bad input of issue 24
// for cnf.jwe tokens, each refused with its documented code: a cnf.jwe
// encrypted to a gateway key since removed, one swapped in from another token
// (re-signed by an issuer, so only the binding can catch it), another alg/enc,
// a bad tag, an HMAC under a wrong key, a replayed jti, a token whose iss is
// not the identity's domain, an issuer JWK Set with private members. Also:
// the ACL-before-fetch order (parse touches nothing), the cache (one ECDH per
// token, not per request) and a key rotation at the issuer.

import t from 'tap'
import fc from 'fast-check'
import { createPublicKey, randomBytes } from 'node:crypto'
import { CompactEncrypt, importJWK } from 'jose'
import { createIssuerSymmetricScheme, type IssuerSymmetricDeps } from '../../../../src/schemes/issuer-symmetric/index.js'
import type { IssuerKeys } from '../../../../src/schemes/dpop/issuers.js'
import { createIssuerKeys } from '../../../../src/schemes/dpop/issuers.js'
import { parseJwks, type FetchOne } from '../../../../src/keys/index.js'
import { GatewayError, type ErrorCode } from '../../../../src/errors.js'
import { sealCnfJwe } from '../../../../src/proofs/cnf-jwe.js'
import { signSessionProof } from '../../../../src/proofs/session-proof.js'
import { generateEncryptionKey, type EncryptionKey } from '../../../../src/secrets/encryption-keys.js'
import { createMemoryReplayStore } from '../../../../src/replay/memory.js'
import { namespacedReplay } from '../../../../src/schemes/replay.js'
import type { Rule } from '../../../../src/acl/index.js'
import { mintToken, newKey, type SigningKey } from '../../../helpers/dpop.js'
import { keysConfig } from '../../../helpers/key-host.js'
import { fakeView } from '../../../helpers/request-view.js'
import { schemeContract, trap } from '../contract.js'

const ORIGIN = 'https://gw.test'
const ISS = 'https://alice.test'
const NOW = 1_750_000_000_000
const nowSec = NOW / 1000
const issuerKey = await newKey('ES256', 'k1')
const set = parseJwks(JSON.stringify({ keys: [issuerKey.jwk] }))
const staticIssuerKeys: IssuerKeys = { async keyFor() { return set.keys[0]! }, markProven() {}, async close() {} }
const GW = generateEncryptionKey('e2')
const view = fakeView({ method: 'GET', path: '/foo', nowMs: NOW })
const RULE = { sessions: true } as Rule

const CODES: readonly ErrorCode[] = [
  'token_invalid', 'token_alg_unsupported', 'token_expired', 'token_audience_mismatch', 'token_unbound', 'token_signature_invalid',
  'token_issuer_not_allowed', 'issuer_metadata_invalid', 'key_fetch_timeout', 'key_not_found', 'key_document_invalid',
  'cnf_jwe_malformed', 'cnf_jwe_alg_unsupported', 'cnf_jwe_key_unknown', 'cnf_jwe_invalid', 'cnf_jwe_mismatch',
  'session_proof_malformed', 'session_proof_invalid', 'session_proof_signature_invalid', 'session_proof_ath_mismatch',
  'session_proof_mismatch', 'session_proof_iat_invalid', 'session_proof_replayed', 'channel_binding_unavailable', 'channel_binding_mismatch',
  'insufficient_scope',
]

interface Minted { readonly token: string; readonly key: Buffer; readonly jwe: string; readonly jti: string }

/** What the domain's issuer does for key_type symmetric (keyhost/issuer.ts), with knobs for the bad cases. */
function mint(o: { iss?: string; jti?: string; to?: EncryptionKey; signer?: SigningKey; jwe?: string; key?: Buffer; claims?: Record<string, unknown> } = {}): Minted {
  const key = o.key ?? randomBytes(32)
  const jti = o.jti ?? randomBytes(8).toString('base64url')
  const iss = o.iss ?? ISS
  const to = o.to ?? GW
  const jwe = o.jwe ?? sealCnfJwe(key, { kid: to.kid, publicKey: createPublicKey(to.privateKey) }, { iss, jti })
  const token = mintToken(o.signer ?? issuerKey, { issuer: iss, audience: ORIGIN, client: issuerKey, nowSec, claims: { jti, cnf: { jwe }, ...o.claims } })
  return { token, key, jwe, jti }
}

const credentialsOf = (m: { token: string; key: Buffer }, over: { method?: string; htu?: string; key?: Buffer } = {}) => ({
  authorization: `DomainPoP-Session ${m.token}`,
  fields: new Map([['domainpop-proof', signSessionProof(over.key ?? m.key, { htm: over.method ?? 'GET', htu: over.htu ?? `${ORIGIN}/foo`, ticket: m.token, iatSec: nowSec })]]),
})

function build(over: Partial<IssuerSymmetricDeps> = {}) {
  const store = createMemoryReplayStore({ maxEntries: 10_000 })
  return createIssuerSymmetricScheme({
    publicOrigin: ORIGIN,
    dpop: { audience: undefined, algorithms: ['RS256', 'PS256', 'ES256', 'EdDSA', 'Ed25519'], issuers: {} },
    pinned: new Map(),
    proof: { maxAgeMs: 60_000, clockSkewMs: 5_000, maxBytes: 8192 },
    allowPorts: 'any',
    issuerKeys: staticIssuerKeys,
    encryptionKeys: [GW],
    replay: namespacedReplay(store, 'issuer-symmetric', 60_000, () => {}),
    now: () => NOW,
    ...over,
  })
}

const refused = async (scheme: ReturnType<typeof build>, credentials: ReturnType<typeof credentialsOf>): Promise<string> => {
  try {
    await scheme.verify(scheme.parse(credentials, view), view, RULE)
    return 'accepted'
  } catch (err) {
    return err instanceof GatewayError ? err.code : `not a GatewayError: ${String(err)}`
  }
}

const b64 = (v: unknown) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url')
const jws = fc.tuple(fc.jsonValue(), fc.jsonValue(), fc.string({ maxLength: 40 })).map(([h, c, s]) => `${b64(h)}.${b64(c)}.${b64(s)}`)
const good = mint()

schemeContract(t, {
  namespace: 'issuer-symmetric',
  create: ({ replay, trapped }) => build({ replay, issuerKeys: trapped ? trap<IssuerKeys>('issuerKeys') : staticIssuerKeys }),
  async valid() {
    return { credentials: credentialsOf(good), view }
  },
  hostile: fc.record({
    authorization: fc.oneof(jws.map((j) => `DomainPoP-Session ${j}`), fc.constant(`DomainPoP-Session ${good.token}`), fc.string({ maxLength: 80 })),
    proof: fc.option(fc.oneof(jws, fc.string({ maxLength: 80 })), { nil: undefined }),
  }).map(({ authorization, proof }) => ({ authorization, fields: proof === undefined ? undefined : new Map([['domainpop-proof', proof]]) })),
  codes: CODES,
  rule: RULE,
})

t.test('a valid token: issuer-symmetric, the session assurance, token facts; one ECDH for many requests', async (t) => {
  let signatureChecks = 0
  const scheme = build({ verifySignature: async (...a) => { signatureChecks++; return (await import('../../../../src/proofs/signature.js')).verifySignature(...a) } })
  const m = mint({ claims: { sub: 'billing', scope: 'read write' } })
  for (let i = 0; i < 5; i++) {
    const p = await scheme.verify(scheme.parse(credentialsOf(m), view), view, RULE)
    t.equal(p.method, 'issuer-symmetric')
    t.equal(p.identity, 'alice.test')
    t.ok(p.assurances?.has('session'))
    t.same(p.token, { sub: 'billing', clientId: 'svc-a', scopes: ['read', 'write'] })
  }
  t.equal(signatureChecks, 1, 'the issuer signature is checked once per token, then the opened key is cached')
})

t.test('cnf.jwe encrypted to a gateway key since removed: cnf_jwe_key_unknown', async (t) => {
  const old = generateEncryptionKey('e1')
  const m = mint({ to: old })
  t.equal(await refused(build({ encryptionKeys: [GW, old] }), credentialsOf(m)), 'accepted', 'while e1 is still listed')
  t.equal(await refused(build({ encryptionKeys: [GW] }), credentialsOf(mint({ to: old }))), 'cnf_jwe_key_unknown', 'after e1 is dropped')
})

t.test('cnf.jwe swapped in from another token (the issuer re-signs it): cnf_jwe_mismatch', async (t) => {
  const a = mint()
  // Same issuer, another token: a's key wrapped for a's jti.
  const sameIssuer = mint({ jwe: a.jwe, key: a.key })
  t.equal(await refused(build(), credentialsOf(sameIssuer)), 'cnf_jwe_mismatch', 'another jti')
  // Another domain's issuer (allowed by the ACL) copies alice's cnf.jwe into its own token.
  const evilKey = await newKey('ES256', 'k1')
  const evilSet = parseJwks(JSON.stringify({ keys: [evilKey.jwk] }))
  const evil = mint({ iss: 'https://evil.test', jti: a.jti, jwe: a.jwe, key: a.key, signer: evilKey })
  t.equal(await refused(build({ issuerKeys: { async keyFor() { return evilSet.keys[0]! }, markProven() {}, async close() {} } }), credentialsOf(evil)), 'cnf_jwe_mismatch', 'another iss')
})

t.test('a JWE with another alg or enc, or a bad tag', async (t) => {
  const key = randomBytes(32)
  const jti = 'j-alg'
  const pub = await importJWK(GW.publicJwk as never, 'ECDH-ES')
  const direct = await new CompactEncrypt(new TextEncoder().encode(JSON.stringify({ kty: 'oct', k: key.toString('base64url') })))
    .setProtectedHeader({ alg: 'ECDH-ES', enc: 'A256GCM', kid: GW.kid, iss: ISS, jti }).encrypt(pub)
  t.equal(await refused(build(), credentialsOf(mint({ jwe: direct, jti, key }))), 'cnf_jwe_alg_unsupported', 'ECDH-ES direct')
  const pubKw = await importJWK(GW.publicJwk as never, 'ECDH-ES+A256KW')
  const cbc = await new CompactEncrypt(new TextEncoder().encode(JSON.stringify({ kty: 'oct', k: key.toString('base64url') })))
    .setProtectedHeader({ alg: 'ECDH-ES+A256KW', enc: 'A128CBC-HS256', kid: GW.kid, iss: ISS, jti }).encrypt(pubKw)
  t.equal(await refused(build(), credentialsOf(mint({ jwe: cbc, jti, key }))), 'cnf_jwe_alg_unsupported', 'A128CBC-HS256')
  const ok = mint({ jti, key })
  const p = ok.jwe.split('.')
  const badTag = [p[0], p[1], p[2], p[3], (p[4]![0] === 'A' ? 'B' : 'A') + p[4]!.slice(1)].join('.')
  t.equal(await refused(build(), credentialsOf(mint({ jwe: badTag, jti, key }))), 'cnf_jwe_invalid', 'bad tag')
  // A JWE jose made opens here (the oracle), through the whole scheme.
  const joseMade = await new CompactEncrypt(new TextEncoder().encode(JSON.stringify({ kty: 'oct', k: key.toString('base64url') })))
    .setProtectedHeader({ alg: 'ECDH-ES+A256KW', enc: 'A256GCM', kid: GW.kid, iss: ISS, jti: 'j-jose' }).encrypt(pubKw)
  t.equal(await refused(build(), credentialsOf(mint({ jwe: joseMade, jti: 'j-jose', key }))), 'accepted', 'a JWE made by jose')
})

t.test('an HMAC under a wrong key, a replayed jti, a proof for another request', async (t) => {
  const scheme = build()
  const m = mint()
  t.equal(await refused(scheme, credentialsOf(m, { key: randomBytes(32) })), 'session_proof_signature_invalid', 'wrong key')
  const once = credentialsOf(m)
  t.equal(await refused(scheme, once), 'accepted')
  t.equal(await refused(scheme, once), 'session_proof_replayed', 'replayed jti')
  t.equal(await refused(scheme, credentialsOf(m, { method: 'POST' })), 'session_proof_mismatch', 'htm')
  t.equal(await refused(scheme, credentialsOf(m, { htu: `${ORIGIN}/other` })), 'session_proof_mismatch', 'htu')
  const other = mint({ key: m.key })
  const crossed = { authorization: `DomainPoP-Session ${m.token}`, fields: credentialsOf(other).fields }
  t.equal(await refused(scheme, crossed), 'session_proof_ath_mismatch', 'a proof made for another token')
})

t.test('the identity is the host of iss; a token cannot name another domain\'s issuer and keep its own keys', async (t) => {
  // Signed by alice's issuer key but saying iss evil.test: the keys are looked up for evil.test, not alice.test.
  const asked: string[] = []
  const keys: IssuerKeys = { async keyFor(tok) { asked.push(tok.identity); throw new GatewayError('key_not_found', 'evil.test has no such key') }, markProven() {}, async close() {} }
  const scheme = build({ issuerKeys: keys })
  const m = mint({ iss: 'https://evil.test' })
  const claim = scheme.parse(credentialsOf(m), view)
  t.equal(claim.identity, 'evil.test', 'the ACL is asked about evil.test, never alice.test')
  t.equal(await refused(scheme, credentialsOf(m)), 'key_not_found')
  t.same(asked, ['evil.test'])
  t.equal(await refused(build(), credentialsOf(mint({ iss: 'https://alice.test/u/mallory' }))), 'token_issuer_not_allowed', 'an issuer with a path speaks for no domain unless pinned')
  t.equal(await refused(build(), credentialsOf(mint({ claims: { cnf: { jkt: 'x'.repeat(43) } } }))), 'token_invalid', 'a cnf.jkt token goes with DPoP, not here')
  t.equal(await refused(build(), credentialsOf(mint({ claims: { cnf: undefined } }))), 'token_unbound', 'no cnf')
})

t.test('an issuer JWK Set with private members is refused whole (through the real issuer-key reader)', async (t) => {
  const leaked = { ...(issuerKey.privateKey.export({ format: 'jwk' }) as object), kid: 'k1' }
  const fetch: FetchOne = async (req) => {
    const body = req.url.pathname.endsWith('oauth-authorization-server') ? { issuer: ISS, jwks_uri: `${ISS}/jwks` } : { keys: [leaked] }
    return { status: 200, headers: { 'content-type': 'application/json' }, body: Buffer.from(JSON.stringify(body)) }
  }
  const issuerKeys = createIssuerKeys(keysConfig(), { fetch })
  t.teardown(() => issuerKeys.close())
  t.equal(await refused(build({ issuerKeys }), credentialsOf(mint())), 'key_document_invalid')
})

t.test('a key rotated out at the issuer refuses a cached token', async (t) => {
  let current = set.keys[0]!
  const scheme = build({ issuerKeys: { async keyFor() { if (!current) throw new GatewayError('key_not_found', 'gone'); return current }, markProven() {}, async close() {} } })
  const m = mint()
  t.equal(await refused(scheme, credentialsOf(m)), 'accepted')
  current = undefined as never
  t.equal(await refused(scheme, credentialsOf(m)), 'key_not_found')
})

t.test('a bare challenge stays quiet while tickets announce DomainPoP-Session; an error names it', async (t) => {
  t.same(build({ announce: false }).challenge(undefined), {})
  t.match(build({ announce: false }).challenge(new GatewayError('cnf_jwe_invalid', 'x')).field, /^DomainPoP-Session .*error="invalid_token"/)
  t.match(build().challenge(undefined).field, /^DomainPoP-Session realm=/)
})
