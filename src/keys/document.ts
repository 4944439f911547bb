// Parse a key document into public signing keys (PROTOCOL.md §2.1).
// Pure (async only because jose's thumbprint is). Throws
// GatewayError('key_document_invalid') for a document that must not be used.
//
// Policy:
// - A JWK Set `{"keys":[...]}` (RFC 7517 §5) or a single JWK object.
// - Any private member anywhere rejects the whole document: a domain that
//   publishes a private key has lost it, and none of its keys can be trusted.
// - Usable: EC P-256/P-384, OKP Ed25519, RSA with a 2048–8192-bit modulus and e = 65537.
//   Other types and curves, and keys whose `use`/`key_ops` exclude
//   signature verification, are skipped; a malformed key of a usable type is
//   a broken document and rejects it.
// - The kid is the RFC 7638 thumbprint of the key as Node re-exports it, so
//   it depends on the key, not on how the document happened to encode it.

import { createPublicKey, type JsonWebKey, type KeyObject } from 'node:crypto'
import { admitsEntry, jwkThumbprint } from './thumbprint.js'
import { GatewayError } from '../errors.js'
import type { ResolvedKey, StoredKey } from './types.js'

export const MAX_KEYS_PER_DOCUMENT = 32
/** RFC 7518 §6.2.2, §6.3.2, §6.4.1; RFC 8037 §2 (OKP `d`). */
export const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'] as const
// Maps to the same constant strings, so 100,000 cached keys share one 'P-256'
// instead of each keeping the copy JSON.parse made (docs/benchmarks.md, "Key cache memory").
const EC_CURVES = new Map([['P-256', 'P-256'], ['P-384', 'P-384']])
const OKP_CURVES = new Map([['Ed25519', 'Ed25519']])
const KNOWN_ALGS = new Map(['ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519', 'PS256', 'PS384', 'PS512', 'RS256', 'RS384', 'RS512'].map((a) => [a, a]))
const isEdDsa = (alg: string): boolean => alg === 'EdDSA' || alg === 'Ed25519'

/** Whether a key document's `alg` for a key (RFC 7517 §4.4) admits a signature made with `alg`: the same name, `EdDSA` and `Ed25519` being one algorithm. */
export const sameAlg = (keyAlg: string, alg: string): boolean => keyAlg === alg || (isEdDsa(keyAlg) && isEdDsa(alg))

const RSA_MIN_BITS = 2048
const RSA_MAX_BITS = 8192

export type Json = Record<string, unknown>

const invalid = (why: string, cause?: unknown): GatewayError =>
  new GatewayError('key_document_invalid', `key document ${why}`, cause === undefined ? undefined : { cause })

/**
 * `pins`: the owner's pinned thumbprints (keys/trust.ts), undefined when not
 * pinned. A key they do not list is skipped before it is imported; a
 * document of such keys only is an empty list (the proof's kid then is not
 * found), not a broken document.
 */
export async function parseKeyDocument(body: Uint8Array | string, pins?: ReadonlySet<string>): Promise<ResolvedKey[]> {
  const entries = readEntries(body)
  refusePrivateMembers(entries)
  const keys = new Map<string, ResolvedKey>()
  const skipped: string[] = []
  let unpinned = 0
  for (const entry of entries) {
    if (!admitsEntry(entry, pins)) { unpinned++; continue }
    const outcome = await readKey(entry)
    if (typeof outcome === 'string') skipped.push(outcome)
    // Imported, its canonical thumbprint must be the pinned one it was admitted as (a non-canonical spelling is skipped).
    else if (pins !== undefined && !pins.has(outcome.kid)) unpinned++
    else if (!keys.has(outcome.kid)) keys.set(outcome.kid, outcome)
  }
  if (keys.size === 0 && unpinned === 0) throw invalid(`has no usable signing key (${[...new Set(skipped)].join('; ')})`)
  return [...keys.values()]
}

/** PROTOCOL.md §2.1: a document that publishes a private key has lost it; none of its keys can be trusted. */
export function refusePrivateMembers(entries: readonly Json[]): void {
  for (const entry of entries) {
    for (const m of PRIVATE_MEMBERS) {
      if (Object.hasOwn(entry, m)) throw invalid(`contains a private key member (${m}); the whole document is refused`)
    }
  }
}

/** The JWK objects of a document: a JWK Set, or (when `single`) a lone JWK. Throws key_document_invalid. */
export function readEntries(body: Uint8Array | string, single = true): Json[] {
  let text: string
  try {
    text = typeof body === 'string' ? body : new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(body)
  } catch (err) {
    throw invalid('is not UTF-8', err)
  }
  let doc: unknown
  try {
    doc = JSON.parse(text)
  } catch (err) {
    throw invalid('is not valid JSON', err)
  }
  if (!isObject(doc)) throw invalid('must be a JSON object')
  let entries: unknown[]
  if (Object.hasOwn(doc, 'keys')) {
    if (!Array.isArray(doc.keys)) throw invalid('member keys must be an array')
    entries = doc.keys
  } else if (single && Object.hasOwn(doc, 'kty')) {
    entries = [doc]
  } else {
    throw invalid(single ? 'must be a JWK Set or a single JWK' : 'must be a JWK Set')
  }
  if (entries.length === 0) throw invalid('has no keys')
  if (entries.length > MAX_KEYS_PER_DOCUMENT) throw invalid(`has more than ${MAX_KEYS_PER_DOCUMENT} keys`)
  if (!entries.every(isObject)) throw invalid('member keys must hold only JWK objects')
  return entries as Json[]
}

/** A usable key, or a string saying why this entry was skipped. Throws for a malformed usable key. */
async function readKey(entry: Json): Promise<ResolvedKey | string> {
  const imported = importPublicKey(entry)
  if (typeof imported === 'string') return imported
  const { members, keyObject } = imported
  // The thumbprint is taken over OpenSSL's own export of the key, so a
  // document cannot pick a kid with a non-canonical spelling of the members.
  const kid = jwkThumbprint(keyObject)
  return Object.freeze({ ...storedKey(kid, imported.alg, members), keyObject })
}

/** A public signing key read from a JWK: its validated public members, `alg` and imported KeyObject. */
export interface ImportedKey {
  readonly members: PublicMembers
  /** The JWK's `alg` (RFC 7517 §4.4), as a shared constant string when it is a known one. */
  readonly alg: string | undefined
  readonly keyObject: KeyObject
}

/**
 * The one importer of public keys, for every key the gateway verifies with
 * (DomainPoP documents, an issuer's JWKS, a DPoP proof's `jwk`, a token's
 * `cnf.jwk`): a usable signing key, or a string saying why this entry is skipped.
 * Throws GatewayError('key_document_invalid') for a malformed key of a
 * usable type. Private members are the caller's check (they reject the
 * whole document, not one key).
 */
export function importPublicKey(entry: Json): ImportedKey | string {
  const { kty } = entry
  if (entry.use !== undefined && entry.use !== 'sig') return 'a key has use other than sig'
  if (entry.key_ops !== undefined && !(Array.isArray(entry.key_ops) && entry.key_ops.includes('verify'))) return 'a key has key_ops without verify'
  if (entry.alg !== undefined && typeof entry.alg !== 'string') throw invalid('has a key whose alg is not a string')

  let members: PublicMembers
  let type: StoredKey['kty']
  if (kty === 'EC') {
    type = 'EC'
    const crv = EC_CURVES.get(entry.crv as string)
    if (crv === undefined) return `EC curve ${describe(entry.crv)} is not supported`
    members = { kty: type, crv, x: str(entry, 'x'), y: str(entry, 'y') }
  } else if (kty === 'OKP') {
    type = 'OKP'
    const crv = OKP_CURVES.get(entry.crv as string)
    if (crv === undefined) return `OKP curve ${describe(entry.crv)} is not supported`
    members = { kty: type, crv, x: str(entry, 'x') }
  } else if (kty === 'RSA') {
    type = 'RSA'
    members = { kty: type, n: str(entry, 'n'), e: str(entry, 'e') }
    // Refused from the members' lengths, before OpenSSL sees the key: a key
    // that is refused must cost no import, let alone a verify.
    const bounds = rsaBoundsProblem(members.n!, members.e!)
    if (bounds !== undefined) return bounds
  } else {
    return `key type ${describe(kty)} is not supported`
  }

  let keyObject: KeyObject
  try {
    // Only the public members go in: nothing else in the entry reaches OpenSSL.
    keyObject = createPublicKey({ key: members as JsonWebKey, format: 'jwk' })
  } catch (err) {
    throw invalid(`has a ${type} key that does not import`, err)
  }
  if (type === 'RSA') {
    const bits = keyObject.asymmetricKeyDetails?.modulusLength ?? 0
    if (bits < RSA_MIN_BITS) return `an RSA key is shorter than ${RSA_MIN_BITS} bits`
    if (bits > RSA_MAX_BITS) return `an RSA key is longer than ${RSA_MAX_BITS} bits`
    // A huge public exponent makes every verify ~40× slower (CPU amplification
    // by an allowed identity); 65537 is what every real key uses.
    if (keyObject.asymmetricKeyDetails?.publicExponent !== 65537n) return 'an RSA key has a public exponent other than 65537'
  }
  const alg = entry.alg === undefined ? undefined : KNOWN_ALGS.get(entry.alg as string) ?? (entry.alg as string)
  return { members, alg, keyObject }
}

/** base64url of 65537 in the fewest octets (RFC 7518 §6.3.1.2: e and n use the minimum octets). */
const E_65537 = 'AQAB'
/** base64url characters of a 2048-bit and of an 8192-bit modulus (256 and 1024 octets, unpadded). */
const RSA_MIN_CHARS = Math.ceil((RSA_MIN_BITS / 8) * 4 / 3)
const RSA_MAX_CHARS = Math.ceil((RSA_MAX_BITS / 8) * 4 / 3)

/**
 * The RSA bounds read from the members as written, so that a refused key is
 * never imported: e must be 65537 (a huge public exponent makes every verify
 * many times slower: CPU amplification by whoever chose the key), and n's
 * length must be that of a 2048–8192-bit modulus. The exact bit length is
 * checked again on the imported key (`n` may start with zero bits).
 */
function rsaBoundsProblem(n: string, e: string): string | undefined {
  if (e !== E_65537) return 'an RSA key has a public exponent other than 65537'
  if (n.length < RSA_MIN_CHARS) return `an RSA key is shorter than ${RSA_MIN_BITS} bits`
  if (n.length > RSA_MAX_CHARS) return `an RSA key is longer than ${RSA_MAX_BITS} bits`
  return undefined
}

/** A key's type and public members, however they are held. */
export interface PublicMembers {
  readonly kty: StoredKey['kty']
  readonly crv?: string | undefined
  readonly x?: string | undefined
  readonly y?: string | undefined
  readonly n?: string | undefined
  readonly e?: string | undefined
}

/**
 * The compact form the cache keeps (docs/benchmarks.md, "Key cache memory"):
 * one object literal of one shape for every key type, so 100,000 of them
 * need no second object for the members and no out-of-object property store.
 */
export function storedKey(kid: string, alg: string | undefined, m: PublicMembers): StoredKey {
  return Object.freeze({ kid, kty: m.kty, crv: m.crv, alg, x: m.x, y: m.y, n: m.n, e: m.e })
}

/** The public members of a stored key, as createPublicKey takes them. */
export function publicJwk(k: StoredKey): JsonWebKey {
  if (k.kty === 'RSA') return { kty: k.kty, n: k.n, e: k.e }
  if (k.kty === 'EC') return { kty: k.kty, crv: k.crv, x: k.x, y: k.y }
  return { kty: k.kty, crv: k.crv, x: k.x }
}

function str(entry: Json, member: string): string {
  const v = entry[member]
  if (typeof v !== 'string' || !/^[A-Za-z0-9_-]+$/.test(v)) throw invalid(`has a ${String(entry.kty)} key whose ${member} is not base64url`)
  return v
}

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

/** Echo a document value in an error only when it is a short plain token. */
function describe(v: unknown): string {
  return typeof v === 'string' && /^[A-Za-z0-9._-]{1,20}$/.test(v) ? v : '(missing or unusual)'
}
