// A fetch-compatible function that speaks DomainPoP: it answers challenges,
// caches nonces per origin, takes fresh DomainPoP-Nonce headers, retries
// once on use_nonce, and signs every request with a new proof.

import { parseChallenges } from '../http/auth-header.js'
import { signDomainPopProof } from './proof.js'
import { lazyClientKey, replayableBody, type ClientKey, type ClientAlgorithm } from './keys.js'
import type { KeyObject } from 'node:crypto'

export interface DomainPopFetchOptions {
  readonly identity: string
  readonly keyUrl: string
  /** A KeyObject, a loaded ClientKey, or a path to a private JWK file. */
  readonly privateKey: KeyObject | ClientKey | string
  readonly alg?: ClientAlgorithm
  /** The gateway's publicOrigin when it differs from the URL's origin (e.g. behind a port-forward). */
  readonly audience?: string
  /** Underlying fetch (default: globalThis.fetch). */
  readonly fetch?: typeof fetch
}

export type DomainPopFetch = (input: string | URL, init?: RequestInit) => Promise<Response>

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

export function createDomainPopFetch(opts: DomainPopFetchOptions): DomainPopFetch {
  const baseFetch = opts.fetch ?? globalThis.fetch
  const nonces = new Map<string, string>() // origin → last nonce
  const key = lazyClientKey(opts.privateKey, opts.alg)

  return async function domainPopFetch(input, init = {}) {
    const url = new URL(String(input))
    const audience = opts.audience ?? url.origin
    const method = (init.method ?? 'GET').toUpperCase()
    const k = await key()
    const attempt = async (): Promise<Response> => {
      const headers = new Headers(init.headers)
      const nonce = nonces.get(audience)
      if (nonce) headers.set('authorization', 'DomainPoP ' + signDomainPopProof(k, { identity: opts.identity, keyUrl: opts.keyUrl, audience, method, path: url.pathname, nonce }))
      const res = await baseFetch(url, { ...init, method, headers })
      const fresh = nonceFromResponse(res)
      if (fresh) nonces.set(audience, fresh)
      return res
    }
    const first = await attempt()
    if (first.status !== 401 || !replayableBody(init.body)) return first
    const challenge = domainPopChallenge(first)
    // Retry once: when we sent no proof yet (bare challenge), or the gateway says use_nonce.
    if (!challenge || (challenge.params.error !== undefined && challenge.params.error !== 'use_nonce')) return first
    await first.body?.cancel()
    return attempt()
  }
}
