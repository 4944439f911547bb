// The RFC 9421 §3.3 signature algorithms on node:crypto. Each key is used
// with one algorithm, checked against the key's actual type and curve
// (RFC 9421 §3.3.7, §7.3.6: the alg parameter never picks the key type).
//
//   rsa-pss-sha512     §3.3.1  RSASSA-PSS, SHA-512, MGF1 SHA-512, 64-byte salt
//   rsa-v1_5-sha256    §3.3.2  RSASSA-PKCS1-v1_5, SHA-256
//   hmac-sha256        §3.3.3  HMAC SHA-256 (shared secret)
//   ecdsa-p256-sha256  §3.3.4  ECDSA P-256, r‖s (64 bytes)
//   ecdsa-p384-sha384  §3.3.5  ECDSA P-384, r‖s (96 bytes)
//   ed25519            §3.3.6  EdDSA over Ed25519 (deterministic)
//
// Asymmetric verification uses the callback form of crypto.verify, which
// runs on libuv's thread pool (as proofs/signature.ts does).

import { constants, createHmac, sign, timingSafeEqual, verify, type KeyObject } from 'node:crypto'

export type HttpSignatureAlgorithm = 'rsa-pss-sha512' | 'rsa-v1_5-sha256' | 'hmac-sha256' | 'ecdsa-p256-sha256' | 'ecdsa-p384-sha384' | 'ed25519'

interface Spec {
  readonly digest: string | null
  readonly keyType: 'rsa' | 'ec' | 'ed25519' | 'secret'
  readonly curve?: string
  readonly pss?: boolean
  readonly sigBytes?: number
}

const SPECS: Readonly<Record<HttpSignatureAlgorithm, Spec>> = {
  'rsa-pss-sha512': { digest: 'sha512', keyType: 'rsa', pss: true },
  'rsa-v1_5-sha256': { digest: 'sha256', keyType: 'rsa' },
  'hmac-sha256': { digest: 'sha256', keyType: 'secret', sigBytes: 32 },
  'ecdsa-p256-sha256': { digest: 'sha256', keyType: 'ec', curve: 'prime256v1', sigBytes: 64 },
  'ecdsa-p384-sha384': { digest: 'sha384', keyType: 'ec', curve: 'secp384r1', sigBytes: 96 },
  ed25519: { digest: null, keyType: 'ed25519', sigBytes: 64 },
}

export const HTTP_SIGNATURE_ALGORITHMS: ReadonlySet<string> = new Set(Object.keys(SPECS))

export const isHttpSignatureAlgorithm = (alg: string): alg is HttpSignatureAlgorithm => HTTP_SIGNATURE_ALGORITHMS.has(alg)

const RSA_MIN_BITS = 2048

/** Does `key` (public, private or secret) fit `alg`? Pure. */
export function keyFits(key: KeyObject, alg: HttpSignatureAlgorithm): boolean {
  const spec = SPECS[alg]
  if (spec.keyType === 'secret') return key.type === 'secret' && (key.symmetricKeySize ?? 0) >= 32
  if (key.type === 'secret') return false
  // A key imported with the RSASSA-PSS OID (RFC 4055) is 'rsa-pss': PSS only.
  const type = key.asymmetricKeyType === 'rsa-pss' && spec.pss ? 'rsa' : key.asymmetricKeyType
  if (type !== spec.keyType) return false
  const d = key.asymmetricKeyDetails
  if (spec.curve !== undefined && d?.namedCurve !== spec.curve) return false
  if (spec.keyType === 'rsa' && (d?.modulusLength ?? 0) < RSA_MIN_BITS) return false
  return true
}

/** The one algorithm an asymmetric key implies when the signature names none (RSA: PSS, the RFC's first). */
export function algorithmFor(key: KeyObject): HttpSignatureAlgorithm | undefined {
  if (key.type === 'secret') return 'hmac-sha256'
  if (key.asymmetricKeyType === 'ed25519') return 'ed25519'
  if (key.asymmetricKeyType === 'rsa' || key.asymmetricKeyType === 'rsa-pss') return 'rsa-pss-sha512'
  if (key.asymmetricKeyType === 'ec') {
    const curve = key.asymmetricKeyDetails?.namedCurve
    return curve === 'prime256v1' ? 'ecdsa-p256-sha256' : curve === 'secp384r1' ? 'ecdsa-p384-sha384' : undefined
  }
  return undefined
}

function keyOptions(spec: Spec, key: KeyObject) {
  if (spec.keyType === 'ec') return { key, dsaEncoding: 'ieee-p1363' as const }
  // §3.3.1: "the salt length (sLen) is 64 bytes".
  if (spec.pss) return { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 64 }
  return key
}

/** §3.1: the signature over the base (ASCII; latin1 keeps any byte as received). */
export function signBase(alg: HttpSignatureAlgorithm, key: KeyObject, base: string): Buffer {
  const spec = SPECS[alg]
  if (!keyFits(key, alg)) throw new Error(`the key does not fit ${alg}`)
  const data = Buffer.from(base, 'latin1')
  if (spec.keyType === 'secret') return createHmac('sha256', key).update(data).digest()
  return sign(spec.digest, data, keyOptions(spec, key))
}

/** §3.2 step 8: resolves true when `signature` is valid; false otherwise, never throws. */
export function verifyBase(alg: HttpSignatureAlgorithm, key: KeyObject, base: string, signature: Buffer): Promise<boolean> {
  const spec = SPECS[alg]
  if (!keyFits(key, alg)) return Promise.resolve(false)
  if (spec.sigBytes !== undefined && signature.length !== spec.sigBytes) return Promise.resolve(false)
  const data = Buffer.from(base, 'latin1')
  if (spec.keyType === 'secret') {
    // §3.3.3: compare in constant time.
    return Promise.resolve(timingSafeEqual(createHmac('sha256', key).update(data).digest(), signature))
  }
  return new Promise((resolve) => {
    try {
      verify(spec.digest, data, keyOptions(spec, key), signature, (err, ok) => resolve(!err && ok))
    } catch {
      resolve(false)
    }
  })
}
