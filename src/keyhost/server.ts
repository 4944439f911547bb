// Reference key host for an identity domain (docs/protocol.md; operators: docs/keyhost.md):
//
//   GET    <prefix>keys/<id>   → {"keys":[jwk]}  application/jwk-set+json, Cache-Control: max-age
//   POST   <prefix>keys        ← a public JWK, from the domain's own authenticated user → 201 { keyUrl, kid, expiresAt }
//   DELETE <prefix>keys/<id>   ← authenticated → 204 (revoked)
//   GET    /.well-known/http-message-signatures-directory  (with signaturesDirectory)
//          → every unexpired key as one JWK Set, application/http-message-signatures-directory+json
//          (draft-ietf-webbotauth-httpsig-protocol-01 §5), for agents that sign with HTTP Message Signatures
//
// `<id>` is the key's RFC 7638 thumbprint, so the URL names exactly one key.
// Who may publish is a pluggable check; the reference reads a bearer token
// from a file. Private members and unsupported key types are refused.

import http from 'node:http'
import https from 'node:https'
import { createHash, timingSafeEqual } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { calculateJwkThumbprint } from 'jose'
import type { KeyStore } from './store.js'
import { IDENTITY_KEY_PATH_PREFIX } from '../schemes/index.js'
import { SIGNATURES_DIRECTORY_PATH } from '../proofs/http-signature/agent.js'
import { SIGNATURES_DIRECTORY_MEDIA_TYPE } from '../keys/signature-directory.js'
import type { Issuer } from './issuer.js'
import { checkPublishableJwk } from './publishable.js'
import { readBody } from './read-body.js'

export { checkPublishableJwk }

export interface KeyHostOptions {
  readonly identity: string
  readonly store: KeyStore
  /** Decides whether a POST/DELETE comes from the domain's own authenticated user. */
  readonly authorize: (req: http.IncomingMessage) => boolean | Promise<boolean>
  readonly pathPrefix?: string
  /** Public origin used in returned key URLs, e.g. https://alice.example */
  readonly publicOrigin: string
  readonly keyTtlMs?: number
  readonly cacheMaxAgeSec?: number
  readonly now?: () => number
  /** Told of every change and every refused attempt, for the operator's log (the CLI prints one line each). */
  readonly onEvent?: (event: KeyHostEvent) => void
  /** Also serve the published keys as an HTTP Message Signatures directory (Web Bot Auth). */
  readonly signaturesDirectory?: boolean
  /** Also act as the domain's reference issuer (`cnf.jwk` tokens; keyhost/issuer.ts). */
  readonly issuer?: Issuer
  /**
   * Origins whose pages may publish and revoke keys from a browser (CORS,
   * Fetch Standard §3.2), default `[publicOrigin]`: the domain's own pages,
   * also when the key host listens on another origin than the page (a port,
   * a subdomain). The key documents themselves are fetched by gateways, never
   * by pages, and get no CORS fields.
   */
  readonly corsOrigins?: readonly string[]
}

export { SIGNATURES_DIRECTORY_PATH, SIGNATURES_DIRECTORY_MEDIA_TYPE }

export type KeyHostEvent =
  | { readonly action: 'published'; readonly kid: string; readonly expiresAt: string; readonly client: string | undefined }
  | { readonly action: 'revoked'; readonly kid: string; readonly client: string | undefined }
  | { readonly action: 'refused'; readonly method: string; readonly client: string | undefined }

/** How long a published key is served: 30 days, then it must be published again. */
export const DEFAULT_KEY_TTL_MS = 30 * 24 * 3600_000

/** The reference publish check: `Authorization: Bearer <token>` equal to the token in a file (compared in constant time). */
export function bearerTokenFromFile(file: string): (req: http.IncomingMessage) => boolean {
  const expected = createHash('sha256').update(readFileSync(file, 'utf8').trim()).digest()
  return (req) => {
    const m = /^Bearer ([^\s]+)$/.exec(req.headers.authorization ?? '')
    return !!m && timingSafeEqual(createHash('sha256').update(m[1]!).digest(), expected)
  }
}

export function createKeyHostHandler(opts: KeyHostOptions): http.RequestListener {
  const prefix = (opts.pathPrefix ?? IDENTITY_KEY_PATH_PREFIX) + 'keys'
  const ttlMs = opts.keyTtlMs ?? DEFAULT_KEY_TTL_MS
  const maxAge = opts.cacheMaxAgeSec ?? 300
  const now = opts.now ?? Date.now
  const json = (res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
    const text = JSON.stringify(body)
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers })
    res.end(text)
  }
  const corsOrigins = new Set(opts.corsOrigins ?? [new URL(opts.publicOrigin).origin])
  return (req, res) => {
    void (async () => {
      const path = (req.url ?? '').split('?')[0]!
      const origin = req.headers.origin
      const listed = origin !== undefined && corsOrigins.has(origin)
      const publishing = path === prefix || path.startsWith(prefix + '/')
      if (publishing) {
        res.setHeader('vary', 'Origin')
        if (listed) {
          res.setHeader('access-control-allow-origin', origin)
          res.setHeader('access-control-allow-credentials', 'true')
        }
        if (req.method === 'OPTIONS' && req.headers['access-control-request-method'] !== undefined) {
          // A preflight for publishing (Authorization + JSON): answered for the listed origins only.
          if (!listed) return json(res, 403, { error: 'origin_not_allowed' })
          res.writeHead(204, {
            'access-control-allow-methods': 'POST, DELETE',
            'access-control-allow-headers': 'Authorization, Content-Type',
            'access-control-max-age': '600',
          })
          return res.end()
        }
      }
      if (req.method === 'GET' && path.startsWith(prefix + '/')) {
        const k = await opts.store.get(path.slice(prefix.length + 1))
        if (!k || k.expiresAtMs <= now()) return json(res, 404, { error: 'not_found' })
        const remainingSec = Math.max(0, Math.floor((k.expiresAtMs - now()) / 1000))
        const text = JSON.stringify({ keys: [k.jwk] })
        res.writeHead(200, { 'content-type': 'application/jwk-set+json', 'cache-control': `max-age=${Math.min(maxAge, remainingSec)}`, 'content-length': Buffer.byteLength(text) })
        return res.end(text)
      }
      if (opts.signaturesDirectory && req.method === 'GET' && path === SIGNATURES_DIRECTORY_PATH) {
        const t = now()
        const live = (await opts.store.list()).filter((k) => k.expiresAtMs > t)
        // A key must not be cached past its own expiry.
        const remainingSec = live.length === 0 ? 0 : Math.max(0, Math.floor((Math.min(...live.map((k) => k.expiresAtMs)) - t) / 1000))
        const text = JSON.stringify({ keys: live.map((k) => k.jwk) })
        res.writeHead(200, { 'content-type': SIGNATURES_DIRECTORY_MEDIA_TYPE, 'cache-control': `max-age=${Math.min(maxAge, remainingSec)}`, 'content-length': Buffer.byteLength(text) })
        return res.end(text)
      }
      if ((req.method === 'POST' && path === prefix) || (req.method === 'DELETE' && path.startsWith(prefix + '/'))) {
        const client = req.socket.remoteAddress
        if (!(await opts.authorize(req))) {
          opts.onEvent?.({ action: 'refused', method: req.method, client })
          return json(res, 401, { error: 'unauthorized' }, { 'www-authenticate': 'Bearer' })
        }
        if (req.method === 'DELETE') {
          const kid = path.slice(prefix.length + 1)
          if (!(await opts.store.delete(kid))) return json(res, 404, { error: 'not_found' })
          opts.onEvent?.({ action: 'revoked', kid, client })
          res.writeHead(204)
          return res.end()
        }
        let body: unknown
        try { body = JSON.parse(await readBody(req)) } catch (err) {
          if ((err as Error).message !== 'too large') return json(res, 400, { error: 'invalid_request', error_description: 'body must be JSON' })
          // Answer, then close: the rest of the upload is not read.
          res.once('finish', () => req.destroy())
          return json(res, 413, { error: 'invalid_request', error_description: 'body too large' }, { connection: 'close' })
        }
        const jwk = checkPublishableJwk(body)
        if (typeof jwk === 'string') return json(res, 400, { error: 'invalid_key', error_description: jwk })
        const id = await calculateJwkThumbprint(jwk, 'sha256')
        const expiresAtMs = now() + ttlMs
        await opts.store.put({ id, jwk, expiresAtMs })
        opts.onEvent?.({ action: 'published', kid: id, expiresAt: new Date(expiresAtMs).toISOString(), client })
        return json(res, 201, { keyUrl: `${opts.publicOrigin}${prefix}/${id}`, kid: id, expiresAt: new Date(expiresAtMs).toISOString() })
      }
      if (opts.issuer && (await opts.issuer.handle(req, res, path))) return
      json(res, 404, { error: 'not_found' })
    })().catch(() => { if (!res.headersSent) json(res, 500, { error: 'server_error' }); else res.destroy() })
  }
}

export function createKeyHostServer(opts: KeyHostOptions, tls?: { cert: Buffer; key: Buffer }): http.Server {
  const handler = createKeyHostHandler(opts)
  return tls ? https.createServer({ cert: tls.cert, key: tls.key }, handler) : http.createServer(handler)
}
