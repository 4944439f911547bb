// What the reference key host and issuer accept as a caller's public key:
// one signing key of a supported type, public members only.

import { createPublicKey, type JsonWebKey } from 'node:crypto'
import type { JWK } from 'jose'

const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k']

/** Pure: is this a public signing key we are willing to publish? Returns the cleaned JWK or why not. */
export function checkPublishableJwk(input: unknown): JWK | string {
  if (!input || typeof input !== 'object' || Array.isArray(input)) return 'body must be a JWK object'
  const jwk = input as Record<string, unknown>
  for (const m of PRIVATE_MEMBERS) if (m in jwk) return `private member "${m}" is not allowed: publish the public key only`
  let members: string[]
  if (jwk.kty === 'EC' && (jwk.crv === 'P-256' || jwk.crv === 'P-384')) members = ['kty', 'crv', 'x', 'y']
  else if (jwk.kty === 'OKP' && jwk.crv === 'Ed25519') members = ['kty', 'crv', 'x']
  else if (jwk.kty === 'RSA') members = ['kty', 'n', 'e']
  else return 'unsupported key type: use EC P-256/P-384, OKP Ed25519 or RSA'
  const out: Record<string, unknown> = {}
  for (const m of members) {
    if (typeof jwk[m] !== 'string') return `member "${m}" is required`
    out[m] = jwk[m]
  }
  try {
    const k = createPublicKey({ key: out as JsonWebKey, format: 'jwk' })
    if (k.asymmetricKeyType === 'rsa' && (k.asymmetricKeyDetails?.modulusLength ?? 0) < 2048) return 'RSA keys must be at least 2048 bits'
  } catch {
    return 'not a valid public key'
  }
  if (jwk.use !== undefined && jwk.use !== 'sig') return 'use must be "sig"'
  if (typeof jwk.alg === 'string') out.alg = jwk.alg
  out.use = 'sig'
  return out as JWK
}

