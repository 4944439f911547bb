// A client of an identity domain's reference issuer (src/keyhost/issuer.ts;
// issue 24): the caller's service asks its own domain for a short-lived token
// binding its public key (`cnf.jwk`, RFC 7800 §3.2), then calls the gateway
// with that token and a DPoP proof per request (RFC 9449; client/dpop.ts).
// The token is renewed shortly before it expires, one per gateway origin.

import type { KeyObject } from 'node:crypto'
import type { JWK } from 'jose'
import { createDpopFetch, type DpopFetch } from './dpop.js'
import { lazyClientKey, replayableBody, type ClientAlgorithm, type ClientKey } from './keys.js'
import { signSessionProof } from '../proofs/session-proof.js'

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
  const body = await postTokenRequest(r, { jwk: r.publicJwk })
  return { accessToken: body.accessToken, expiresAtMs: body.expiresAtMs }
}

/** What `key_type: symmetric` returns: a token with `cnf.jwe` and the 32-byte key inside it (PROTOCOL.md §4). */
export interface IssuedSymmetricToken extends IssuedToken { readonly key: Buffer }

/** Asks the domain's issuer for a `cnf.jwe` token for the gateway `audience`, and the key it holds (RFC 7800 §3.3). */
export async function requestSymmetricIssuerToken(r: Omit<IssuerTokenRequest, 'publicJwk'>): Promise<IssuedSymmetricToken> {
  const body = await postTokenRequest(r, { key_type: 'symmetric' })
  const k = (body.raw.key as { kty?: unknown; k?: unknown } | undefined)
  if (k?.kty !== 'oct' || typeof k.k !== 'string' || !/^[A-Za-z0-9_-]{43}$/.test(k.k)) throw new IssuerError(`${r.issuer}: the symmetric token answer has no 256-bit oct key`)
  return { accessToken: body.accessToken, expiresAtMs: body.expiresAtMs, key: Buffer.from(k.k, 'base64url') }
}

async function postTokenRequest(r: Omit<IssuerTokenRequest, 'publicJwk'>, what: Record<string, unknown>): Promise<IssuedToken & { raw: Record<string, unknown> }> {
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
    body: JSON.stringify({ ...what, aud: r.audience, ...(r.sub ? { sub: r.sub } : {}), ...(r.scope ? { scope: r.scope } : {}) }),
  })
  const body = await res.json().catch(() => ({})) as { access_token?: unknown; expires_in?: unknown; error?: unknown; error_description?: unknown }
  if (res.status !== 200 || typeof body.access_token !== 'string' || typeof body.expires_in !== 'number') {
    throw new IssuerError(`${endpoint.href}: ${res.status} ${String(body.error_description ?? body.error ?? 'no token')}`)
  }
  return { accessToken: body.access_token, expiresAtMs: started + body.expires_in * 1000, raw: body as Record<string, unknown> }
}

/** The current token per audience, renewed `renewBeforeMs` before expiry; one request in flight per audience. */
function renewingTokens<T extends IssuedToken>(request: (audience: string) => Promise<T>, renewBeforeMs: number) {
  const tokens = new Map<string, Promise<T>>()
  return {
    async current(audience: string): Promise<T> {
      const held = tokens.get(audience)
      const got = held && (await held.catch(() => undefined))
      if (got && got.expiresAtMs - renewBeforeMs > Date.now()) return got
      // The first caller to find the token stale starts the renewal, the others share it.
      let next = tokens.get(audience)
      if (next === held || next === undefined) {
        next = request(audience)
        tokens.set(audience, next)
        const started = next
        started.catch(() => { if (tokens.get(audience) === started) tokens.delete(audience) })
      }
      return next!
    },
    /** Forget the token of `audience` (the gateway refused it): the next call asks the issuer again. */
    drop(audience: string): void {
      tokens.delete(audience)
    },
  }
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
  const tokens = renewingTokens((audience) => key().then((k) => requestIssuerToken({ ...opts, publicJwk: k.publicJwk, audience })), opts.renewBeforeMs ?? 30_000)
  const tokenFor = async (audience: string): Promise<string> => (await tokens.current(audience)).accessToken
  return createDpopFetch({ accessToken: tokenFor, privateKey: opts.privateKey, alg: opts.alg, audience: opts.audience, fetch: opts.fetch })
}

export type IssuerSymmetricFetchOptions = Omit<IssuerFetchOptions, 'privateKey' | 'alg'>

/**
 * A fetch that gets (and renews) a `cnf.jwe` token and its key from the domain's issuer (`key_type: symmetric`),
 * then presents it as `Authorization: DomainPoP-Session <token>` with an HS256 `DomainPoP-Proof` per request
 * (PROTOCOL.md §4): no asymmetric work per request on either side. A token the gateway refuses
 * (`invalid_token`: expired, or encrypted to a key it has rotated out) is dropped and the request sent once
 * more with a new one.
 */
export function createIssuerSymmetricFetch(opts: IssuerSymmetricFetchOptions): DpopFetch {
  const baseFetch = opts.fetch ?? globalThis.fetch
  const tokens = renewingTokens((audience) => requestSymmetricIssuerToken({ ...opts, audience }), opts.renewBeforeMs ?? 30_000)
  const body = (init: RequestInit) => replayableBody(init.body)
  return async function issuerSymmetricFetch(input, init = {}) {
    const url = new URL(String(input))
    const audience = opts.audience ?? url.origin
    const method = (init.method ?? 'GET').toUpperCase()
    const replayable = body(init)
    const send = async (): Promise<{ res: Response }> => {
      const token = await tokens.current(audience)
      const headers = new Headers(init.headers)
      headers.set('authorization', `DomainPoP-Session ${token.accessToken}`)
      headers.set('domainpop-proof', signSessionProof(token.key, { htm: method, htu: audience + url.pathname, ticket: token.accessToken }))
      return { res: await baseFetch(url, { ...init, method, headers }) }
    }
    const first = await send()
    if (first.res.status !== 401 || !replayable || !/error="?invalid_token/.test(first.res.headers.get('www-authenticate') ?? '')) return first.res
    await first.res.body?.cancel()
    tokens.drop(audience)
    return (await send()).res
  }
}
