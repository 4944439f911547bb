// Parse a key document into public signing keys (PROTOCOL.md §2.1).
// Pure (async only because jose's thumbprint is). Throws
// GatewayError('key_document_invalid') for a document that must not be used.
//
// Policy:
// - A JWK Set `{"keys":[...]}` (RFC 7517 §5) or a single JWK object.
// - Any private member anywhere rejects the whole document: a domain that
//   publishes a private key has lost it, and none of its keys can be trusted.
// - Usable: EC P-256/P-384, OKP Ed25519, RSA with a 2048–8192-bit modulus.
//   Other types and curves, and keys whose `use`/`key_ops` exclude
//   signature verification, are skipped; a malformed key of a usable type is
//   a broken document and rejects it.
// - The kid is the RFC 7638 thumbprint of the key as Node re-exports it, so
//   it depends on the key, not on how the document happened to encode it.

import { createPublicKey, type JsonWebKey, type KeyObject } from 'node:crypto'
import { calculateJwkThumbprint, type JWK } from 'jose'
import { GatewayError } from '../errors.js'
import type { ResolvedKey } from './types.js'

export const MAX_KEYS_PER_DOCUMENT = 32
/** RFC 7518 §6.2.2, §6.3.2, §6.4.1; RFC 8037 §2 (OKP `d`). */
export const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'] as const
const EC_CURVES = new Set(['P-256', 'P-384'])
const OKP_CURVES = new Set(['Ed25519'])
const RSA_MIN_BITS = 2048
const RSA_MAX_BITS = 8192

type Json = Record<string, unknown>

const invalid = (why: string, cause?: unknown): GatewayError =>
  new GatewayError('key_document_invalid', `key document ${why}`, cause === undefined ? undefined : { cause })

export async function parseKeyDocument(body: Uint8Array | string): Promise<ResolvedKey[]> {
  const entries = readEntries(body)
  for (const entry of entries) {
    for (const m of PRIVATE_MEMBERS) {
      if (Object.hasOwn(entry, m)) throw invalid(`contains a private key member (${m}); the whole document is refused`)
    }
  }
  const keys = new Map<string, ResolvedKey>()
  const skipped: string[] = []
  for (const entry of entries) {
    const outcome = await readKey(entry)
    if (typeof outcome === 'string') skipped.push(outcome)
    else if (!keys.has(outcome.kid)) keys.set(outcome.kid, outcome)
  }
  if (keys.size === 0) throw invalid(`has no usable signing key (${[...new Set(skipped)].join('; ')})`)
  return [...keys.values()]
}

function readEntries(body: Uint8Array | string): Json[] {
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
  } else if (Object.hasOwn(doc, 'kty')) {
    entries = [doc]
  } else {
    throw invalid('must be a JWK Set or a single JWK')
  }
  if (entries.length === 0) throw invalid('has no keys')
  if (entries.length > MAX_KEYS_PER_DOCUMENT) throw invalid(`has more than ${MAX_KEYS_PER_DOCUMENT} keys`)
  if (!entries.every(isObject)) throw invalid('member keys must hold only JWK objects')
  return entries as Json[]
}

/** A usable key, or a string saying why this entry was skipped. Throws for a malformed usable key. */
async function readKey(entry: Json): Promise<ResolvedKey | string> {
  const { kty } = entry
  if (entry.use !== undefined && entry.use !== 'sig') return 'a key has use other than sig'
  if (entry.key_ops !== undefined && !(Array.isArray(entry.key_ops) && entry.key_ops.includes('verify'))) return 'a key has key_ops without verify'
  if (entry.alg !== undefined && typeof entry.alg !== 'string') throw invalid('has a key whose alg is not a string')

  let members: JsonWebKey
  let type: ResolvedKey['kty']
  if (kty === 'EC') {
    type = kty
    if (!EC_CURVES.has(entry.crv as string)) return `EC curve ${describe(entry.crv)} is not supported`
    members = { kty, crv: entry.crv as string, x: str(entry, 'x'), y: str(entry, 'y') }
  } else if (kty === 'OKP') {
    type = kty
    if (!OKP_CURVES.has(entry.crv as string)) return `OKP curve ${describe(entry.crv)} is not supported`
    members = { kty, crv: entry.crv as string, x: str(entry, 'x') }
  } else if (kty === 'RSA') {
    type = kty
    members = { kty, n: str(entry, 'n'), e: str(entry, 'e') }
  } else {
    return `key type ${describe(kty)} is not supported`
  }

  let keyObject: KeyObject
  try {
    // Only the public members go in: nothing else in the entry reaches OpenSSL.
    keyObject = createPublicKey({ key: members, format: 'jwk' })
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

  // The thumbprint is taken over OpenSSL's own export of the key, so a
  // document cannot pick a kid with a non-canonical spelling of the members.
  // Only what verification needs is kept: the public members that imported
  // cleanly, ~0.5 KB of heap per cached key (docs/benchmarks.md, "Key cache memory").
  const kid = await calculateJwkThumbprint(keyObject.export({ format: 'jwk' }) as JWK, 'sha256')
  const alg = entry.alg as string | undefined
  return Object.freeze({
    kid,
    keyObject,
    jwk: Object.freeze(members),
    kty: type,
    ...(members.crv === undefined ? {} : { crv: members.crv }),
    ...(alg === undefined ? {} : { alg }),
  })
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
