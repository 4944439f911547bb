// A DPoP proof's public key (RFC 9449 §4.2 `jwk`) or a token's `cnf.jwk`
// (RFC 7800 §3.2): its RFC 7638 thumbprint and its KeyObject, without I/O.
// Pure. The key goes through the one importer every verification key goes
// through (keys/document.ts importPublicKey): the same types and curves, RSA
// 2048–8192 bits with e = 65537, refused before any signature work. Only
// the required public members reach OpenSSL or the thumbprint; a private
// member anywhere refuses the key (RFC 9449 §4.3 (7)).

import type { KeyObject } from 'node:crypto'
import { importPublicKey, membersThumbprint, PRIVATE_MEMBERS } from '../keys/index.js'

/** Longer members are no key we accept (an 8192-bit modulus is 1,366 characters). */
const MAX_MEMBER_CHARS = 1400

export interface PublicJwk {
  /** RFC 7638 SHA-256 thumbprint, base64url. */
  readonly thumbprint: string
  readonly keyObject: KeyObject
}

/** The key, or a client-safe reason (starting `jwk`) it is not a usable public signing key. */
export function readPublicJwk(jwk: unknown): PublicJwk | string {
  if (jwk === null || typeof jwk !== 'object' || Array.isArray(jwk)) return 'jwk must be a JSON object'
  const m = jwk as Record<string, unknown>
  for (const p of PRIVATE_MEMBERS) if (Object.hasOwn(m, p)) return 'jwk must not contain private key members'
  for (const name of ['x', 'y', 'n', 'e']) {
    const v = m[name]
    if (typeof v === 'string' && v.length > MAX_MEMBER_CHARS) return `jwk ${name} is too long`
  }
  let imported
  try {
    imported = importPublicKey(m)
  } catch {
    return 'jwk does not import as a public key'
  }
  if (typeof imported === 'string') return `jwk refused: ${imported}`
  // RFC 7638 §3.2: the members the importer kept are all strings, so a thumbprint always exists.
  return { thumbprint: membersThumbprint({ ...imported.members })!, keyObject: imported.keyObject }
}
