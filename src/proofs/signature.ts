// Signature check with node:crypto on a cached KeyObject. jose's compactVerify
// would re-import the key and re-parse the token on every request; on the
// per-request proof path that is a measured share of the cost (bench/), so
// the proof path verifies here. The callback form of crypto.verify runs on
// libuv's thread pool, which lets the check use the second core.
//
// RFC 8725 §3.1: each key is used with exactly one algorithm family, checked
// against the key's actual type and curve, never trusted from the header.

import { verify, constants, type KeyObject } from 'node:crypto'
import type { ProofAlgorithm } from '../config/types.js'

/**
 * Every JWS algorithm this module verifies: the DomainPoP proof algorithms
 * plus RS256, which OAuth issuers sign access tokens with (RFC 7518 §3.3,
 * RFC 9068 §2.1) and which is never a DomainPoP proof algorithm.
 */
export type SignatureAlgorithm = ProofAlgorithm | 'RS256'

interface AlgSpec {
  readonly digest: string | null
  readonly keyType: 'ec' | 'ed25519' | 'rsa'
  readonly curve?: string
  readonly pss?: boolean
  /** Raw r‖s length for ECDSA (RFC 7518 §3.4). */
  readonly sigBytes?: number
}

const ALGS: Readonly<Record<SignatureAlgorithm, AlgSpec>> = {
  ES256: { digest: 'sha256', keyType: 'ec', curve: 'prime256v1', sigBytes: 64 },
  ES384: { digest: 'sha384', keyType: 'ec', curve: 'secp384r1', sigBytes: 96 },
  EdDSA: { digest: null, keyType: 'ed25519', sigBytes: 64 },
  Ed25519: { digest: null, keyType: 'ed25519', sigBytes: 64 },
  PS256: { digest: 'sha256', keyType: 'rsa', pss: true },
  RS256: { digest: 'sha256', keyType: 'rsa' },
}

/** The algorithms verifySignature knows, for allowlist checks on untrusted `alg` values (exact case, RFC 8725 §3.1). */
export const SIGNATURE_ALGORITHMS: ReadonlySet<string> = new Set(Object.keys(ALGS))

/** Does this key fit this algorithm (type, curve, RSA size ≥ 2048)? Pure. */
export function keyFitsAlgorithm(key: KeyObject, alg: SignatureAlgorithm): boolean {
  const spec = ALGS[alg]
  if (key.type !== 'public' || key.asymmetricKeyType !== spec.keyType) return false
  const details = key.asymmetricKeyDetails
  if (spec.curve && details?.namedCurve !== spec.curve) return false
  if (spec.keyType === 'rsa' && (details?.modulusLength ?? 0) < 2048) return false
  return true
}

/** Resolves true when `signature` is valid over `signingInput`; false otherwise (never throws). */
export function verifySignature(alg: SignatureAlgorithm, key: KeyObject, signingInput: string, signature: Buffer): Promise<boolean> {
  const spec = ALGS[alg]
  if (spec.sigBytes !== undefined && signature.length !== spec.sigBytes) return Promise.resolve(false)
  const keyOpts = spec.keyType === 'ec'
    ? { key, dsaEncoding: 'ieee-p1363' as const }
    : spec.pss
      ? { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 } // RFC 7518 §3.5: salt = hash size
      : key
  return new Promise((resolve) => {
    try {
      verify(spec.digest, Buffer.from(signingInput, 'latin1'), keyOpts, signature, (err, ok) => resolve(!err && ok))
    } catch {
      resolve(false)
    }
  })
}
