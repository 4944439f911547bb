// Minting DPoP-bound access tokens and DPoP proofs for tests, valid by
// default and each part overridable, with node:crypto only (so a test can
// also sign what no library would: alg none, HS256, a private jwk).

import { createHash, createHmac, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto'
import { calculateJwkThumbprint, type JWK } from 'jose'

export type Json = Record<string, unknown>
export type Alg = 'ES256' | 'RS256' | 'PS256' | 'EdDSA'

export interface SigningKey { readonly alg: Alg; readonly privateKey: KeyObject; readonly jwk: JWK; readonly jkt: string }

export async function newKey(alg: Alg = 'ES256', kid?: string): Promise<SigningKey> {
  const pair = alg === 'ES256' ? generateKeyPairSync('ec', { namedCurve: 'P-256' })
    : alg === 'EdDSA' ? generateKeyPairSync('ed25519')
      : generateKeyPairSync('rsa', { modulusLength: 2048 })
  const jwk = pair.publicKey.export({ format: 'jwk' }) as JWK
  const jkt = await calculateJwkThumbprint(jwk, 'sha256')
  return { alg, privateKey: pair.privateKey, jwk: kid === undefined ? jwk : { ...jwk, kid }, jkt }
}

const b64 = (v: unknown): string => Buffer.from(JSON.stringify(v)).toString('base64url')

export function signJws(key: SigningKey, header: Json, payload: Json): string {
  const input = `${b64(header)}.${b64(payload)}`
  const data = Buffer.from(input)
  const sig = key.alg === 'ES256' ? sign('sha256', data, { key: key.privateKey, dsaEncoding: 'ieee-p1363' })
    : key.alg === 'EdDSA' ? sign(null, data, key.privateKey)
      : key.alg === 'PS256' ? sign('sha256', data, { key: key.privateKey, padding: 6 /* RSA_PKCS1_PSS_PADDING */, saltLength: 32 })
        : sign('sha256', data, key.privateKey)
  return `${input}.${sig.toString('base64url')}`
}

/** An unsigned (`alg: none`) or HMAC-signed token: what an attacker would try. */
export function forgedJws(alg: 'none' | 'HS256', header: Json, payload: Json, secret = 'secret'): string {
  const input = `${b64({ ...header, alg })}.${b64(payload)}`
  return alg === 'none' ? `${input}.` : `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`
}

export interface TokenInput {
  readonly issuer: string
  readonly audience: string
  readonly client: SigningKey
  readonly nowSec: number
  readonly header?: Json
  readonly claims?: Json
}

export function tokenClaims(i: TokenInput): Json {
  return {
    iss: i.issuer, sub: 'svc-a', client_id: 'svc-a', aud: i.audience, scope: 'api:read',
    iat: i.nowSec, exp: i.nowSec + 300, jti: randomBytes(12).toString('base64url'), cnf: { jkt: i.client.jkt }, ...i.claims,
  }
}

export function mintToken(issuerKey: SigningKey, i: TokenInput): string {
  const header = { alg: issuerKey.alg, typ: 'at+jwt', ...(issuerKey.jwk.kid ? { kid: issuerKey.jwk.kid } : {}), ...i.header }
  return signJws(issuerKey, header, Object.fromEntries(Object.entries(tokenClaims(i)).filter(([, v]) => v !== undefined)))
}

export interface ProofInput {
  readonly token: string
  readonly htm: string
  readonly htu: string
  readonly nowSec: number
  readonly nonce?: string
  readonly header?: Json
  readonly claims?: Json
}

export const athOf = (token: string): string => createHash('sha256').update(token).digest('base64url')

export function mintProof(client: SigningKey, p: ProofInput): string {
  const { kid: _kid, ...publicJwk } = client.jwk
  const header = { typ: 'dpop+jwt', alg: client.alg, jwk: publicJwk, ...p.header }
  const claims = { jti: randomBytes(16).toString('base64url'), htm: p.htm, htu: p.htu, iat: p.nowSec, ath: athOf(p.token), ...(p.nonce ? { nonce: p.nonce } : {}), ...p.claims }
  return signJws(client, header, Object.fromEntries(Object.entries(claims).filter(([, v]) => v !== undefined)))
}
