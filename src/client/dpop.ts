// A fetch-compatible function that presents a DPoP-bound access token
// (RFC 9449, PROTOCOL.md §3): `Authorization: DPoP <token>` and a fresh
// `DPoP` proof per request (with `ath`, and the server's nonce once it has
// given one), signed with the key the token is bound to. It keeps the last
// `DPoP-Nonce` per origin and retries once on `use_dpop_nonce`.
// The token itself comes from the identity domain's authorization server.

import { createHash, randomBytes, type KeyObject } from 'node:crypto'
import { parseChallenges } from '../http/auth-header.js'
import { signRaw } from './proof.js'
import { lazyClientKey, replayableBody, type ClientKey, type ClientAlgorithm } from './keys.js'

export interface DpopProofInput {
  readonly method: string
  /** The request URL as the server sees it; query and fragment are dropped (RFC 9449 §4.2). */
  readonly htu: string
  /** Adds `ath` (required when a token is presented). */
  readonly accessToken?: string
  readonly nonce?: string
  readonly iatSec?: number
  readonly jti?: string
}

const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url')

/** A DPoP proof JWT: `typ: dpop+jwt` with the public key in `jwk`. */
export function signDpopProof(key: ClientKey, input: DpopProofInput): string {
  const header = { typ: 'dpop+jwt', alg: key.alg, jwk: key.publicJwk }
  const claims: Record<string, unknown> = {
    jti: input.jti ?? randomBytes(16).toString('base64url'),
    htm: input.method,
    htu: input.htu.split(/[?#]/)[0],
    iat: input.iatSec ?? Math.floor(Date.now() / 1000),
    ...(input.accessToken !== undefined ? { ath: createHash('sha256').update(input.accessToken).digest('base64url') } : {}),
    ...(input.nonce !== undefined ? { nonce: input.nonce } : {}),
  }
  const signingInput = `${b64(header)}.${b64(claims)}`
  return `${signingInput}.${signRaw(key, signingInput).toString('base64url')}`
}

export interface DpopFetchOptions {
  /** The DPoP-bound access token (a JWT bound to this key by `cnf.jkt` or `cnf.jwk`), or a function that returns the current one for an audience (renewed tokens: client/issuer.ts). */
  readonly accessToken: string | ((audience: string) => string | Promise<string>)
  /** The proof key: a KeyObject, a loaded ClientKey, or a path to a private JWK file. */
  readonly privateKey: KeyObject | ClientKey | string
  readonly alg?: ClientAlgorithm
  /** The gateway's publicOrigin when it differs from the URL's origin (the origin of `htu`). */
  readonly audience?: string
  /** Underlying fetch (default: globalThis.fetch). */
  readonly fetch?: typeof fetch
}

export type DpopFetch = (input: string | URL, init?: RequestInit) => Promise<Response>

/** The DPoP challenge's `error`, if the response has a DPoP challenge. */
function dpopError(res: Response): string | undefined {
  const www = res.headers.get('www-authenticate')
  if (!www) return undefined
  try {
    return parseChallenges(www).find((c) => c.scheme.toLowerCase() === 'dpop')?.params.error
  } catch {
    return undefined
  }
}

export function createDpopFetch(opts: DpopFetchOptions): DpopFetch {
  const baseFetch = opts.fetch ?? globalThis.fetch
  const nonces = new Map<string, string>() // origin → last DPoP-Nonce
  const key = lazyClientKey(opts.privateKey, opts.alg)

  return async function dpopFetch(input, init = {}) {
    const url = new URL(String(input))
    const origin = opts.audience ?? url.origin
    const method = (init.method ?? 'GET').toUpperCase()
    const k = await key()
    const token = typeof opts.accessToken === 'string' ? opts.accessToken : await opts.accessToken(origin)
    const attempt = async (): Promise<Response> => {
      const headers = new Headers(init.headers)
      headers.set('authorization', `DPoP ${token}`)
      headers.set('dpop', signDpopProof(k, { method, htu: origin + url.pathname, accessToken: token, nonce: nonces.get(origin) }))
      const res = await baseFetch(url, { ...init, method, headers })
      const fresh = res.headers.get('dpop-nonce')
      if (fresh) nonces.set(origin, fresh)
      return res
    }
    const first = await attempt()
    // RFC 9449 §9: retry once with the nonce the server just gave.
    if (first.status !== 401 || !replayableBody(init.body) || dpopError(first) !== 'use_dpop_nonce' || !first.headers.get('dpop-nonce')) return first
    await first.body?.cancel()
    return attempt()
  }
}
