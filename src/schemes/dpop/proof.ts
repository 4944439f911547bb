// A DPoP proof (RFC 9449 §4.2) checked against the request and its access
// token: every check of §4.3 except the signature, which verify does once the
// ACL has said yes. Pure but for `nowMs` and the nonce issuer. Throws
// GatewayError: dpop_proof_* (401 invalid_dpop_proof), dpop_nonce_*
// (401 use_dpop_nonce), dpop_credentials_invalid (400 invalid_request).
// For DoS reasons the cheap checks come first (§4.3, last paragraph).

import type { KeyObject } from 'node:crypto'
import { GatewayError, isGatewayError } from '../../errors.js'
import { splitCompactJws } from '../../proofs/jws.js'
import { MAX_JTI_CHARS, htuMatches, iatInWindow, isJti } from '../../proofs/claims.js'
import { keyFitsAlgorithm, type SignatureAlgorithm } from '../../proofs/signature.js'
import type { NonceIssuer } from '../../secrets/nonce.js'
import { readPublicJwk, type PublicJwk } from '../../proofs/public-jwk.js'

export const DPOP_TYP = 'dpop+jwt'
/** §4.3 (5): asymmetric algorithms only; `EdDSA` and `Ed25519` are the same thing under two names. */
export const DPOP_PROOF_ALGORITHMS = ['ES256', 'ES384', 'EdDSA', 'Ed25519', 'PS256', 'RS256'] as const
const PROOF_ALGS: ReadonlySet<unknown> = new Set(DPOP_PROOF_ALGORITHMS)

export interface DpopProof {
  readonly alg: SignatureAlgorithm
  readonly key: KeyObject
  readonly thumbprint: string
  readonly jti: string
  /** The nonce is past half its life: the response carries a fresh DPoP-Nonce. */
  readonly nonceRefresh: boolean
  readonly signingInput: string
  readonly signature: Buffer
  /** The proof's claims (`epk`, `nonce`: a session ticket asked for, PROTOCOL.md §4). */
  readonly claims: Readonly<Record<string, unknown>>
}

export interface ProofCheck {
  readonly method: string
  readonly path: string
  readonly nowMs: number
  readonly publicOrigin: string
  readonly maxAgeMs: number
  readonly clockSkewMs: number
  readonly maxBytes: number
  readonly requireNonce: boolean
  readonly nonces: NonceIssuer
}

const bad = (why: string): GatewayError => new GatewayError('dpop_proof_invalid', why)

/**
 * A client signs every proof with one key, and splitCompactJws returns one
 * frozen header object per header segment: the jwk is imported once per
 * header, not per request (createPublicKey checks the point, ~75 µs for
 * P-256: bench/micro/pre-signature.ts). Gone with the header's memo entry.
 */
const importedKeys = new WeakMap<object, PublicJwk | string>()
function headerKey(header: Readonly<Record<string, unknown>>): PublicJwk | string {
  let key = importedKeys.get(header)
  if (key === undefined) importedKeys.set(header, (key = readPublicJwk(header.jwk)))
  return key
}

/**
 * `ath`: base64url SHA-256 of the access token as sent (token-cache.ts
 * `tokenHash`); `jkt` the key the token is bound to, or undefined when it is
 * not known yet (an opaque token before introspection: verify compares it).
 */
export function readDpopProof(value: string, ath: string, jkt: string | undefined, c: ProofCheck): DpopProof {
  // §4.3 (1)-(2): one proof. A comma means a client (or Node) joined two.
  if (value.includes(',')) throw new GatewayError('dpop_credentials_invalid', 'more than one DPoP proof')
  let jws
  try {
    jws = splitCompactJws(value.trim(), c.maxBytes)
  } catch (err) {
    throw isGatewayError(err) && err.code === 'malformed_proof' ? bad('the DPoP proof is not a compact JWS') : err
  }
  const { header, payload } = jws
  // §4.3 (4), RFC 8725 §3.11: explicit typing, exact.
  if (header.typ !== DPOP_TYP) throw bad(`DPoP proof typ must be ${DPOP_TYP}`)
  // §4.3 (5): a registered asymmetric algorithm, exact case (never none, never HS*).
  if (!PROOF_ALGS.has(header.alg)) throw bad(`DPoP proof alg must be one of ${DPOP_PROOF_ALGORITHMS.join(' ')}`)
  const alg = header.alg as SignatureAlgorithm
  if (Object.hasOwn(header, 'crit')) throw bad('DPoP proof header member crit is not allowed')
  // §4.3 (7): a public key only.
  const key = headerKey(header)
  if (typeof key === 'string') throw bad(`DPoP proof ${key}`)
  if (!keyFitsAlgorithm(key.keyObject, alg)) throw bad('DPoP proof jwk does not fit alg')

  // §4.3 (3), (8), (9), (11).
  const jti = payload.jti
  if (!isJti(jti)) throw bad(`DPoP proof jti must be a string of 1-${MAX_JTI_CHARS} characters`)
  if (payload.htm !== c.method) throw bad('DPoP proof htm does not match the request method')
  if (!htuMatches(payload.htu, c.publicOrigin, c.path)) throw bad('DPoP proof htu does not match the request URI')
  const iat = payload.iat
  if (typeof iat !== 'number' || !Number.isFinite(iat)) throw bad('DPoP proof iat must be a number')
  if (!iatInWindow(iat, c.nowMs, c.maxAgeMs, c.clockSkewMs)) throw bad('DPoP proof iat is outside the acceptance window')

  // §4.3 (12): this proof is for this token, made with the key the token is bound to.
  if (payload.ath !== ath) {
    throw new GatewayError('dpop_proof_mismatch', 'DPoP proof ath is not the hash of this access token')
  }
  if (jkt !== undefined && key.thumbprint !== jkt) throw new GatewayError('dpop_proof_mismatch', 'DPoP proof key is not the key the token is bound to')

  // §4.3 (10), §9, §11.3: once a nonce is required, a proof without one is refused.
  let nonceRefresh = false
  if (payload.nonce === undefined) {
    if (c.requireNonce) throw new GatewayError('dpop_nonce_required', 'a DPoP-Nonce from this gateway is required')
  } else {
    const n = c.nonces.check(payload.nonce, c.nowMs)
    if (!n.ok) throw new GatewayError('dpop_nonce_invalid', n.code === 'nonce_stale' ? 'the DPoP nonce has expired' : 'the DPoP nonce was not issued by this gateway')
    nonceRefresh = n.refresh
  }
  return { alg, key: key.keyObject, thumbprint: key.thumbprint, jti, nonceRefresh, signingInput: jws.signingInput, signature: jws.signature, claims: payload }
}
