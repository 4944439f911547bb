// Plain-HTTP forwarding on undici's Pool, the faster of the two tools on this
// machine (bench/: undici Pool vs http-proxy-3). Uses the low-level
// `dispatch` API so bodies stream both ways with backpressure and no
// buffering, and no per-request object copies beyond the header list.
// WebSocket upgrades go through http-proxy-3 instead (src/proxy/websocket.ts).

import type { IncomingMessage, ServerResponse } from 'node:http'
import { Pool, type Dispatcher } from 'undici'
import { GatewayError } from '../errors.js'
import { connectionTokens, isHopByHop } from './headers.js'
import { isUpstreamCorsField } from '../http/cors.js'
import type { Config } from '../config/types.js'

export interface Upstream {
  readonly origin: string
  /** Path prefix of the upstream URL without trailing slash ('' when none). */
  readonly basePath: string
  readonly pool: Pool
}

export function createUpstream(cfg: Pick<Config, 'upstream' | 'timeouts' | 'limits'>): Upstream {
  const u = cfg.upstream
  const pool = new Pool(u.origin, {
    connections: cfg.limits.upstreamConnections,
    pipelining: 1,
    connectTimeout: cfg.timeouts.upstreamConnectMs,
    headersTimeout: cfg.timeouts.upstreamHeadersMs,
    bodyTimeout: cfg.timeouts.upstreamBodyMs,
    keepAliveTimeout: 4_000,
  })
  return { origin: u.origin, basePath: u.pathname === '/' ? '' : u.pathname.replace(/\/$/, ''), pool }
}

const TIMEOUT_CODES = new Set(['UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT'])

export function upstreamError(err: Error & { code?: string }): GatewayError {
  if (err.code && TIMEOUT_CODES.has(err.code)) return new GatewayError('upstream_timeout', 'the upstream did not answer in time', { cause: err })
  return new GatewayError('upstream_unavailable', 'the upstream could not be reached', { cause: err })
}

/**
 * Why the upstream failed, for the warn line: `cause` the error code as
 * Node or undici gave it (ECONNREFUSED, ECONNRESET, UND_ERR_SOCKET,
 * UND_ERR_HEADERS_TIMEOUT, …), `kind` one of refused, reset, timeout, other.
 */
export function upstreamCause(err: unknown): { readonly cause: string; readonly kind: 'refused' | 'reset' | 'timeout' | 'other' } {
  const e = err as { code?: unknown; cause?: { code?: unknown }; errors?: { code?: unknown }[] } | undefined
  // A connect to several addresses fails as an AggregateError whose members carry the code.
  const raw = e?.code ?? e?.cause?.code ?? e?.errors?.[0]?.code
  const cause = typeof raw === 'string' ? raw : (err as Error | undefined)?.name ?? 'unknown'
  const kind = cause === 'ECONNREFUSED' ? 'refused'
    : cause === 'ECONNRESET' || cause === 'UND_ERR_SOCKET' || cause === 'EPIPE' ? 'reset'
      : TIMEOUT_CODES.has(cause) || cause === 'ETIMEDOUT' ? 'timeout' : 'other'
  return { cause, kind }
}

/** Copies the upstream response head onto `res`, minus hop-by-hop fields (and the upstream's CORS fields when the gateway answers CORS: `ownCors`). */
function writeHead(res: ServerResponse, status: number, headers: Record<string, string | string[] | undefined>, extra: readonly string[], ownCors: boolean): void {
  const connTokens = connectionTokens(headers.connection)
  // One flat [name, value, …] list handed to writeHead: no per-header
  // setHeader bookkeeping (measured: ~6 % of the public route's time).
  const flat: string[] = []
  for (const name in headers) {
    // The gateway's X-Request-Id goes back (in `extra`), not a second one from the upstream.
    if (isHopByHop(name, connTokens) || name === 'x-request-id') continue
    // http/cors.ts: one CORS answer, the gateway's, not a second from the upstream.
    if (ownCors && isUpstreamCorsField(name)) continue
    const v = headers[name]
    if (v === undefined) continue
    if (typeof v === 'string') flat.push(name, v)
    else for (const one of v) flat.push(name, one)
  }
  for (let i = 0; i < extra.length; i++) flat.push(extra[i]!)
  res.writeHead(status, flat)
}

export interface ForwardResult {
  readonly upstreamStatus: number | undefined
  /** The upstream failed after the response had started (the client's connection was cut). */
  readonly failure?: GatewayError
}

/**
 * Streams `req` to the upstream and the answer back to `res`. Resolves when
 * the exchange is over (finished, failed or aborted by the client); rejects
 * with a GatewayError only while nothing has been sent to the client yet.
 * `extraResponseHeaders` is a flat [name, value, …] list (e.g. a fresh nonce).
 * `requestBody`: the stream (the request has one: http/request-facts.ts
 * hasBody), a buffer a scheme already read, or none.
 * `ownCors`: the gateway answers CORS here (its fields are in `extraResponseHeaders`); the upstream's are dropped.
 */
export function forward(req: IncomingMessage, res: ServerResponse, upstream: Upstream, path: string, headers: string[], extraResponseHeaders: readonly string[] = [], requestBody: Uint8Array | 'stream' | undefined = undefined, ownCors = false): Promise<ForwardResult> {
  return new Promise((resolve, reject) => {
    let controller: Dispatcher.DispatchController | undefined
    let status: number | undefined
    let settled = false
    let clientGone = false
    const done = (err?: GatewayError) => {
      if (settled) return
      settled = true
      res.off('close', onClientClose)
      // The request 'close' listener stays: undici may still be sending the body.
      if (err && !res.headersSent) reject(err)
      else if (err) {
        res.destroy(err)
        // Aborted because the client left: the upstream did not fail, nothing to report.
        resolve(clientGone ? { upstreamStatus: status } : { upstreamStatus: status, failure: err })
      } else {
        resolve({ upstreamStatus: status })
      }
    }
    // Client went away before we finished: abort the upstream exchange.
    const abort = () => {
      clientGone = true
      controller?.abort(new Error('client closed the connection'))
    }
    const onClientClose = () => { if (!res.writableFinished) abort() }
    res.on('close', onClientClose)
    const body = requestBody === 'stream' ? req : requestBody ?? null
    // The request body ended early (client closed mid-upload): undici would
    // otherwise wait for the rest of it forever, even after the response.
    // Without a streamed body there is nothing to wait for, and no listener to pay for.
    if (body === req) req.on('close', () => { if (!req.complete) abort() })

    const handler: Dispatcher.DispatchHandler = {
      onRequestStart(c) {
        controller = c
        if (clientGone) c.abort(new Error('client closed the connection'))
      },
      onResponseStart(c, statusCode, responseHeaders) {
        if (statusCode < 200) return // 1xx: let Node handle its own
        status = statusCode
        writeHead(res, statusCode, responseHeaders as Record<string, string | string[] | undefined>, extraResponseHeaders, ownCors)
      },
      onResponseData(c, chunk) {
        if (res.destroyed) { abort(); return }
        // Backpressure: pause the upstream until the client drains (listener added only when needed).
        if (!res.write(chunk)) {
          c.pause()
          res.once('drain', () => c.resume())
        }
      },
      onResponseEnd() {
        res.end()
        done()
      },
      onResponseError(_c, err) {
        done(res.destroyed && status === undefined ? undefined : upstreamError(err as Error & { code?: string }))
      },
    }
    // The client may have left while we were authenticating: then its
    // 'close' has already fired and nothing would ever resume a paused body.
    if (res.destroyed || req.socket.destroyed) {
      done()
      return
    }
    try {
      upstream.pool.dispatch({ origin: upstream.origin, method: req.method as Dispatcher.HttpMethod, path: upstream.basePath + path, headers, body }, handler)
    } catch (err) {
      done(upstreamError(err as Error))
    }
  })
}
