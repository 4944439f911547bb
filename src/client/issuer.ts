// A client of an identity domain's reference issuer (src/keyhost/issuer.ts;
// issue 24): the caller's service asks its own domain for a short-lived token
// binding its public key (`cnf.jwk`, RFC 7800 §3.2), then calls the gateway
// with that token and a DPoP proof per request (RFC 9449; client/dpop.ts).
// The token is renewed shortly before it expires, one per gateway origin.

import type { KeyObject } from 'node:crypto'
import type { JWK } from 'jose'
import { createDpopFetch, type DpopFetch } from './dpop.js'
import { lazyClientKey, type ClientAlgorithm, type ClientKey } from './keys.js'

export interface IssuerTokenRequest {
  /** The domain's issuer: its https origin, no path (`https://alice.example`). */
  readonly issuer: string
  /** What the issuer's token endpoint accepts from the domain's own services (`Authorization: Bearer …`). */
  readonly credential: string
  readonly publicJwk: JWK
  /** The gateway's publicOrigin: the token's `aud`. */
  readonly audience: string
  readonly sub?: string
  readonly scope?: string
  readonly fetch?: typeof fetch
}

export interface IssuedToken { readonly accessToken: string; readonly expiresAtMs: number }

export class IssuerError extends Error {
  override readonly name = 'IssuerError'
}

/** RFC 8414 §3 discovery at the origin's root, then the token request. */
export async function requestIssuerToken(r: IssuerTokenRequest): Promise<IssuedToken> {
  const doFetch = r.fetch ?? globalThis.fetch
  const issuer = new URL(r.issuer)
  if (issuer.origin !== r.issuer.replace(/\/$/, '')) throw new IssuerError(`issuer ${r.issuer} must be an origin without a path`)
  const metaRes = await doFetch(`${issuer.origin}/.well-known/oauth-authorization-server`, { redirect: 'error' })
  const meta = await metaRes.json().catch(() => undefined) as { issuer?: unknown; token_endpoint?: unknown } | undefined
  // RFC 8414 §3.3: the metadata must name the issuer it was fetched for.
  if (!metaRes.ok || meta?.issuer !== issuer.origin || typeof meta.token_endpoint !== 'string') {
    throw new IssuerError(`${issuer.origin}: no usable RFC 8414 metadata (status ${metaRes.status})`)
  }
  const endpoint = new URL(meta.token_endpoint)
  if (endpoint.origin !== issuer.origin) throw new IssuerError(`${issuer.origin}: the token endpoint is on another origin (${endpoint.origin})`)
  const started = Date.now()
  const res = await doFetch(endpoint, {
    method: 'POST',
    redirect: 'error',
    headers: { authorization: `Bearer ${r.credential}`, 'content-type': 'application/json' },
    body: JSON.stringify({ jwk: r.publicJwk, aud: r.audience, ...(r.sub ? { sub: r.sub } : {}), ...(r.scope ? { scope: r.scope } : {}) }),
  })
  const body = await res.json().catch(() => ({})) as { access_token?: unknown; expires_in?: unknown; error?: unknown; error_description?: unknown }
  if (res.status !== 200 || typeof body.access_token !== 'string' || typeof body.expires_in !== 'number') {
    throw new IssuerError(`${endpoint.href}: ${res.status} ${String(body.error_description ?? body.error ?? 'no token')}`)
  }
  return { accessToken: body.access_token, expiresAtMs: started + body.expires_in * 1000 }
}

export interface IssuerFetchOptions {
  readonly issuer: string
  readonly credential: string
  /** The proof key, whose public half the token binds. */
  readonly privateKey: KeyObject | ClientKey | string
  readonly alg?: ClientAlgorithm
  /** The gateway's publicOrigin when it differs from the request URL's origin. */
  readonly audience?: string
  readonly sub?: string
  readonly scope?: string
  /** Renew this long before expiry (default 30 s). */
  readonly renewBeforeMs?: number
  readonly fetch?: typeof fetch
}

/** A fetch that gets (and renews) a `cnf.jwk` token from the domain's issuer and presents it with DPoP proofs. */
export function createIssuerFetch(opts: IssuerFetchOptions): DpopFetch {
  const key = lazyClientKey(opts.privateKey, opts.alg)
  const renewBeforeMs = opts.renewBeforeMs ?? 30_000
  const tokens = new Map<string, Promise<IssuedToken>>() // audience → the current token (one request in flight)
  const tokenFor = async (audience: string): Promise<string> => {
    const current = tokens.get(audience)
    const got = current && (await current.catch(() => undefined))
    if (got && got.expiresAtMs - renewBeforeMs > Date.now()) return got.accessToken
    // One renewal per audience at a time: the first caller to find the token stale starts it, the others share it.
    let next = tokens.get(audience)
    if (next === current || next === undefined) {
      next = key().then((k) => requestIssuerToken({ ...opts, publicJwk: k.publicJwk, audience }))
      tokens.set(audience, next)
      const started = next
      started.catch(() => { if (tokens.get(audience) === started) tokens.delete(audience) })
    }
    return (await next!).accessToken
  }
  return createDpopFetch({ accessToken: tokenFor, privateKey: opts.privateKey, alg: opts.alg, audience: opts.audience, fetch: opts.fetch })
}
