// The session key both sides derive (PROTOCOL.md §4), used by the gateway
// when it mints a ticket and by the clients when they read the answer. Pure,
// node:crypto only.
//
//   Z  = ECDH(one side's ephemeral private key, the other's ephemeral public key)
//        P-256: the 32-byte x-coordinate (SEC 1 §3.3.1); X25519: the 32-byte output (RFC 7748 §6.1)
//   SK = HKDF-SHA256(ikm = Z, salt = UTF-8(nonce), info = UTF-8("domainpop session v1|" + aud + "|" + kid), L = 32)   (RFC 5869)
//
// `nonce`, `aud` and `kid` are the values of the proof that carried `epk`.

import { createPublicKey, diffieHellman, generateKeyPairSync, hkdfSync, type KeyObject } from 'node:crypto'

export type SessionCurve = 'P-256' | 'X25519'

/** A public ECDH JWK as it travels: no private member, nothing but what names the point. */
export type EcdhPublicJwk =
  | { readonly kty: 'EC'; readonly crv: 'P-256'; readonly x: string; readonly y: string }
  | { readonly kty: 'OKP'; readonly crv: 'X25519'; readonly x: string }

export const SESSION_KEY_BYTES = 32
const INFO_PREFIX = 'domainpop session v1|'
const B64URL = /^[A-Za-z0-9_-]+$/

const coordinate = (v: unknown): boolean => typeof v === 'string' && v.length === 43 && B64URL.test(v)

/**
 * An `epk` claim → the peer's public key, or a reason it is refused. Only
 * P-256 and X25519 public keys, members exactly as RFC 7518 §6.2.1 / RFC 8037 §2
 * name them; a private member (`d`) or any other curve is refused. Node checks
 * that a P-256 point is on the curve when it imports it.
 */
export function importEpk(epk: unknown): { key: KeyObject; jwk: EcdhPublicJwk } | string {
  if (epk === null || typeof epk !== 'object' || Array.isArray(epk)) return 'epk must be a JWK object'
  const j = epk as Record<string, unknown>
  if ('d' in j) return 'epk must not hold a private member'
  let jwk: EcdhPublicJwk
  if (j.kty === 'EC' && j.crv === 'P-256' && coordinate(j.x) && coordinate(j.y)) jwk = { kty: 'EC', crv: 'P-256', x: j.x as string, y: j.y as string }
  else if (j.kty === 'OKP' && j.crv === 'X25519' && coordinate(j.x)) jwk = { kty: 'OKP', crv: 'X25519', x: j.x as string }
  else return 'epk must be a P-256 (kty EC) or X25519 (kty OKP) public JWK'
  try {
    return { key: createPublicKey({ key: jwk as import('node:crypto').JsonWebKey, format: 'jwk' }), jwk }
  } catch {
    return 'epk is not a valid point'
  }
}

/** A fresh ephemeral key pair on `curve`, with its public JWK. */
export function generateEphemeral(curve: SessionCurve): { privateKey: KeyObject; jwk: EcdhPublicJwk } {
  const { privateKey, publicKey } = curve === 'X25519' ? generateKeyPairSync('x25519') : generateKeyPairSync('ec', { namedCurve: 'P-256' })
  const full = publicKey.export({ format: 'jwk' }) as Record<string, string>
  const jwk: EcdhPublicJwk = curve === 'X25519' ? { kty: 'OKP', crv: 'X25519', x: full.x! } : { kty: 'EC', crv: 'P-256', x: full.x!, y: full.y! }
  return { privateKey, jwk }
}

export const curveOf = (jwk: EcdhPublicJwk): SessionCurve => jwk.crv

export interface SessionKeyInput {
  readonly privateKey: KeyObject
  readonly peerPublicKey: KeyObject
  /** The proof's `nonce` ("" when the proof had none: a DPoP proof to a gateway that does not require nonces). */
  readonly nonce: string
  /** The proof's `aud` (a DPoP proof: the gateway's audience). */
  readonly aud: string
  /** The proof's `kid` (a DPoP proof: the RFC 7638 thumbprint of its `jwk`). */
  readonly kid: string
}

/** SK per PROTOCOL.md §4. Throws when the curves differ or the shared secret is all zeros (an X25519 small-order point, RFC 7748 §6.1). */
export function deriveSessionKey(input: SessionKeyInput): Buffer {
  const z = diffieHellman({ privateKey: input.privateKey, publicKey: input.peerPublicKey })
  if (z.length !== 32 || z.every((b) => b === 0)) throw new Error('ECDH produced no usable shared secret')
  const info = Buffer.from(INFO_PREFIX + input.aud + '|' + input.kid, 'utf8')
  return Buffer.from(hkdfSync('sha256', z, Buffer.from(input.nonce, 'utf8'), info, SESSION_KEY_BYTES))
}
