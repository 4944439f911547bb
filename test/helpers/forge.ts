// Crafting malformed and forged JWS for hostile tests. Everything a real
// client library would refuse to produce: arbitrary header and payload JSON
// (arrays, prototypes, forbidden members), any `alg` over any key, HMAC keyed
// with a public key (the RFC 8725 §2.1 algorithm-confusion attack), the JSON
// serialization, and surgical edits to a signature.
//
// Pure functions over strings and Buffers; the only key material comes in as
// a ClientKey (src/client/keys.ts).

import { createHmac, createPublicKey, randomBytes, sign, constants } from 'node:crypto'
import type { ClientKey } from '../../src/client/keys.js'
import { signRaw, type ProofInput } from '../../src/client/proof.js'

export type JsonObject = Record<string, unknown>

/** A proof before signing: the protected header and the claims, both mutable copies. */
export interface ProofParts {
  header: JsonObject
  claims: JsonObject
}

export const b64url = (bytes: Buffer | string): string => Buffer.from(bytes).toString('base64url')

/** base64url(JSON): any JSON value, so arrays, null and strings can be forged as a header or payload. */
export const b64json = (value: unknown): string => b64url(JSON.stringify(value))

export const randomB64url = (bytes: number): string => randomBytes(bytes).toString('base64url')

/** The header and claims `signDomainPopProof` would sign for this input (src/client/proof.ts), as editable objects. */
export function proofParts(key: ClientKey, input: ProofInput): ProofParts {
  return {
    header: { typ: 'domainpop+jwt', alg: key.alg, jku: input.keyUrl, kid: key.kid },
    claims: {
      iss: input.identity,
      aud: input.audience,
      htm: input.method,
      htu: input.audience + input.path.split(/[?#]/)[0],
      iat: input.iatSec ?? Math.floor(Date.now() / 1000),
      jti: input.jti ?? randomB64url(16),
      ...(input.nonce !== undefined ? { nonce: input.nonce } : {}),
      ...input.extraClaims,
    },
  }
}

/**
 * Returns a copy of `parts` with members replaced; a member set to
 * `undefined` is removed (so `{ header: { typ: undefined } }` means "no typ").
 */
export function editParts(parts: ProofParts, edits: { header?: JsonObject; claims?: JsonObject }): ProofParts {
  const apply = (base: JsonObject, over: JsonObject | undefined): JsonObject => {
    const out: JsonObject = { ...base }
    for (const [k, v] of Object.entries(over ?? {})) {
      if (v === undefined) delete out[k]
      else out[k] = v
    }
    return out
  }
  return { header: apply(parts.header, edits.header), claims: apply(parts.claims, edits.claims) }
}

export const signingInputOf = (header: unknown, payload: unknown): string => `${b64json(header)}.${b64json(payload)}`

/** Compact JWS from any header and payload JSON and any signature bytes. */
export function compactJws(header: unknown, payload: unknown, signature: Buffer | string): string {
  return `${signingInputOf(header, payload)}.${typeof signature === 'string' ? signature : b64url(signature)}`
}

/**
 * Signs whatever header and claims it is given with the key's real algorithm
 * (ClientKey.alg), whatever `alg` the header claims: the header is the
 * attacker's to choose, the key is not.
 */
export function signParts(key: ClientKey, parts: ProofParts): string {
  const input = signingInputOf(parts.header, parts.claims)
  return `${input}.${b64url(signRaw(key, input))}`
}

/** RSASSA-PSS over SHA-256 with a chosen salt length; RFC 7518 §3.5 fixes it at 32 (the hash size). */
export function signPssWithSalt(key: ClientKey, parts: ProofParts, saltLength: number): string {
  const input = signingInputOf(parts.header, parts.claims)
  const sig = sign('sha256', Buffer.from(input), { key: key.privateKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength })
  return `${input}.${b64url(sig)}`
}

/** Signs a signing input given verbatim (for headers or payloads that are not JSON). */
export function signSegments(key: ClientKey, headerSegment: string, payloadSegment: string): string {
  const input = `${headerSegment}.${payloadSegment}`
  return `${input}.${b64url(signRaw(key, input))}`
}

/** HS256 over the signing input with `secret` as the HMAC key (RFC 7518 §3.2). */
export function hmacJws(secret: Buffer | string, header: unknown, payload: unknown): string {
  const input = signingInputOf(header, payload)
  return `${input}.${b64url(createHmac('sha256', secret).update(input).digest())}`
}

/** The public key as the bytes a confused verifier might use as an HMAC secret. */
export function publicKeySecrets(key: ClientKey): { jwkJson: string; pem: string } {
  return {
    jwkJson: JSON.stringify(key.publicJwk),
    pem: createPublicKey(key.privateKey).export({ type: 'spki', format: 'pem' }).toString(),
  }
}

/** RFC 7515 §7.2.2 flattened JSON serialization of a compact JWS. */
export function flattenedJson(token: string): string {
  const [protectedB64, payload, signature] = token.split('.')
  return JSON.stringify({ protected: protectedB64, payload, signature })
}

export interface DecodedJws {
  readonly headerSegment: string
  readonly payloadSegment: string
  readonly signature: Buffer
}

export function decodeCompact(token: string): DecodedJws {
  const parts = token.split('.')
  if (parts.length !== 3) throw new Error('decodeCompact: not three segments')
  return { headerSegment: parts[0]!, payloadSegment: parts[1]!, signature: Buffer.from(parts[2]!, 'base64url') }
}

/** The same token with its signature replaced by `signature` (bytes or a raw segment). */
export function withSignature(token: string, signature: Buffer | string): string {
  const { headerSegment, payloadSegment } = decodeCompact(token)
  return `${headerSegment}.${payloadSegment}.${typeof signature === 'string' ? signature : b64url(signature)}`
}

/** Flips one bit of the signature (default: the lowest bit of its middle byte). */
export function flipSignatureBit(token: string, byteIndex?: number, bit = 0): string {
  const sig = Buffer.from(decodeCompact(token).signature)
  const i = byteIndex ?? sig.length >> 1
  sig[i] = sig[i]! ^ (1 << bit)
  return withSignature(token, sig)
}

/** Drops the last `bytes` bytes of the signature. */
export function truncateSignature(token: string, bytes: number): string {
  const sig = decodeCompact(token).signature
  return withSignature(token, sig.subarray(0, sig.length - bytes))
}

/** Order of the P-256 group (SEC 2 §2.4.2). */
const P256_N = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n

const toBig = (b: Buffer): bigint => BigInt('0x' + (b.toString('hex') || '0'))
const fromBig = (v: bigint, bytes: number): Buffer => Buffer.from(v.toString(16).padStart(bytes * 2, '0'), 'hex')

/**
 * ECDSA malleability for an ES256 token: (r, s) → (r, n − s) is another valid
 * signature over the same input. Replay protection must key on `jti`, never
 * on the signature bytes.
 */
export function malleateEs256(token: string): string {
  const sig = decodeCompact(token).signature
  if (sig.length !== 64) throw new Error('malleateEs256: not a raw P-256 signature')
  const r = sig.subarray(0, 32), s = toBig(sig.subarray(32))
  return withSignature(token, Buffer.concat([r, fromBig(P256_N - s, 32)]))
}

/** Re-encodes a raw r‖s ECDSA signature (RFC 7518 §3.4) as ASN.1 DER, which JWS forbids. */
export function derEncodeEcdsa(token: string): string {
  const sig = decodeCompact(token).signature
  const half = sig.length >> 1
  const int = (b: Buffer): Buffer => {
    let v = b
    while (v.length > 1 && v[0] === 0 && v[1]! < 0x80) v = v.subarray(1)
    if (v[0]! >= 0x80) v = Buffer.concat([Buffer.from([0]), v])
    return Buffer.concat([Buffer.from([0x02, v.length]), v])
  }
  const body = Buffer.concat([int(sig.subarray(0, half)), int(sig.subarray(half))])
  return withSignature(token, Buffer.concat([Buffer.from([0x30, body.length]), body]))
}
