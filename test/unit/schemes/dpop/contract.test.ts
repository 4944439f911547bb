// createDpopScheme (schemes/dpop/) against the scheme contract
// (test/unit/schemes/contract.ts): an injected issuer-key source, a memory
// replay store and a fixed clock. Its own cases are in scheme.test.ts.

import t from 'tap'
import fc from 'fast-check'
import { randomBytes } from 'node:crypto'
import { createDpopScheme } from '../../../../src/schemes/dpop/index.js'
import type { IssuerKeys } from '../../../../src/schemes/dpop/issuers.js'
import { parseJwks } from '../../../../src/keys/index.js'
import { createNonceIssuer } from '../../../../src/secrets/nonce.js'
import type { ErrorCode } from '../../../../src/errors.js'
import { mintProof, mintToken, newKey } from '../../../helpers/dpop.js'
import { fakeView } from '../../../helpers/request-view.js'
import { schemeContract, trap } from '../contract.js'
import { openKeyTrust } from '../../../helpers/key-trust.js'

const ORIGIN = 'https://gw.test'
const ISS = 'https://as.alice.test'
const NOW = 1_750_000_000_000
const nowSec = NOW / 1000
const nonces = createNonceIssuer([{ id: 'n1', key: randomBytes(32) }], { ttlMs: 300_000, clockSkewMs: 5_000 })
const issuerKey = await newKey('RS256', 'k1')
const client = await newKey('ES256')
const set = parseJwks(JSON.stringify({ keys: [issuerKey.jwk] }))
const issuerKeys: IssuerKeys = { async keyFor() { return set.keys[0]! }, markProven() {}, async close() {} }
const view = fakeView({ method: 'GET', path: '/foo', nowMs: NOW })

const CODES: readonly ErrorCode[] = [
  'dpop_credentials_invalid', 'token_invalid', 'token_alg_unsupported', 'token_expired', 'token_audience_mismatch', 'token_unbound',
  'token_bearer_refused', 'token_signature_invalid', 'issuer_metadata_invalid', 'dpop_nonce_required', 'dpop_nonce_invalid',
  'dpop_proof_invalid', 'dpop_proof_mismatch', 'dpop_proof_signature_invalid', 'dpop_proof_replayed', 'key_fetch_timeout', 'key_not_found',
  'insufficient_scope', 'certificate_binding_mismatch', 'certificate_binding_unavailable',
]

const b64 = (v: unknown) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url')
const jws = fc.tuple(fc.jsonValue(), fc.jsonValue(), fc.string({ maxLength: 40 })).map(([h, c, s]) => `${b64(h)}.${b64(c)}.${b64(s)}`)
const token = mintToken(issuerKey, { issuer: ISS, audience: ORIGIN, client, nowSec })

schemeContract(t, {
  namespace: 'dpop',
  create: ({ replay, trapped }) => createDpopScheme({ keyTrust: openKeyTrust(),
    publicOrigin: ORIGIN,
    dpop: { enabled: true, audience: undefined, algorithms: ['RS256', 'PS256', 'ES256', 'EdDSA', 'Ed25519'], requireNonce: true, issuers: {} },
    pinned: new Map(),
    proof: { maxAgeMs: 60_000, clockSkewMs: 5_000, maxBytes: 8192 },
    allowPorts: 'any',
    issuerKeys: trapped ? trap<IssuerKeys>('issuerKeys') : issuerKeys,
    replay,
    nonces,
    now: () => NOW,
  }),
  async valid() {
    const proof = mintProof(client, { token, htm: 'GET', htu: `${ORIGIN}/foo`, nowSec, nonce: nonces.issue(NOW) })
    return { credentials: { authorization: `DPoP ${token}`, fields: new Map([['dpop', proof]]) }, view }
  },
  hostile: fc.record({
    authorization: fc.oneof(jws.map((j) => `DPoP ${j}`), jws.map((j) => `Bearer ${j}`), fc.constant(`DPoP ${token}`), fc.string({ maxLength: 80 })),
    proof: fc.option(fc.oneof(jws, fc.string({ maxLength: 80 })), { nil: undefined }),
  }).map(({ authorization, proof }) => ({ authorization, fields: proof === undefined ? undefined : new Map([['dpop', proof]]) })),
  codes: CODES,
})
