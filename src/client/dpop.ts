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
import { acceptTicket, createTicketJar, newPendingTicket, presentTicket, sendWithTicket } from './session.js'
import type { SessionCurve } from '../proofs/session-key.js'

export interface DpopProofInput {
  readonly method: string
  /** The request URL as the server sees it; query and fragment are dropped (RFC 9449 §4.2). */
  readonly htu: string
  /** Adds `ath` (required when a token is presented). */
  readonly accessToken?: string
  readonly nonce?: string
  readonly iatSec?: number
  readonly jti?: string
  /** More claims (`epk` to ask for a session ticket, PROTOCOL.md §4). */
  readonly extraClaims?: Readonly<Record<string, unknown>>
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
    ...input.extraClaims,
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
  /**
   * `ticket`: the DPoP proof also carries `epk`; once the gateway answers with a ticket, requests carry
   * `Authorization: DomainPoP-Session` and an HS256 session proof instead of the token (PROTOCOL.md §4). Default `none`.
   */
  readonly session?: 'ticket' | 'none'
  readonly sessionCurve?: SessionCurve
  /** The clock tickets are renewed by (tests). */
  readonly now?: () => number
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
  const now = opts.now ?? Date.now
  const tickets = opts.session === 'ticket' ? createTicketJar({ now }) : undefined

  return async function dpopFetch(input, init = {}) {
    const url = new URL(String(input))
    const origin = opts.audience ?? url.origin
    const method = (init.method ?? 'GET').toUpperCase()
    const k = await key()
    const token = typeof opts.accessToken === 'string' ? opts.accessToken : await opts.accessToken(origin)
    const attempt = async (mayUseTicket: boolean): Promise<{ res: Response; usedTicket: boolean }> => {
      const headers = new Headers(init.headers)
      const ticket = mayUseTicket ? tickets?.usable(origin) : undefined
      const nonce = nonces.get(origin)
      const pending = !ticket && tickets ? newPendingTicket(opts.sessionCurve) : undefined
      if (ticket) presentTicket(headers, ticket, { method, htu: origin + url.pathname })
      else {
        headers.set('authorization', `DPoP ${token}`)
        headers.set('dpop', signDpopProof(k, { method, htu: origin + url.pathname, accessToken: token, nonce, extraClaims: pending ? { epk: pending.epk } : undefined }))
      }
      const res = await baseFetch(url, { ...init, method, headers })
      const fresh = res.headers.get('dpop-nonce')
      if (fresh) nonces.set(origin, fresh)
      // HKDF inputs for a DPoP proof (docs/protocol.md §4): its nonce (or ""), the gateway's origin, the thumbprint of its jwk.
      if (pending && res.ok) {
        const t = acceptTicket(res, pending, { nonce: nonce ?? '', aud: origin, kid: k.kid }, now())
        if (t) tickets!.set(origin, t)
      }
      return { res, usedTicket: ticket !== undefined }
    }
    const { res: first, final } = await sendWithTicket(attempt, () => tickets?.drop(origin), replayableBody(init.body))
    if (final) return first
    // RFC 9449 §9: retry once with the nonce the server just gave.
    if (first.status !== 401 || dpopError(first) !== 'use_dpop_nonce' || !first.headers.get('dpop-nonce')) return first
    await first.body?.cancel()
    return (await attempt(false)).res
  }
}
