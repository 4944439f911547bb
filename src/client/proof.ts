// Signs DomainPoP proofs (PROTOCOL.md §2.2). Used by the Node client, the CLI,
// tests and the bench's load generator. Signs with node:crypto (the same
// encoding jose produces: ECDSA as raw r‖s, RFC 7518 §3.4).

import { sign, randomBytes, constants } from 'node:crypto'
import type { ClientKey } from './keys.js'

export interface ProofInput {
  readonly identity: string
  readonly keyUrl: string
  /** The gateway's publicOrigin: `aud`, and the origin of `htu`. */
  readonly audience: string
  readonly method: string
  /** Path of the request (query and fragment are ignored by the gateway). */
  readonly path: string
  readonly nonce?: string
  readonly iatSec?: number
  readonly jti?: string
  readonly extraClaims?: Readonly<Record<string, unknown>>
}

const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url')

export function signDomainPopProof(key: ClientKey, input: ProofInput): string {
  const header = { typ: 'domainpop+jwt', alg: key.alg, jku: input.keyUrl, kid: key.kid }
  const claims: Record<string, unknown> = {
    iss: input.identity,
    aud: input.audience,
    htm: input.method,
    htu: input.audience + input.path.split(/[?#]/)[0],
    iat: input.iatSec ?? Math.floor(Date.now() / 1000),
    jti: input.jti ?? randomBytes(16).toString('base64url'),
    ...(input.nonce !== undefined ? { nonce: input.nonce } : {}),
    ...input.extraClaims,
  }
  const signingInput = `${b64(header)}.${b64(claims)}`
  return `${signingInput}.${signRaw(key, signingInput).toString('base64url')}`
}

export function signRaw(key: ClientKey, signingInput: string): Buffer {
  const data = Buffer.from(signingInput)
  switch (key.alg) {
    case 'ES256': return sign('sha256', data, { key: key.privateKey, dsaEncoding: 'ieee-p1363' })
    case 'ES384': return sign('sha384', data, { key: key.privateKey, dsaEncoding: 'ieee-p1363' })
    case 'Ed25519': case 'EdDSA': return sign(null, data, key.privateKey)
    case 'PS256': return sign('sha256', data, { key: key.privateKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 })
  }
}
