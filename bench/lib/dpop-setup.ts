// The DPoP cases' authorization-server stand-in, in the bench process: a
// static issuer (one ES256 key, written as a JWK Set file that the gateway
// pins with `dpop.issuers.<issuer>.jwksFile` and the oauth4webapi resource
// server reads at start) and one DPoP-bound access token (RFC 9068 JWT,
// `cnf.jkt` = the client key's thumbprint, valid for a day). Both sides use
// a static key, so neither fetches anything while under load.

import { generateKeyPairSync, randomBytes, sign } from 'node:crypto'
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { generateClientKey, type ClientKey } from '../../src/client/keys.js'
import { IDENTITY } from './gateway-setup.js'

/** The token's `iss`: its host is the identity the ACL is asked about (alice.test). */
export const DPOP_ISSUER = `https://${IDENTITY}`

export interface DpopFixture {
  readonly issuer: string
  readonly jwksFile: string
  /** The access token, sent as `Authorization: DPoP <token>`. */
  readonly token: string
  /** The client key the token is bound to (signs the proofs). */
  readonly client: ClientKey
}

const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url')

export async function makeDpopFixture(dir: string, audience: string): Promise<DpopFixture> {
  await mkdir(dir, { recursive: true })
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' })
  const kid = 'bench-as-1'
  const jwksFile = join(dir, 'jwks.json')
  await writeFile(jwksFile, JSON.stringify({ keys: [{ ...(publicKey.export({ format: 'jwk' }) as object), kid, alg: 'ES256', use: 'sig' }] }))
  const client = await generateClientKey('ES256')
  const now = Math.floor(Date.now() / 1000)
  const claims = {
    iss: DPOP_ISSUER, sub: 'svc-a', client_id: 'svc-a', aud: audience, scope: 'api:read',
    iat: now, exp: now + 86_400, jti: randomBytes(12).toString('base64url'), cnf: { jkt: client.kid },
  }
  const input = `${b64({ alg: 'ES256', typ: 'at+jwt', kid })}.${b64(claims)}`
  const token = `${input}.${sign('sha256', Buffer.from(input), { key: privateKey, dsaEncoding: 'ieee-p1363' }).toString('base64url')}`
  return { issuer: DPOP_ISSUER, jwksFile, token, client }
}
