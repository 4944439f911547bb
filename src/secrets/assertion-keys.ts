// Signing keys for the upstream assertion (PROTOCOL.md §7, proxy/assertion.ts):
// the secrets file's `assertion` list of EC P-256 private JWKs, newest first
// (the first signs; every one is published in the JWKS, so an assertion
// signed just before a rotation still verifies).
//
//   assertion:
//     - { kid: a2, kty: EC, crv: P-256, x: …, y: …, d: … }
//     - { kid: a1, kty: EC, crv: P-256, x: …, y: …, d: … }
//
// `kid` is optional (default: the RFC 7638 thumbprint); `alg: ES256` and
// `use: sig` may be given. The public half must match `d`: a pasted JWK whose
// x/y belong to another key would publish a key that verifies nothing.

import { createECDH, createHash, createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto'
import { joinPath, type Problems, type YNode } from '../config/yaml-source.js'

/** The public JWK published at /.well-known/popgate/jwks.json. */
export interface PublicAssertionJwk {
  readonly kty: 'EC'
  readonly crv: 'P-256'
  readonly x: string
  readonly y: string
  readonly kid: string
  readonly alg: 'ES256'
  readonly use: 'sig'
}

export interface AssertionKey {
  readonly kid: string
  readonly privateKey: KeyObject
  readonly publicJwk: PublicAssertionJwk
}

const FIELDS = ['kid', 'kty', 'crv', 'x', 'y', 'd', 'alg', 'use']
const KID = /^[A-Za-z0-9_-]{1,64}$/
const COORD = /^[A-Za-z0-9_-]{43}$/ // 32 bytes, base64url, no padding

/** RFC 7638 §3.2: the required members of an EC key, in lexical order. */
export function ecThumbprint(x: string, y: string): string {
  return createHash('sha256').update(`{"crv":"P-256","kty":"EC","x":"${x}","y":"${y}"}`).digest('base64url')
}

function toKey(privateKey: KeyObject, kid: string | undefined): AssertionKey {
  const pub = createPublicKey(privateKey).export({ format: 'jwk' }) as { x: string; y: string }
  const id = kid ?? ecThumbprint(pub.x, pub.y)
  return { kid: id, privateKey, publicJwk: { kty: 'EC', crv: 'P-256', x: pub.x, y: pub.y, kid: id, alg: 'ES256', use: 'sig' } }
}

/** A fresh key (dev secrets, tests). */
export function generateAssertionKey(kid?: string): AssertionKey {
  return toKey(generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey, kid)
}

/** What a list's keys are for: the `alg` and `use` they may be given (and are published with). */
export interface KeyPurpose { readonly alg: string; readonly use: string; readonly what: string }
const SIGNING: KeyPurpose = { alg: 'ES256', use: 'sig', what: 'assertions are ES256' }

/** One list item → an EC P-256 private key and its kid, or a message saying what is wrong (never the key material). */
export function readEcPrivateJwk(item: YNode, path: string, problems: Problems, purpose: KeyPurpose): { kid: string | undefined; privateKey: KeyObject } | undefined {
  if (item.kind !== 'map') { problems.at(item.pos, path, 'must be an EC P-256 private JWK { kid, kty: EC, crv: P-256, x, y, d }'); return undefined }
  const v: Record<string, unknown> = {}
  let ok = true
  for (const e of item.entries) {
    if (!FIELDS.includes(e.key)) { problems.at(e.keyPos, joinPath(path, e.key), `unknown key; expected ${FIELDS.join(', ')}`); ok = false; continue }
    v[e.key] = e.value.kind === 'scalar' ? e.value.value : undefined
  }
  const bad = (msg: string) => { problems.at(item.pos, path, msg); ok = false }
  if (v.kty !== 'EC' || v.crv !== 'P-256') bad(`must be kty: EC with crv: P-256 (${purpose.what})`)
  if (v.alg !== undefined && v.alg !== purpose.alg) bad(`alg, when given, must be ${purpose.alg}`)
  if (v.use !== undefined && v.use !== purpose.use) bad(`use, when given, must be ${purpose.use}`)
  if (v.kid !== undefined && (typeof v.kid !== 'string' || !KID.test(v.kid))) bad('kid must be 1-64 characters of A-Z a-z 0-9 _ -')
  for (const c of ['x', 'y', 'd']) if (typeof v[c] !== 'string' || !COORD.test(v[c] as string)) bad(`${c} must be 32 bytes in base64url (43 characters)`)
  if (!ok) return undefined
  let privateKey: KeyObject, point: Buffer
  try {
    // Node keeps the x/y it is given without checking them against d: derive the public point from d.
    const ecdh = createECDH('prime256v1')
    ecdh.setPrivateKey(Buffer.from(v.d as string, 'base64url'))
    point = ecdh.getPublicKey()
    privateKey = createPrivateKey({ key: { kty: 'EC', crv: 'P-256', x: v.x as string, y: v.y as string, d: v.d as string }, format: 'jwk' })
  } catch {
    bad('is not a valid P-256 private key')
    return undefined
  }
  if (point.subarray(1, 33).toString('base64url') !== v.x || point.subarray(33).toString('base64url') !== v.y) { bad('x and y are not the public half of d'); return undefined }
  return { kid: v.kid as string | undefined, privateKey }
}

function readKey(item: YNode, path: string, problems: Problems): AssertionKey | undefined {
  const k = readEcPrivateJwk(item, path, problems, SIGNING)
  return k && toKey(k.privateKey, k.kid)
}

/** The `assertion` list; problems are reported at their items. */
export function readAssertionKeys(node: YNode, path: string, problems: Problems): AssertionKey[] {
  if (node.kind !== 'seq') { problems.at(node.pos, path, 'must be a list of EC P-256 private JWKs, newest first'); return [] }
  const out: AssertionKey[] = []
  node.items.forEach((item, i) => {
    const p = joinPath(path, i)
    const key = readKey(item, p, problems)
    if (!key) return
    if (out.some((k) => k.kid === key.kid)) problems.at(item.pos, p, `duplicate kid ${key.kid}`)
    else out.push(key)
  })
  return out
}
