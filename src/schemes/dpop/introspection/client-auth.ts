// How the gateway authenticates at the introspection endpoint (RFC 7662
// §2.1: the endpoint requires it): client_secret_basic (RFC 6749 §2.3.1) or
// private_key_jwt (RFC 7523 §2.2, OpenID Connect Core §9). The private key is
// read once when the state is built and never leaves the process; each call
// signs a fresh assertion (its own jti, 60 s life).

import { randomBytes, createPrivateKey, type KeyObject } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { SignJWT } from 'jose'
import type { IntrospectionConfig } from './config.js'

/** The form members and the Authorization value one call sends to authenticate. */
export interface ClientCredentials {
  readonly form: ReadonlyArray<readonly [string, string]>
  readonly authorization: string | undefined
}

export type ClientAuthenticator = (nowMs: number) => Promise<ClientCredentials>

const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer'
const ASSERTION_LIFE_SEC = 60

/** RFC 6749 §2.3.1: client_id and secret are form-urlencoded (Appendix B) before base64. */
const formEncode = (s: string): string => new URLSearchParams([['', s]]).toString().slice(1)

export function basicAuthorization(clientId: string, secret: string): string {
  return 'Basic ' + Buffer.from(`${formEncode(clientId)}:${formEncode(secret)}`).toString('base64')
}

/** A private key from a PEM (PKCS#8, SEC1 or PKCS#1) or a private JWK file; throws with a reason a config problem can carry. */
export async function readClientKey(file: string): Promise<KeyObject> {
  const text = (await readFile(file, 'utf8')).trim()
  const key = text.startsWith('{')
    ? createPrivateKey({ key: JSON.parse(text) as import('node:crypto').JsonWebKey, format: 'jwk' })
    : createPrivateKey(text)
  if (key.type !== 'private') throw new Error('is not a private key')
  return key
}

/**
 * The authenticator for `cfg`; `issuer` is the configured issuer identifier
 * (the assertion's `aud`, RFC 7523 §3 point 3); `key` the private key read
 * from `privateKeyJwt.keyFile` (private_key_jwt only).
 */
export function clientAuthenticator(cfg: IntrospectionConfig, issuer: string, key: KeyObject | undefined): ClientAuthenticator {
  const auth = cfg.auth
  if (auth.method === 'client_secret_basic') {
    const value = basicAuthorization(cfg.clientId, auth.clientSecret)
    const creds: ClientCredentials = { form: [], authorization: value }
    return async () => creds
  }
  if (key === undefined) throw new Error('private_key_jwt needs its key')
  return async (nowMs) => {
    const iat = Math.floor(nowMs / 1000)
    const assertion = await new SignJWT({})
      .setProtectedHeader({ alg: auth.alg, typ: 'JWT', ...(auth.kid !== undefined ? { kid: auth.kid } : {}) })
      .setIssuer(cfg.clientId)
      .setSubject(cfg.clientId)
      .setAudience(issuer)
      .setJti(randomBytes(16).toString('base64url'))
      .setIssuedAt(iat)
      .setExpirationTime(iat + ASSERTION_LIFE_SEC)
      .sign(key)
    return { form: [['client_id', cfg.clientId], ['client_assertion_type', ASSERTION_TYPE], ['client_assertion', assertion]], authorization: undefined }
  }
}
