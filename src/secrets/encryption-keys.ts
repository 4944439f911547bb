// The gateway's encryption keys (PROTOCOL.md §4, "Issuer-provided symmetric
// key"): the secrets file's `encryption` list of EC P-256 private JWKs,
// newest first. An identity domain's issuer encrypts a token's `cnf.jwe` to
// one of them (JWE `ECDH-ES+A256KW` / `A256GCM`, RFC 7518 §4.6) after reading
// the public halves from `<publicOrigin>/.well-known/popgate/jwks.json`, where
// each is published with `use: "enc"` (RFC 7517 §4.2).
//
//   encryption:
//     - { kid: e2, kty: EC, crv: P-256, x: …, y: …, d: … }
//     - { kid: e1, kty: EC, crv: P-256, x: …, y: …, d: … }
//
// Rotation as for every list: prepend a key (issuers pick the first `use:
// "enc"` key they see), wait one issuer token lifetime, drop the last. A
// `cnf.jwe` whose `kid` is no longer listed is refused (`cnf_jwe_key_unknown`).

import { createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto'
import { joinPath, type Problems, type YNode } from '../config/yaml-source.js'
import { ecThumbprint, readEcPrivateJwk, type KeyPurpose } from './assertion-keys.js'

/** RFC 7518 §4.6: the one key-management algorithm a `cnf.jwe` may use here. */
export const CNF_JWE_ALG = 'ECDH-ES+A256KW'
/** RFC 7518 §5.3: the one content encryption. */
export const CNF_JWE_ENC = 'A256GCM'

export interface PublicEncryptionJwk {
  readonly kty: 'EC'
  readonly crv: 'P-256'
  readonly x: string
  readonly y: string
  readonly kid: string
  readonly alg: typeof CNF_JWE_ALG
  readonly use: 'enc'
}

export interface EncryptionKey {
  readonly kid: string
  readonly privateKey: KeyObject
  readonly publicJwk: PublicEncryptionJwk
}

const ENCRYPTION: KeyPurpose = { alg: CNF_JWE_ALG, use: 'enc', what: `cnf.jwe is ${CNF_JWE_ALG}` }

function toKey(privateKey: KeyObject, kid: string | undefined): EncryptionKey {
  const pub = createPublicKey(privateKey).export({ format: 'jwk' }) as { x: string; y: string }
  const id = kid ?? ecThumbprint(pub.x, pub.y)
  return { kid: id, privateKey, publicJwk: { kty: 'EC', crv: 'P-256', x: pub.x, y: pub.y, kid: id, alg: CNF_JWE_ALG, use: 'enc' } }
}

/** A fresh key (dev secrets, tests). */
export function generateEncryptionKey(kid?: string): EncryptionKey {
  return toKey(generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey, kid)
}

/** The `encryption` list; problems are reported at their items, never with key material. */
export function readEncryptionKeys(node: YNode, path: string, problems: Problems): EncryptionKey[] {
  if (node.kind !== 'seq') { problems.at(node.pos, path, 'must be a list of EC P-256 private JWKs, newest first'); return [] }
  const out: EncryptionKey[] = []
  node.items.forEach((item, i) => {
    const p = joinPath(path, i)
    const read = readEcPrivateJwk(item, p, problems, ENCRYPTION)
    if (!read) return
    const key = toKey(read.privateKey, read.kid)
    if (out.some((k) => k.kid === key.kid)) problems.at(item.pos, p, `duplicate kid ${key.kid}`)
    else out.push(key)
  })
  return out
}
