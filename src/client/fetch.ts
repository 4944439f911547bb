// A fetch-compatible function that speaks DomainPoP: it answers challenges,
// caches nonces per origin, takes fresh DomainPoP-Nonce headers, retries
// once on use_nonce, and signs every request with a new proof. With a
// `channelBinding` (client/channel-binding.ts) every request goes on that
// connection and its proof carries the connection's `cb` (PROTOCOL.md §5).
// With `session: 'ticket'` (PROTOCOL.md §4) a proof also carries `epk`; once the
// gateway answers with a ticket, requests carry the ticket and an HS256
// session proof instead, a ticket near its expiry is renewed with a full
// proof, and a refused ticket is dropped and the request sent again with
// a full proof.

import { parseChallenges } from '../http/auth-header.js'
import { signDomainPopProof } from './proof.js'
import { lazyClientKey, replayableBody, type ClientKey, type ClientAlgorithm } from './keys.js'
import { acceptTicket, createTicketJar, newPendingTicket, presentTicket, sendWithTicket } from './session.js'
import type { SessionCurve } from '../proofs/session-key.js'
import type { KeyObject } from 'node:crypto'
import type { ChannelBinding } from './channel-binding.js'
import { createIssuerFetch, createIssuerSymmetricFetch } from './issuer.js'

export interface DomainPopFetchOptions {
  readonly identity: string
  readonly keyUrl: string
  /** A KeyObject, a loaded ClientKey, or a path to a private JWK file. */
  readonly privateKey: KeyObject | ClientKey | string
  readonly alg?: ClientAlgorithm
  /** The gateway's publicOrigin when it differs from the URL's origin (e.g. behind a port-forward). */
  readonly audience?: string
  /** Underlying fetch (default: globalThis.fetch). Ignored with `channelBinding`, whose connection every request must use. */
  readonly fetch?: typeof fetch
  /** Bind every proof to this TLS 1.3 connection (RFC 9266): `cb` in the proof, the request on that connection. */
  readonly channelBinding?: ChannelBinding
  /** `ticket`: negotiate a session ticket and use HMAC proofs after the first request (default `none`: a proof per request). */
  readonly session?: 'ticket' | 'none'
  /** The ECDH curve of the ticket's ephemeral key (default P-256). */
  readonly sessionCurve?: SessionCurve
  /** The clock tickets are renewed by (tests). */
  readonly now?: () => number
}

export type DomainPopFetch = (input: string | URL, init?: RequestInit) => Promise<Response>

/**
 * `createDomainPopFetch({ issuer })`: the token comes from the identity domain's issuer first
 * (client/issuer.ts). `keyType: 'symmetric'` (PROTOCOL.md §4): a `cnf.jwe` token and HS256 proofs,
 * no key of the caller's own; `'jwk'` (default, PROTOCOL.md §3): a `cnf.jwk` token binding `privateKey`,
 * presented with DPoP proofs.
 */
export interface DomainIssuerFetchOptions {
  readonly issuer: {
    /** The domain's issuer: its https origin, no path. */
    readonly origin: string
    /** What its token endpoint takes from the domain's own services (`Authorization: Bearer …`). */
    readonly credential: string
    readonly keyType?: 'symmetric' | 'jwk'
    readonly sub?: string
    readonly scope?: string
  }
  /** `keyType: 'jwk'` only: the proof key the token binds. */
  readonly privateKey?: KeyObject | ClientKey | string
  readonly alg?: ClientAlgorithm
  readonly audience?: string
  readonly fetch?: typeof fetch
}

/** Reads the nonce a response offers: DomainPoP-Nonce, else the DomainPoP challenge's nonce param. */
export function nonceFromResponse(res: Response): string | undefined {
  const direct = res.headers.get('domainpop-nonce')
  if (direct) return direct
  const challenge = domainPopChallenge(res)
  return challenge?.params.nonce
}

export function domainPopChallenge(res: Response) {
  const www = res.headers.get('www-authenticate')
  if (!www) return undefined
  try {
    return parseChallenges(www).find((c) => c.scheme.toLowerCase() === 'domainpop')
  } catch {
    return undefined
  }
}

export function createDomainPopFetch(options: DomainPopFetchOptions | DomainIssuerFetchOptions): DomainPopFetch {
  if ('issuer' in options) return issuerFetch(options)
  const opts = options
  const binding = opts.channelBinding
  const baseFetch = binding !== undefined ? boundFetch(binding) : opts.fetch ?? globalThis.fetch
  const nonces = new Map<string, string>() // origin → last nonce
  const key = lazyClientKey(opts.privateKey, opts.alg)
  const now = opts.now ?? Date.now
  const tickets = opts.session === 'ticket' ? createTicketJar({ now }) : undefined

  return async function domainPopFetch(input, init = {}) {
    const url = new URL(String(input))
    const audience = opts.audience ?? url.origin
    const method = (init.method ?? 'GET').toUpperCase()
    const k = await key()
    const attempt = async (mayUseTicket: boolean): Promise<{ res: Response; usedTicket: boolean }> => {
      const headers = new Headers(init.headers)
      const ticket = mayUseTicket ? tickets?.usable(audience) : undefined
      const nonce = nonces.get(audience)
      let pending: ReturnType<typeof newPendingTicket> | undefined
      if (ticket) presentTicket(headers, ticket, { method, htu: audience + url.pathname })
      else if (nonce) {
        pending = tickets ? newPendingTicket(opts.sessionCurve) : undefined
        // The exporter of the connection this request will go on (opened now if there is none).
        const cb = binding !== undefined ? await binding.exporter() : undefined
        const extraClaims = pending || cb ? { ...(pending ? { epk: pending.epk } : {}), ...(cb ? { cb } : {}) } : undefined
        headers.set('authorization', 'DomainPoP ' + signDomainPopProof(k, { identity: opts.identity, keyUrl: opts.keyUrl, audience, method, path: url.pathname, nonce, extraClaims }))
      }
      const res = await baseFetch(url, { ...init, method, headers })
      const fresh = nonceFromResponse(res)
      if (fresh) nonces.set(audience, fresh)
      if (pending && nonce && res.ok) {
        const t = acceptTicket(res, pending, { nonce, aud: audience, kid: k.kid }, now())
        if (t) tickets!.set(audience, t)
      }
      return { res, usedTicket: ticket !== undefined }
    }
    const { res: first, final } = await sendWithTicket(attempt, () => tickets?.drop(audience), replayableBody(init.body))
    if (final) return first
    if (first.status !== 401) return first
    const challenge = domainPopChallenge(first)
    // Retry once: when we sent no proof yet (bare challenge), or the gateway says use_nonce.
    if (!challenge || (challenge.params.error !== undefined && challenge.params.error !== 'use_nonce')) return first
    await first.body?.cancel()
    return (await attempt(false)).res
  }
}

function issuerFetch(o: DomainIssuerFetchOptions): DomainPopFetch {
  const common = { issuer: o.issuer.origin, credential: o.issuer.credential, sub: o.issuer.sub, scope: o.issuer.scope, audience: o.audience, fetch: o.fetch }
  if (o.issuer.keyType === 'symmetric') return createIssuerSymmetricFetch(common)
  if (o.privateKey === undefined) throw new TypeError('createDomainPopFetch({ issuer }): a cnf.jwk token needs privateKey (or use issuer.keyType: "symmetric")')
  return createIssuerFetch({ ...common, privateKey: o.privateKey, alg: o.alg })
}

/** fetch on the binding's one connection (undici's fetch: the global one takes no dispatcher from another undici copy). */
function boundFetch(binding: ChannelBinding): typeof fetch {
  let undiciFetch: typeof import('undici').fetch | undefined
  return (async (input: string | URL | Request, init?: RequestInit) => {
    undiciFetch ??= (await import('undici')).fetch
    return undiciFetch(input as string, { ...(init as object), dispatcher: binding.dispatcher } as Parameters<typeof undiciFetch>[1])
  }) as unknown as typeof fetch
}
