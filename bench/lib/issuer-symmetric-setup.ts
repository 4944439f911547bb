// The issuer-symmetric case's stand-ins (issue 24, PROTOCOL.md §4): a static
// issuer for alice.test (one ES256 key, a JWK Set file the gateway pins under
// `dpop.issuers`, so nothing is fetched under load), the gateway's encryption
// key (written into its secrets file's `encryption` list), and one token with
// `cnf.jwe` sealed to that key, valid for a day, plus the symmetric key the
// client signs its HS256 proofs with.

import { createPublicKey, generateKeyPairSync, randomBytes, sign } from 'node:crypto'
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { sealCnfJwe } from '../../src/proofs/cnf-jwe.js'
import { signSessionProof } from '../../src/proofs/session-proof.js'
import { IDENTITY } from './gateway-setup.js'

export interface IssuerSymmetricFixture {
  readonly issuer: string
  readonly jwksFile: string
  /** The gateway's `encryption` secret: an EC P-256 private JWK with its kid. */
  readonly encryptionJwk: Record<string, unknown>
  /** Sent as `Authorization: DomainPoP-Session <token>`. */
  readonly token: string
  readonly key: Buffer
}

const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url')

export async function makeIssuerSymmetricFixture(dir: string, audience: string): Promise<IssuerSymmetricFixture> {
  await mkdir(dir, { recursive: true })
  const issuer = `https://${IDENTITY}`
  const signer = generateKeyPairSync('ec', { namedCurve: 'P-256' })
  const kid = 'bench-issuer-1'
  const jwksFile = join(dir, 'jwks.json')
  await writeFile(jwksFile, JSON.stringify({ keys: [{ ...(signer.publicKey.export({ format: 'jwk' }) as object), kid, alg: 'ES256', use: 'sig' }] }))
  const enc = generateKeyPairSync('ec', { namedCurve: 'P-256' })
  const encryptionJwk = { kid: 'e1', ...(enc.privateKey.export({ format: 'jwk' }) as object) }
  const key = randomBytes(32)
  const jti = randomBytes(12).toString('base64url')
  const now = Math.floor(Date.now() / 1000)
  const jwe = sealCnfJwe(key, { kid: 'e1', publicKey: createPublicKey(enc.privateKey) }, { iss: issuer, jti })
  const claims = { iss: issuer, sub: 'svc-a', aud: audience, iat: now, exp: now + 86_400, jti, cnf: { jwe } }
  const input = `${b64({ alg: 'ES256', typ: 'at+jwt', kid })}.${b64(claims)}`
  const token = `${input}.${sign('sha256', Buffer.from(input), { key: signer.privateKey, dsaEncoding: 'ieee-p1363' }).toString('base64url')}`
  return { issuer, jwksFile, encryptionJwk, token, key }
}

/** `count` HS256 proofs (unique jti) for GET `htu`, under the token's key. */
export function issuerSymmetricProofs(f: IssuerSymmetricFixture, htu: string, count: number): string[] {
  const iatSec = Math.floor(Date.now() / 1000)
  return Array.from({ length: count }, () => signSessionProof(f.key, { htm: 'GET', htu, ticket: f.token, iatSec }))
}
