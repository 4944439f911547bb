// popgate's browser client (docs/browser.md), shipped as an ES module
// (`dist/browser/popgate.js`) for a plain <script type="module">:
//
//   import { createBrowserClient } from '/popgate/popgate.js'
//   const client = await createBrowserClient({ identity: 'alice.example', publishKey: async (publicJwk) => keyUrl })
//   const res = await client.fetch('https://bob.example/api', { method: 'POST', body })
//
// The page runs on the identity's own origin (a secure context). The client
// finds its key in IndexedDB or makes one (non-extractable), has the page
// publish the public half through the domain's key host (`publishKey`), then
// speaks DomainPoP (PROTOCOL.md §1–2): answers the 401 challenge, caches
// nonces per gateway, takes fresh DomainPoP-Nonce headers, retries once on
// use_nonce. With `session: 'ticket'` (the default) the first proof carries
// `epk` and later requests ride on the ticket with HS256 proofs (§4); with
// `session: 'cookie'` the proof carries `ses: "cookie"` and the request is
// sent with credentials, so the gateway's `__Host-popgate` cookie is kept.

import { b64urlJson, randomId } from './encoding.js'
import { domainPopChallenge, nonceOf } from './challenge.js'
import { createKey, indexedDbKeyStore, signWith, type BrowserAlgorithm, type KeyStore, type PublicJwk, type StoredKey } from './keys.js'
import { acceptTicket, newPendingTicket, presentTicket, type PendingTicket, type Ticket } from './session.js'

export { indexedDbKeyStore, memoryKeyStore, thumbprint, type BrowserAlgorithm, type KeyStore, type PublicJwk, type StoredKey } from './keys.js'
export { parseChallenges, type Challenge } from './challenge.js'

export type SessionMode = 'ticket' | 'cookie' | 'none'
/** How a request was authenticated: a proof, a ticket, the session cookie alone, or nothing yet. */
export type Via = 'proof' | 'ticket' | 'cookie' | 'none'

/** What the client does, step by step (the example page draws these). */
export type BrowserClientEvent =
  | { readonly type: 'key'; readonly created: boolean; readonly kid: string; readonly alg: BrowserAlgorithm }
  | { readonly type: 'published'; readonly keyUrl: string; readonly publicJwk: PublicJwk }
  | { readonly type: 'challenge'; readonly url: string; readonly nonce: string | undefined; readonly error: string | undefined }
  | { readonly type: 'proof'; readonly method: string; readonly url: string; readonly jti: string; readonly asks: 'ticket' | 'cookie' | undefined }
  | { readonly type: 'ticket'; readonly expiresInSec: number }
  | { readonly type: 'ticket-used'; readonly method: string; readonly url: string }
  | { readonly type: 'ticket-refused'; readonly status: number }
  | { readonly type: 'response'; readonly method: string; readonly url: string; readonly status: number; readonly via: Via }

export interface BrowserClientOptions {
  /** The identity the page speaks for: its own origin's host, e.g. `alice.example`. */
  readonly identity: string
  /** Publishes the public JWK on the domain's key host and returns its key URL (see `keyHostPublisher`). Called once per key. */
  readonly publishKey: (publicJwk: PublicJwk) => Promise<string>
  /** `ES256` (default) or `Ed25519` where the browser has it (else ES256). */
  readonly algorithm?: BrowserAlgorithm
  /** `ticket` (default), `cookie`, or `none` (a proof on every request). */
  readonly session?: SessionMode
  /** The gateway's publicOrigin when it differs from the URL's origin. */
  readonly audience?: string
  /** Where the key is kept (default: IndexedDB). */
  readonly store?: KeyStore
  /** The underlying fetch (default: globalThis.fetch). */
  readonly fetch?: typeof fetch
  readonly onEvent?: (event: BrowserClientEvent) => void
  /** The clock (tests). */
  readonly now?: () => number
}

export interface BrowserClient {
  readonly identity: string
  /** The key's RFC 7638 thumbprint. */
  readonly kid: string
  readonly alg: BrowserAlgorithm
  readonly keyUrl: string
  /** Whether the key was made by this call (false: found in the store, e.g. after a reload). */
  readonly keyCreated: boolean
  fetch(input: string | URL, init?: RequestInit): Promise<Response>
  /** Forgets the key (the next createBrowserClient makes and publishes a new one) and every ticket. */
  forget(): Promise<void>
}

/**
 * A `publishKey` for popgate's reference key host (docs/keyhost.md):
 * POST `<origin><prefix>keys` with the public JWK; the answer's `keyUrl`.
 * `authorization`: what the key host wants of the domain's user (its
 * bearer token); the request is same-origin or CORS with credentials.
 */
export function keyHostPublisher(opts: { readonly origin?: string; readonly pathPrefix?: string; readonly authorization?: string; readonly fetch?: typeof fetch } = {}): (jwk: PublicJwk) => Promise<string> {
  return async (jwk) => {
    const url = `${opts.origin ?? location.origin}${opts.pathPrefix ?? '/.well-known/domainpop/'}keys`
    const headers: Record<string, string> = { 'content-type': 'application/json' }
    if (opts.authorization !== undefined) headers.authorization = opts.authorization
    const res = await (opts.fetch ?? fetch)(url, { method: 'POST', headers, body: JSON.stringify(jwk), credentials: 'include' })
    if (res.status !== 201) throw new Error(`the key host refused the key: ${res.status} ${await res.text()}`)
    const { keyUrl } = await res.json() as { keyUrl?: unknown }
    if (typeof keyUrl !== 'string') throw new Error('the key host answered without a keyUrl')
    return keyUrl
  }
}

const replayable = (body: RequestInit['body']): boolean =>
  body == null || typeof body === 'string' || body instanceof URLSearchParams || body instanceof ArrayBuffer
  || ArrayBuffer.isView(body) || body instanceof Blob || body instanceof FormData

export async function createBrowserClient(opts: BrowserClientOptions): Promise<BrowserClient> {
  if (typeof crypto === 'undefined' || crypto.subtle === undefined) throw new Error('WebCrypto is not available: the page must be a secure context (https, or http://localhost)')
  const now = opts.now ?? Date.now
  const emit = (e: BrowserClientEvent) => { try { opts.onEvent?.(e) } catch { /* the page's listener */ } }
  const store = opts.store ?? indexedDbKeyStore()
  const mode = opts.session ?? 'ticket'
  const baseFetch = opts.fetch ?? globalThis.fetch.bind(globalThis)

  let key: StoredKey | undefined = await store.get(opts.identity)
  const created = key === undefined
  if (key === undefined) {
    key = await createKey(opts.identity, opts.algorithm ?? 'ES256', now())
    await store.put(key)
  }
  emit({ type: 'key', created, kid: key.kid, alg: key.alg })
  if (key.keyUrl === undefined) {
    const keyUrl = await opts.publishKey(key.publicJwk)
    key = { ...key, keyUrl }
    await store.put(key)
    emit({ type: 'published', keyUrl, publicJwk: key.publicJwk })
  }
  const k = key as StoredKey & { keyUrl: string }

  const nonces = new Map<string, string>() // audience → last nonce
  const tickets = new Map<string, Ticket>() // audience → ticket
  const cookies = new Set<string>() // audiences that set our session cookie (the browser holds it, HttpOnly)

  const usableTicket = (aud: string): Ticket | undefined => {
    const t = tickets.get(aud)
    if (t !== undefined && now() >= t.renewAtMs) { tickets.delete(aud); return undefined }
    return t
  }

  async function signProof(aud: string, method: string, path: string, nonce: string, extra: Record<string, unknown>): Promise<{ jws: string; jti: string }> {
    const jti = randomId()
    const header = { typ: 'domainpop+jwt', alg: k.alg, jku: k.keyUrl, kid: k.kid }
    const claims = { iss: opts.identity, aud, htm: method, htu: aud + path, iat: Math.floor(now() / 1000), jti, nonce, ...extra }
    const signingInput = `${b64urlJson(header)}.${b64urlJson(claims)}`
    return { jws: `${signingInput}.${await signWith(k, signingInput)}`, jti }
  }

  async function clientFetch(input: string | URL, init: RequestInit = {}): Promise<Response> {
    const url = new URL(String(input), typeof location !== 'undefined' ? location.href : undefined)
    const aud = opts.audience ?? url.origin
    const method = (init.method ?? 'GET').toUpperCase()
    const htu = aud + url.pathname

    const attempt = async (mayUseSession: boolean): Promise<{ res: Response; via: Via }> => {
      const headers = new Headers(init.headers)
      const ticket = mayUseSession && mode === 'ticket' ? usableTicket(aud) : undefined
      const nonce = nonces.get(aud)
      let pending: PendingTicket | undefined
      let via: Via = 'none'
      if (mayUseSession && mode === 'cookie' && cookies.has(aud)) {
        via = 'cookie' // no Authorization: the browser sends the cookie
      } else if (ticket !== undefined) {
        await presentTicket(headers, ticket, { method, htu, nowMs: now() })
        via = 'ticket'
        emit({ type: 'ticket-used', method, url: url.href })
      } else if (nonce !== undefined) {
        pending = mode === 'ticket' ? await newPendingTicket() : undefined
        const extra = pending ? { epk: pending.epk } : mode === 'cookie' ? { ses: 'cookie' } : {}
        const p = await signProof(aud, method, url.pathname, nonce, extra)
        headers.set('authorization', `DomainPoP ${p.jws}`)
        via = 'proof'
        emit({ type: 'proof', method, url: url.href, jti: p.jti, asks: mode === 'none' ? undefined : mode })
      }
      // A cookie session lives in the browser's jar: only then is the request credentialed.
      const res = await baseFetch(url.href, { ...init, method, headers, credentials: mode === 'cookie' ? 'include' : init.credentials ?? 'same-origin' })
      const fresh = nonceOf(res)
      if (fresh !== undefined) nonces.set(aud, fresh)
      if (pending !== undefined && nonce !== undefined && res.ok) {
        const t = await acceptTicket(res, pending, { nonce, aud, kid: k.kid }, now())
        if (t !== undefined) {
          tickets.set(aud, t)
          emit({ type: 'ticket', expiresInSec: Math.round((t.expiresAtMs - now()) / 1000) })
        }
      }
      if (via === 'proof' && mode === 'cookie' && res.ok && res.headers.get('domainpop-session') === null) cookies.add(aud)
      emit({ type: 'response', method, url: url.href, status: res.status, via })
      return { res, via }
    }

    const canResend = replayable(init.body)
    let { res, via } = await attempt(true)
    if (via === 'ticket' || via === 'cookie') {
      // 401 (expired, revoked, sessions: false) or 400 (unreadable): a proof may fix it; a 403 is the ACL's answer.
      if (res.status !== 401 && res.status !== 400) return res
      tickets.delete(aud)
      cookies.delete(aud)
      emit({ type: 'ticket-refused', status: res.status })
      if (!canResend) return res
      await res.body?.cancel()
      ;({ res, via } = await attempt(false))
    }
    if (res.status !== 401 || !canResend) return res
    const challenge = domainPopChallenge(res)
    const error = challenge?.params.error
    emit({ type: 'challenge', url: url.href, nonce: nonces.get(aud), error })
    // Once: after a bare challenge (no proof was sent yet), or when the gateway says use_nonce.
    if (challenge === undefined || !(via === 'none' || error === 'use_nonce')) return res
    await res.body?.cancel()
    return (await attempt(false)).res
  }

  return {
    identity: opts.identity,
    kid: k.kid,
    alg: k.alg,
    keyUrl: k.keyUrl,
    keyCreated: created,
    fetch: clientFetch,
    async forget() {
      tickets.clear()
      cookies.clear()
      nonces.clear()
      await store.delete(opts.identity)
    },
  }
}
