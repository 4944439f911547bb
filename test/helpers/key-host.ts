// A programmable HTTPS key host on 127.0.0.1:0 for tests of the key fetcher.
// Each test installs routes; a route can answer well or misbehave on purpose
// (hang, trickle, flood, redirect, wrong type). The host records every TCP
// connection and every request so tests can prove that something was *not*
// fetched.

import { createServer, type Server } from 'node:https'
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http'
import { generateKeyPairSync, type KeyObject } from 'node:crypto'
import { calculateJwkThumbprint, type JWK } from 'jose'
import type { KeysConfig } from '../../src/keys/index.js'
import { tlsFixtures } from './tls-fixtures.js'

export type Route = (req: IncomingMessage, res: ServerResponse) => void

export interface SeenRequest {
  readonly method: string
  readonly path: string
  readonly host: string | undefined
  readonly headers: IncomingHttpHeaders
}

export interface KeyHost {
  readonly port: number
  /** `https://<host>:<port><path>` */
  url(host: string, path: string): string
  route(path: string, handler: Route): void
  readonly requests: readonly SeenRequest[]
  /** Requests seen, optionally only for one path. */
  count(path?: string): number
  /** TCP connections accepted (before TLS). */
  readonly connections: number
  close(): Promise<void>
}

export async function startKeyHost(): Promise<KeyHost> {
  const routes = new Map<string, Route>()
  const requests: SeenRequest[] = []
  let connections = 0
  const server: Server = createServer({ key: tlsFixtures.keyPem, cert: tlsFixtures.certPem }, (req, res) => {
    const path = req.url ?? ''
    requests.push({ method: req.method ?? '', path, host: req.headers.host, headers: req.headers })
    const route = routes.get(path)
    if (route) route(req, res)
    else res.writeHead(404, { 'content-type': 'text/plain' }).end('no such route')
  })
  server.on('connection', () => { connections++ })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  if (address === null || typeof address === 'string') throw new Error('no port')
  const port = address.port
  return {
    port,
    url: (host, path) => `https://${host}:${port}${path}`,
    route: (path, handler) => { routes.set(path, handler) },
    requests,
    count: (path) => (path === undefined ? requests.length : requests.filter((r) => r.path === path).length),
    get connections() { return connections },
    async close() {
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}

// ---- routes -------------------------------------------------------------

export interface JsonOptions {
  readonly status?: number
  readonly contentType?: string | null
  readonly headers?: Readonly<Record<string, string>>
}

/** Answer with a JSON body (an object is serialized; a string is sent as is). */
export function json(body: unknown, opts: JsonOptions = {}): Route {
  const text = typeof body === 'string' ? body : JSON.stringify(body)
  return (_req, res) => {
    const headers: Record<string, string> = { ...opts.headers }
    const type = opts.contentType === undefined ? 'application/jwk-set+json' : opts.contentType
    if (type !== null) headers['content-type'] = type
    headers['content-length'] = String(Buffer.byteLength(text))
    res.writeHead(opts.status ?? 200, headers).end(text)
  }
}

/** Never answer (the connection is dropped when the host closes). */
export const never = (): Route => () => {}

/** Send the head and part of the body, then go quiet. */
export function stall(firstBytes = '{"keys":['): Route {
  return (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' })
    res.write(firstBytes)
  }
}

export function redirect(location: string, status = 302): Route {
  return (_req, res) => { res.writeHead(status, { location, 'content-type': 'application/json' }).end('{}') }
}

export interface Flood { readonly route: Route; readonly bytesSent: () => number; readonly aborted: () => boolean }

/** A body of `totalBytes` of JSON-ish filler, with or without Content-Length (chunked). Records whether the client hung up early. */
export function flood(totalBytes: number, withContentLength: boolean): Flood {
  let sent = 0
  let aborted = false
  const chunk = Buffer.alloc(16 * 1024, 0x20)
  const route: Route = (_req, res) => {
    const headers: Record<string, string> = { 'content-type': 'application/json' }
    if (withContentLength) headers['content-length'] = String(totalBytes)
    res.writeHead(200, headers)
    res.on('close', () => { if (!res.writableFinished) aborted = true })
    const pump = (): void => {
      while (sent < totalBytes && !res.destroyed) {
        const n = Math.min(chunk.length, totalBytes - sent)
        sent += n
        if (!res.write(n === chunk.length ? chunk : chunk.subarray(0, n))) return void res.once('drain', pump)
      }
      if (!res.destroyed) res.end()
    }
    pump()
  }
  return { route, bytesSent: () => sent, aborted: () => aborted }
}

export interface Gate { readonly route: Route; readonly waiting: () => number; release(): void }

/** Hold every request until release(), then answer each with `then`. */
export function gate(then: Route): Gate {
  const held: Array<() => void> = []
  let open = false
  return {
    route: (req, res) => {
      if (open) return then(req, res)
      held.push(() => then(req, res))
    },
    waiting: () => held.length,
    release() {
      open = true
      for (const go of held.splice(0)) go()
    },
  }
}

// ---- keys and config ----------------------------------------------------

export interface TestKey { readonly jwk: JWK; readonly kid: string; readonly privateKey: KeyObject }

export async function newSigningKey(): Promise<TestKey> {
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' })
  const jwk = publicKey.export({ format: 'jwk' }) as JWK
  return { jwk, kid: await calculateJwkThumbprint(jwk, 'sha256'), privateKey }
}

export const KEY_PATH = '/.well-known/domainpop/keys/1'

/** A KeysConfig for tests: loopback allowed, test CA trusted, test hosts mapped to 127.0.0.1. */
export function keysConfig(overrides: Partial<KeysConfig> = {}): KeysConfig {
  return {
    pathPrefix: '/.well-known/domainpop/',
    allowHttp: [],
    allowPrivateAddresses: true,
    allowPorts: 'any',
    resolve: { 'alice.test': '127.0.0.1', 'bob.test': '127.0.0.1', 'evil.test': '127.0.0.1' },
    caFile: tlsFixtures.caFile,
    timeoutMs: 3_000,
    maxBytes: 64 * 1024,
    cacheMinTtlMs: 60_000,
    cacheMaxTtlMs: 3_600_000,
    negativeTtlMs: 10_000,
    refetchCooldownMs: 30_000,
    cacheMaxEntries: 1_000,
    cacheMaxBytes: 32 * 1024 * 1024,
    maxUrlsPerIdentity: 8,
    maxBytesPerIdentity: 256 * 1024,
    hotKeys: 1_000,
    maxInFlightPerDomain: 4,
    maxInFlight: 64,
    ...overrides,
  }
}
