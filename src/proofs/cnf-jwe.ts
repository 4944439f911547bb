// RFC 7800 §3.3 `cnf.jwe`: a symmetric proof-of-possession key, as a JWK
// (`{"kty":"oct","k":…}`), encrypted by an identity domain's issuer to the
// gateway's public encryption key (PROTOCOL.md §4, "Issuer-provided symmetric
// key"). One algorithm pair only: JWE `ECDH-ES+A256KW` / `A256GCM`
// (RFC 7518 §4.6, §5.3), compact serialization (RFC 7516 §7.1).
//
// Opening, step by step (RFC 7516 §5.2):
//   1. five base64url segments; the protected header is a JSON object with
//      exactly alg, enc, kid, epk and the replicated claims iss and jti
//      (RFC 7519 §5.3), optionally apu/apv; no zip, no crit (RFC 8725 §3.1:
//      one algorithm, refused before any key work)
//   2. kid picks the gateway's key; an unknown kid (a removed key) is refused
//   3. Z = ECDH(gateway private key, epk) on P-256 (Node checks epk is on the curve)
//   4. KEK = Concat KDF (RFC 7518 §4.6.2, NIST SP 800-56A §5.8.1) with SHA-256:
//      SHA-256(00000001 ‖ Z ‖ len‖"ECDH-ES+A256KW" ‖ len‖apu ‖ len‖apv ‖ 00000100)
//   5. CEK = AES-256 key unwrap of the encrypted key under KEK (RFC 3394)
//   6. AES-256-GCM open: IV 96 bits, tag 128 bits, AAD = ASCII(protected header segment)
//   7. the plaintext is exactly {"kty":"oct","k":<32 bytes>} (an `alg` member is allowed)
//
// All on node:crypto: this runs once per token (then the opened key is
// cached, schemes/issuer-symmetric/cache.ts). `sealCnfJwe` is the same
// construction in reverse, for tests and the bench; jose is the test oracle
// both ways (test/unit/proofs/cnf-jwe.test.ts). The reference issuer
// (keyhost/issuer.ts) encrypts with jose.

import { createCipheriv, createDecipheriv, createHash, createPublicKey, diffieHellman, generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto'
import { GatewayError } from '../errors.js'
import { CNF_JWE_ALG, CNF_JWE_ENC, type EncryptionKey } from '../secrets/encryption-keys.js'

/** A `cnf.jwe` longer than this is refused before it is decoded (a real one is ~450 characters). */
export const MAX_CNF_JWE_CHARS = 2048
export const SYMMETRIC_KEY_BYTES = 32
const B64URL = /^[A-Za-z0-9_-]*$/
const COORD = /^[A-Za-z0-9_-]{43}$/
const HEADER_MEMBERS = new Set(['alg', 'enc', 'kid', 'epk', 'iss', 'jti', 'apu', 'apv'])
const RFC3394_IV = Buffer.from('A6A6A6A6A6A6A6A6', 'hex')

/** What an opened `cnf.jwe` says: the symmetric key, and the claims its header replicates (RFC 7519 §5.3). */
export interface OpenedCnf {
  readonly key: Buffer
  /** The replicated `iss` and `jti`: the token the key was made for. */
  readonly iss: string
  readonly jti: string
}

const malformed = (why: string): GatewayError => new GatewayError('cnf_jwe_malformed', why)
const invalid = (why: string): GatewayError => new GatewayError('cnf_jwe_invalid', why)

function lengthPrefixed(bytes: Buffer): Buffer {
  const len = Buffer.alloc(4)
  len.writeUInt32BE(bytes.length)
  return Buffer.concat([len, bytes])
}

/** RFC 7518 §4.6.2: the 256-bit KEK for ECDH-ES+A256KW (one SHA-256 round covers it). */
export function concatKdf(z: Buffer, apu: Buffer, apv: Buffer): Buffer {
  const suppPub = Buffer.alloc(4)
  suppPub.writeUInt32BE(256)
  return createHash('sha256')
    .update(Buffer.from([0, 0, 0, 1])).update(z)
    .update(lengthPrefixed(Buffer.from(CNF_JWE_ALG, 'ascii')))
    .update(lengthPrefixed(apu)).update(lengthPrefixed(apv))
    .update(suppPub)
    .digest()
}

function decodeHeader(segment: string): Record<string, unknown> {
  let v: unknown
  try { v = JSON.parse(Buffer.from(segment, 'base64url').toString('utf8')) } catch { throw malformed('cnf.jwe header is not base64url JSON') }
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw malformed('cnf.jwe header is not a JSON object')
  return v as Record<string, unknown>
}

/** The epk member: a P-256 public JWK, nothing else (a private member or another curve is refused). */
function readEpk(epk: unknown): KeyObject {
  if (epk === null || typeof epk !== 'object' || Array.isArray(epk)) throw malformed('cnf.jwe epk must be a JWK')
  const j = epk as Record<string, unknown>
  if (j.kty !== 'EC' || j.crv !== 'P-256' || typeof j.x !== 'string' || typeof j.y !== 'string' || !COORD.test(j.x) || !COORD.test(j.y) || 'd' in j) {
    throw malformed('cnf.jwe epk must be a P-256 public JWK')
  }
  try {
    return createPublicKey({ key: { kty: 'EC', crv: 'P-256', x: j.x, y: j.y }, format: 'jwk' })
  } catch {
    throw invalid('cnf.jwe epk is not a point on P-256')
  }
}

/** The header's checks without any key: shape, the one alg/enc pair, the kid and the replicated claims. Cheap; run before the key work. */
export interface CnfJweParts {
  readonly header: Record<string, unknown>
  readonly kid: string
  readonly segments: readonly [string, string, string, string, string]
}

export function splitCnfJwe(jwe: unknown): CnfJweParts {
  if (typeof jwe !== 'string' || jwe.length === 0) throw malformed('cnf.jwe must be a compact JWE string')
  if (jwe.length > MAX_CNF_JWE_CHARS) throw malformed(`cnf.jwe is longer than ${MAX_CNF_JWE_CHARS} characters`)
  const segments = jwe.split('.')
  if (segments.length !== 5 || !segments.every((s) => B64URL.test(s))) throw malformed('cnf.jwe must be a compact JWE of five base64url segments')
  const header = decodeHeader(segments[0]!)
  // RFC 8725 §3.1: exactly the one pair; never dir, RSA or another enc.
  if (header.alg !== CNF_JWE_ALG || header.enc !== CNF_JWE_ENC) throw new GatewayError('cnf_jwe_alg_unsupported', `cnf.jwe must be alg ${CNF_JWE_ALG} with enc ${CNF_JWE_ENC}`)
  for (const k of Object.keys(header)) if (!HEADER_MEMBERS.has(k)) throw malformed(`cnf.jwe header member ${k.length <= 16 ? k : 'name'} is not allowed`)
  if (typeof header.kid !== 'string' || header.kid.length === 0 || header.kid.length > 64) throw malformed('cnf.jwe kid must name one of the gateway\'s encryption keys')
  if (typeof header.iss !== 'string' || typeof header.jti !== 'string') throw malformed('cnf.jwe header must replicate the token\'s iss and jti (RFC 7519 §5.3)')
  if (segments[1]!.length === 0 || segments[2]!.length !== 16 || segments[4]!.length !== 22) throw malformed('cnf.jwe needs an encrypted key, a 96-bit IV and a 128-bit tag')
  return { header, kid: header.kid, segments: segments as unknown as CnfJweParts['segments'] }
}

/** Steps 2–7 above. Throws cnf_jwe_key_unknown, cnf_jwe_malformed or cnf_jwe_invalid; never anything else. */
export function openCnfJwe(parts: CnfJweParts, keys: readonly EncryptionKey[]): OpenedCnf {
  const key = keys.find((k) => k.kid === parts.kid)
  if (key === undefined) throw new GatewayError('cnf_jwe_key_unknown', 'cnf.jwe is encrypted to a key this gateway does not hold (rotated out?); ask the issuer for a new token')
  const { header, segments } = parts
  const epk = readEpk(header.epk)
  const b64 = (v: unknown, name: string): Buffer => {
    if (v === undefined) return Buffer.alloc(0)
    if (typeof v !== 'string' || !B64URL.test(v) || v.length > 256) throw malformed(`cnf.jwe ${name} must be base64url`)
    return Buffer.from(v, 'base64url')
  }
  const apu = b64(header.apu, 'apu'), apv = b64(header.apv, 'apv')
  let plaintext: Buffer
  try {
    const z = diffieHellman({ privateKey: key.privateKey, publicKey: epk })
    const kek = concatKdf(z, apu, apv)
    const unwrap = createDecipheriv('id-aes256-wrap', kek, RFC3394_IV)
    const cek = Buffer.concat([unwrap.update(Buffer.from(segments[1], 'base64url')), unwrap.final()])
    if (cek.length !== 32) throw new Error('cek length')
    const gcm = createDecipheriv('aes-256-gcm', cek, Buffer.from(segments[2], 'base64url'))
    gcm.setAAD(Buffer.from(segments[0], 'ascii'))
    gcm.setAuthTag(Buffer.from(segments[4], 'base64url'))
    plaintext = Buffer.concat([gcm.update(Buffer.from(segments[3], 'base64url')), gcm.final()])
  } catch {
    // One answer for a bad wrap, a bad tag or a key that does not fit: nothing about which.
    throw invalid('cnf.jwe does not open with the gateway\'s key')
  }
  return { key: readOctJwk(plaintext), iss: header.iss as string, jti: header.jti as string }
}

/** RFC 7800 §3.3: the plaintext is the symmetric key as a JWK (RFC 7518 §6.4), 256 bits. */
function readOctJwk(plaintext: Buffer): Buffer {
  let v: unknown
  try { v = JSON.parse(plaintext.toString('utf8')) } catch { throw invalid('cnf.jwe plaintext is not a JWK') }
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw invalid('cnf.jwe plaintext is not a JWK')
  const j = v as Record<string, unknown>
  for (const m of Object.keys(j)) if (m !== 'kty' && m !== 'k' && m !== 'alg') throw invalid('cnf.jwe plaintext must be {"kty":"oct","k":…}')
  if (j.kty !== 'oct' || typeof j.k !== 'string' || !/^[A-Za-z0-9_-]{43}$/.test(j.k)) throw invalid('cnf.jwe plaintext must be an oct JWK of 256 bits')
  if (j.alg !== undefined && j.alg !== 'HS256') throw invalid('cnf.jwe key alg, when given, must be HS256')
  return Buffer.from(j.k, 'base64url')
}

/** The same JWE made here (tests, the bench): `symmetricKey` to `recipient`, binding `iss` and `jti`. */
export function sealCnfJwe(symmetricKey: Buffer, recipient: { readonly kid: string; readonly publicKey: KeyObject }, claims: { readonly iss: string; readonly jti: string }, header: Record<string, unknown> = {}): string {
  const eph = generateKeyPairSync('ec', { namedCurve: 'P-256' })
  const e = eph.publicKey.export({ format: 'jwk' }) as { x: string; y: string }
  const protectedHeader = { alg: CNF_JWE_ALG, enc: CNF_JWE_ENC, kid: recipient.kid, epk: { kty: 'EC', crv: 'P-256', x: e.x, y: e.y }, iss: claims.iss, jti: claims.jti, ...header }
  const h = Buffer.from(JSON.stringify(protectedHeader)).toString('base64url')
  const z = diffieHellman({ privateKey: eph.privateKey, publicKey: recipient.publicKey })
  const kek = concatKdf(z, Buffer.alloc(0), Buffer.alloc(0))
  const cek = randomBytes(32)
  const wrap = createCipheriv('id-aes256-wrap', kek, RFC3394_IV)
  const encryptedKey = Buffer.concat([wrap.update(cek), wrap.final()])
  const iv = randomBytes(12)
  const gcm = createCipheriv('aes-256-gcm', cek, iv)
  gcm.setAAD(Buffer.from(h, 'ascii'))
  const ct = Buffer.concat([gcm.update(JSON.stringify({ kty: 'oct', k: symmetricKey.toString('base64url') })), gcm.final()])
  return [h, encryptedKey.toString('base64url'), iv.toString('base64url'), ct.toString('base64url'), gcm.getAuthTag().toString('base64url')].join('.')
}
