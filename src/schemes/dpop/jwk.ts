// A DPoP proof's public key (RFC 9449 §4.2 `jwk`) or a token's `cnf.jwk`
// (RFC 7800 §3.2): its RFC 7638 thumbprint and its KeyObject, without I/O.
// Pure. Only the required public members reach OpenSSL or the thumbprint;
// a private member anywhere refuses the key (RFC 9449 §4.3 (7)).

import { createHash, createPublicKey, type KeyObject } from 'node:crypto'
import { PRIVATE_MEMBERS } from '../../keys/index.js'

const B64URL = /^[A-Za-z0-9_-]{1,1400}$/
const CURVES: Readonly<Record<string, readonly string[]>> = { EC: ['P-256', 'P-384'], OKP: ['Ed25519'] }

export interface PublicJwk {
  /** RFC 7638 SHA-256 thumbprint, base64url. */
  readonly thumbprint: string
  readonly keyObject: KeyObject
}

/** The key, or a client-safe reason it is not a usable public signing key. */
export function readPublicJwk(jwk: unknown): PublicJwk | string {
  if (jwk === null || typeof jwk !== 'object' || Array.isArray(jwk)) return 'jwk must be a JSON object'
  const m = jwk as Record<string, unknown>
  for (const p of PRIVATE_MEMBERS) if (Object.hasOwn(m, p)) return 'jwk must not contain private key members'
  const str = (name: string): string | undefined => (typeof m[name] === 'string' && B64URL.test(m[name] as string) ? (m[name] as string) : undefined)
  // RFC 7638 §3.2: the required members in lexicographic order, nothing else.
  let canonical: Record<string, string>
  if (m.kty === 'EC' || m.kty === 'OKP') {
    const crv = m.crv
    if (typeof crv !== 'string' || !CURVES[m.kty]!.includes(crv)) return 'jwk has an unsupported curve'
    const x = str('x'), y = str('y')
    if (x === undefined || (m.kty === 'EC' && y === undefined)) return 'jwk coordinates must be base64url'
    canonical = m.kty === 'EC' ? { crv, kty: 'EC', x, y: y! } : { crv, kty: 'OKP', x }
  } else if (m.kty === 'RSA') {
    const e = str('e'), n = str('n')
    if (e === undefined || n === undefined) return 'jwk n and e must be base64url'
    canonical = { e, kty: 'RSA', n }
  } else {
    return 'jwk kty must be EC, OKP or RSA'
  }
  let keyObject: KeyObject
  try {
    keyObject = createPublicKey({ key: canonical, format: 'jwk' })
  } catch {
    return 'jwk does not import as a public key'
  }
  return { thumbprint: thumbprintOf(canonical), keyObject }
}

/** RFC 7638 §3: SHA-256 over the canonical JSON (members already required-only and ordered). */
function thumbprintOf(canonical: Record<string, string>): string {
  return createHash('sha256').update(JSON.stringify(canonical)).digest('base64url')
}
