// createDomainPopScheme (schemes/domainpop/) against the scheme contract
// (test/unit/schemes/contract.ts), with an injected key cache holding the
// client's key, a memory replay store and a fixed clock; plus what is its own.

import t from 'tap'
import fc from 'fast-check'
import { randomBytes } from 'node:crypto'
import { createDomainPopScheme } from '../../../../src/schemes/domainpop/index.js'
import { createNonceIssuer } from '../../../../src/secrets/nonce.js'
import { generateClientKey } from '../../../../src/client/keys.js'
import { signDomainPopProof } from '../../../../src/client/proof.js'
import type { KeyCache, ResolvedKey } from '../../../../src/keys/index.js'
import type { ErrorCode } from '../../../../src/errors.js'
import { fakeView } from '../../../helpers/request-view.js'
import { unitConfig, PUBLIC_ORIGIN as ORIGIN } from '../../../helpers/unit/config.js'
import { schemeContract, trap } from '../contract.js'
import { openKeyTrust } from '../../../helpers/key-trust.js'

const NOW = 1_750_000_000_000
const cfg = unitConfig()
const nonces = createNonceIssuer([{ id: 'n1', key: randomBytes(32) }], { ttlMs: cfg.nonce.ttlMs, clockSkewMs: cfg.proof.clockSkewMs })
const ISS = 'alice.example'
const PATH = '/api/things'
const client = await generateClientKey('ES256')
const KEY_URL = `https://${ISS}/.well-known/domainpop/keys/${client.kid}`
const resolved = { kid: client.kid, kty: 'EC', crv: 'P-256', alg: undefined, x: client.publicJwk.x, y: client.publicJwk.y, keyObject: (await import('node:crypto')).createPublicKey(client.privateKey) } as unknown as ResolvedKey
const keyCache: KeyCache = { async getKey() { return resolved }, markProven() {}, list: () => [], size: 1, stats: () => { throw new Error('unused') }, async close() {} }
const view = fakeView({ method: 'GET', path: PATH, nowMs: NOW })

const CODES: readonly ErrorCode[] = [
  'malformed_proof', 'nonce_missing', 'nonce_stale', 'nonce_invalid', 'proof_typ_invalid', 'proof_alg_unsupported', 'proof_header_forbidden',
  'proof_jku_invalid', 'proof_iss_invalid', 'proof_kid_invalid', 'proof_claims_invalid', 'proof_aud_mismatch', 'proof_htm_mismatch',
  'proof_htu_mismatch', 'proof_iat_invalid', 'proof_signature_invalid', 'proof_replayed', 'channel_binding_unavailable', 'channel_binding_mismatch',
  'key_fetch_timeout', 'key_not_found', 'key_document_invalid', 'replay_store_unavailable',
]

const b64 = (v: unknown) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url')
/** Compact JWSs with arbitrary JSON in the header and claims, hostile strings, and a valid proof with one character changed. */
const hostileToken = fc.oneof(
  fc.string({ maxLength: 300 }),
  fc.tuple(fc.jsonValue(), fc.jsonValue(), fc.string({ maxLength: 40 })).map(([h, c, s]) => `${b64(h)}.${b64(c)}.${b64(s)}`),
  fc.tuple(fc.dictionary(fc.constantFrom('typ', 'alg', 'jku', 'kid', 'jwk', 'crit'), fc.jsonValue()), fc.dictionary(fc.constantFrom('iss', 'aud', 'htm', 'htu', 'iat', 'jti', 'nonce', 'cb'), fc.jsonValue()))
    .map(([h, c]) => `${b64({ typ: 'domainpop+jwt', alg: 'ES256', jku: KEY_URL, kid: client.kid, ...h })}.${b64({ iss: ISS, aud: ORIGIN, htm: 'GET', htu: ORIGIN + PATH, iat: NOW / 1000, jti: 'j', ...c })}.AAAA`),
)

schemeContract(t, {
  namespace: 'dp',
  create: ({ replay, trapped }) => createDomainPopScheme({ keyTrust: openKeyTrust(),
    proof: { publicOrigin: ORIGIN, proof: cfg.proof, keys: cfg.keys, nonces },
    keys: trapped ? trap<KeyCache>('keys') : keyCache,
    replay,
    nonces,
    now: () => NOW,
  }),
  async valid() {
    const proof = signDomainPopProof(client, { identity: ISS, keyUrl: KEY_URL, audience: ORIGIN, method: 'GET', path: PATH, nonce: nonces.issue(NOW), iatSec: NOW / 1000 })
    return { credentials: { authorization: `DomainPoP ${proof}`, fields: undefined }, view }
  },
  hostile: fc.oneof(hostileToken.map((tok) => `DomainPoP ${tok}`), fc.string({ maxLength: 100 })).map((authorization) => ({ authorization, fields: undefined })),
  codes: CODES,
})
