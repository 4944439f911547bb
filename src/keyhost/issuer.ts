// The reference issuer of an identity domain (issue 24; docs/keyhost.md):
// lets a domain without an OAuth server vouch for its callers' keys with a
// short-lived token that binds a public key (RFC 7800 `cnf.jwk`), which any
// gateway with DPoP on accepts together with a DPoP proof by that key
// (RFC 9449), exactly as it accepts a token from an authorization server.
//
//   GET  /.well-known/oauth-authorization-server  RFC 8414 metadata; the issuer is the origin, no path
//   GET  <prefix>issuer/jwks.json                  the issuer's public signing keys (RFC 7517)
//   POST <prefix>issuer/token                      ← {"jwk": public JWK, "aud": gateway origin, "sub"?, "scope"?}
//                                                  from the domain's own authenticated user → {"access_token", "token_type": "DPoP", "expires_in"}
//   POST <prefix>issuer/token                      ← {"key_type": "symmetric", "aud": gateway origin, "sub"?, "scope"?}
//                                                  → {"access_token" (cnf.jwe), "token_type": "DomainPoP-Session", "expires_in",
//                                                     "key": {"kty": "oct", "k": …}}: RFC 7800 §3.3, PROTOCOL.md §4. The issuer
//                                                  fetches the gateway's `use: "enc"` key (gateway-keys.ts), makes a fresh
//                                                  32-byte key, and encrypts it to the gateway only (ECDH-ES+A256KW /
//                                                  A256GCM, with the token's iss and jti replicated in the JWE header,
//                                                  RFC 7519 §5.3, so it cannot be moved into another token)
//
// Signing keys are made in this process, rotate, and never leave it; a
// retired key stays in the JWKS until every token it signed has expired.

import type http from 'node:http'
import { generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto'
import { CompactEncrypt, calculateJwkThumbprint, type JWK } from 'jose'
import { createGatewayKeys, GatewayKeyError, type GatewayKeys } from './gateway-keys.js'
import { CNF_JWE_ALG, CNF_JWE_ENC } from '../secrets/encryption-keys.js'
import { checkPublishableJwk } from './publishable.js'
import { readBody } from './read-body.js'

export interface IssuerOptions {
  /** The issuer identifier and origin of every URL it names: `https://alice.example` (no path: gateways discover path-less issuers only). */
  readonly publicOrigin: string
  /** Decides whether a token request comes from the domain's own authenticated user. */
  readonly authorize: (req: http.IncomingMessage) => boolean | Promise<boolean>
  readonly pathPrefix: string
  /** Token lifetime (default 5 minutes). */
  readonly tokenTtlSec?: number
  /** How long one signing key signs before a new one takes over (default 24 h). */
  readonly rotateEveryMs?: number
  readonly now?: () => number
  /** Gateways' encryption keys for `key_type: symmetric` (default: fetched through a safe fetcher, gateway-keys.ts). */
  readonly gatewayKeys?: GatewayKeys
}

interface SigningKey { readonly kid: string; readonly privateKey: KeyObject; readonly jwk: JWK; readonly createdMs: number }

const SUB = /^[\x21-\x7e]{1,255}$/
const SCOPE = /^[\x21\x23-\x5b\x5d-\x7e]+( [\x21\x23-\x5b\x5d-\x7e]+)*$/ // RFC 6749 §3.3

export interface Issuer {
  /** Answers the request when it is one of the issuer's routes; false otherwise. */
  handle(req: http.IncomingMessage, res: http.ServerResponse, path: string): Promise<boolean>
  /** The public keys served now (for tests and `keyhost` output). */
  publicKeys(): JWK[]
}

export function createIssuer(opts: IssuerOptions): Issuer {
  const now = opts.now ?? Date.now
  const ttlSec = opts.tokenTtlSec ?? 300
  const rotateMs = opts.rotateEveryMs ?? 24 * 3600_000
  const tokenPath = `${opts.pathPrefix}issuer/token`
  const jwksPath = `${opts.pathPrefix}issuer/jwks.json`
  let keys: SigningKey[] = []

  const current = async (): Promise<SigningKey> => {
    const t = now()
    // A key retires after rotateMs and is dropped once its last token has expired.
    keys = keys.filter((k) => t - k.createdMs < rotateMs + ttlSec * 1000)
    const newest = keys.at(-1)
    if (newest && t - newest.createdMs < rotateMs) return newest
    const pair = generateKeyPairSync('ec', { namedCurve: 'P-256' })
    const pub = pair.publicKey.export({ format: 'jwk' }) as JWK
    const kid = await calculateJwkThumbprint(pub, 'sha256')
    const key = { kid, privateKey: pair.privateKey, jwk: { ...pub, kid, alg: 'ES256', use: 'sig' }, createdMs: t }
    keys.push(key)
    return key
  }

  const metadata = () => ({
    issuer: opts.publicOrigin,
    jwks_uri: opts.publicOrigin + jwksPath,
    token_endpoint: opts.publicOrigin + tokenPath,
    token_endpoint_auth_methods_supported: ['bearer'],
    dpop_signing_alg_values_supported: ['ES256', 'EdDSA', 'RS256', 'PS256'],
  })

  let gatewayKeys = opts.gatewayKeys
  const issue = async (body: unknown): Promise<{ status: number; body: unknown }> => {
    if (!body || typeof body !== 'object' || Array.isArray(body)) return invalid('body must be a JSON object')
    const b = body as Record<string, unknown>
    if (b.key_type !== undefined && b.key_type !== 'symmetric') return invalid('key_type, when given, must be "symmetric"')
    if (b.key_type === 'symmetric') return issueSymmetric(b)
    const jwk = checkPublishableJwk(b.jwk)
    if (typeof jwk === 'string') return { status: 400, body: { error: 'invalid_key', error_description: jwk } }
    const aud = audience(b.aud)
    if (aud === undefined) return invalid('aud must be the gateway origin, e.g. https://api.example')
    if (b.sub !== undefined && (typeof b.sub !== 'string' || !SUB.test(b.sub))) return invalid('sub must be 1-255 printable ASCII characters')
    if (b.scope !== undefined && (typeof b.scope !== 'string' || !SCOPE.test(b.scope))) return invalid('scope must be space-separated RFC 6749 scope tokens')
    const key = await current()
    const iat = Math.floor(now() / 1000)
    const { use: _use, alg: _alg, ...bound } = jwk
    const claims = {
      iss: opts.publicOrigin,
      sub: (b.sub as string | undefined) ?? new URL(opts.publicOrigin).hostname,
      aud,
      iat,
      exp: iat + ttlSec,
      jti: randomBytes(16).toString('base64url'),
      ...(b.scope !== undefined ? { scope: b.scope } : {}),
      cnf: { jwk: bound }, // RFC 7800 §3.2
    }
    const token = jws({ alg: 'ES256', typ: 'at+jwt', kid: key.kid }, claims, key.privateKey)
    return { status: 200, body: { access_token: token, token_type: 'DPoP', expires_in: ttlSec } }
  }

  /** RFC 7800 §3.3: a fresh key, encrypted to the named gateway only, and the same key to the caller over this TLS connection. */
  const issueSymmetric = async (b: Record<string, unknown>): Promise<{ status: number; body: unknown }> => {
    if (b.jwk !== undefined) return invalid('key_type symmetric takes no jwk: the issuer makes the key')
    const aud = audience(b.aud)
    if (aud === undefined) return invalid('aud must be the gateway origin, e.g. https://api.example')
    if (b.sub !== undefined && (typeof b.sub !== 'string' || !SUB.test(b.sub))) return invalid('sub must be 1-255 printable ASCII characters')
    if (b.scope !== undefined && (typeof b.scope !== 'string' || !SCOPE.test(b.scope))) return invalid('scope must be space-separated RFC 6749 scope tokens')
    gatewayKeys ??= createGatewayKeys()
    let recipient
    try {
      recipient = await gatewayKeys.encryptionKey(aud)
    } catch (err) {
      const why = err instanceof GatewayKeyError ? err.message : 'the gateway key could not be had'
      return { status: 502, body: { error: 'temporarily_unavailable', error_description: why } }
    }
    const symmetric = randomBytes(32)
    const jti = randomBytes(16).toString('base64url')
    const octJwk = { kty: 'oct', k: symmetric.toString('base64url') }
    const jwe = await new CompactEncrypt(new TextEncoder().encode(JSON.stringify(octJwk)))
      .setProtectedHeader({ alg: CNF_JWE_ALG, enc: CNF_JWE_ENC, kid: recipient.kid, iss: opts.publicOrigin, jti })
      .encrypt(recipient.publicKey)
    const key = await current()
    const iat = Math.floor(now() / 1000)
    const claims = {
      iss: opts.publicOrigin,
      sub: (b.sub as string | undefined) ?? new URL(opts.publicOrigin).hostname,
      aud, iat, exp: iat + ttlSec, jti,
      ...(b.scope !== undefined ? { scope: b.scope } : {}),
      cnf: { jwe },
    }
    const token = jws({ alg: 'ES256', typ: 'at+jwt', kid: key.kid }, claims, key.privateKey)
    return { status: 200, body: { access_token: token, token_type: 'DomainPoP-Session', expires_in: ttlSec, key: octJwk } }
  }

  return {
    publicKeys: () => keys.map((k) => k.jwk),
    async handle(req, res, path) {
      if (req.method === 'GET' && path === '/.well-known/oauth-authorization-server') return send(res, 200, metadata(), 'application/json', 'max-age=300')
      if (req.method === 'GET' && path === jwksPath) {
        await current()
        return send(res, 200, { keys: keys.map((k) => k.jwk) }, 'application/jwk-set+json', 'max-age=300')
      }
      if (path !== tokenPath) return false
      if (req.method !== 'POST') return send(res, 405, { error: 'invalid_request', error_description: 'POST only' }, 'application/json', 'no-store', { allow: 'POST' })
      if (!(await opts.authorize(req))) return send(res, 401, { error: 'invalid_client' }, 'application/json', 'no-store', { 'www-authenticate': 'Bearer' })
      let body: unknown
      try {
        body = JSON.parse(await readBody(req))
      } catch (err) {
        if ((err as Error).message !== 'too large') return send(res, 400, { error: 'invalid_request', error_description: 'body must be JSON' }, 'application/json', 'no-store')
        res.once('finish', () => req.destroy())
        return send(res, 413, { error: 'invalid_request', error_description: 'body too large' }, 'application/json', 'no-store', { connection: 'close' })
      }
      const out = await issue(body)
      // RFC 6749 §5.1: token responses are never cached.
      return send(res, out.status, out.body, 'application/json', 'no-store')
    },
  }
}

const invalid = (description: string) => ({ status: 400, body: { error: 'invalid_request', error_description: description } })

/** An https (or, for loopback tests, http) origin, as the gateway's publicOrigin is written. */
function audience(v: unknown): string | undefined {
  if (typeof v !== 'string' || v.length > 2048) return undefined
  try {
    const u = new URL(v)
    if ((u.protocol !== 'https:' && u.protocol !== 'http:') || u.origin !== v.replace(/\/$/, '')) return undefined
    return u.origin
  } catch {
    return undefined
  }
}

const b64 = (v: unknown): string => Buffer.from(JSON.stringify(v)).toString('base64url')

function jws(header: Record<string, unknown>, payload: Record<string, unknown>, key: KeyObject): string {
  const input = `${b64(header)}.${b64(payload)}`
  return `${input}.${sign('sha256', Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' }).toString('base64url')}`
}

function send(res: http.ServerResponse, status: number, body: unknown, type: string, cache: string, extra: Record<string, string> = {}): true {
  const text = JSON.stringify(body)
  res.writeHead(status, { 'content-type': type, 'cache-control': cache, 'content-length': Buffer.byteLength(text), ...extra })
  res.end(text)
  return true
}
