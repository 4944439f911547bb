// The TLS listener: HTTPS on HTTP/1.1 and, unless `tls.http2.enabled` is
// false, HTTP/2 by ALPN (`h2`, then `http/1.1`) on the same port. Every
// request, h1 or h2, goes to the same handler and so through the same
// pipeline (tls/h2.ts makes an h2 request look like the h1 request it
// stands for). Client certificates are asked for per `tls.clientCertificates`
// with `rejectUnauthorized: false`, so a missing or foreign certificate
// reaches HTTP and is answered (tls/require-cert.ts) or left to the gate.
//
// HTTP/2 limits (RFC 9113 §6.5.2): SETTINGS_MAX_CONCURRENT_STREAMS
// (Node's default is unlimited) and SETTINGS_MAX_HEADER_LIST_SIZE; a
// stream beyond the limit is refused by nghttp2 (RST_STREAM
// REFUSED_STREAM), and a session that keeps opening them is closed
// (ENHANCE_YOUR_CALM after `maxSessionRejectedStreams`). No WebSockets over
// h2 (RFC 8441 is off): clients fall back to HTTP/1.1 for those.

import http from 'node:http'
import http2 from 'node:http2'
import https from 'node:https'
import type { Duplex } from 'node:stream'
import type { TLSSocket } from 'node:tls'
import type { TlsConfig } from '../config/types.js'
import type { TlsMaterial } from './context.js'

export type RequestHandler = (req: http.IncomingMessage | http2.Http2ServerRequest, res: http.ServerResponse | http2.Http2ServerResponse) => void

/** What the drain (http/in-flight.ts) needs of a listener. */
export interface Closable {
  close(cb?: (err?: Error) => void): unknown
  closeAllConnections(): void
  closeIdleConnections(): void
}

export interface TlsListener extends Closable {
  readonly server: https.Server | http2.Http2SecureServer
  /** The h1 server properties the pipeline's limits are set on (server.ts applyServerLimits). */
  readonly h1: http.Server
}

export interface TlsListenerHandlers {
  readonly onRequest: RequestHandler
  readonly onUpgrade: (req: http.IncomingMessage, socket: Duplex, head: Buffer) => void
  readonly onClientError: (err: Error & { code?: string }, socket: Duplex) => void
}

export function createTlsListener(cfg: TlsConfig, material: TlsMaterial, h1Options: http.ServerOptions, h: TlsListenerHandlers, limits: { readonly sessionIdleMs: number; readonly maxHeaderCount: number }): TlsListener {
  const { sessionIdleMs, maxHeaderCount } = limits
  const asks = cfg.clientCertificates !== 'none'
  const tlsOptions = { ...material.options, requestCert: asks, rejectUnauthorized: false }
  if (!cfg.http2.enabled) {
    const server = https.createServer({ ...h1Options, ...tlsOptions }, h.onRequest as http.RequestListener)
    wire(server, h)
    return {
      server, h1: server,
      close: (cb) => server.close(cb),
      closeAllConnections: () => server.closeAllConnections(),
      closeIdleConnections: () => server.closeIdleConnections(),
    }
  }
  const server = http2.createSecureServer({
    ...tlsOptions,
    allowHTTP1: true,
    ALPNProtocols: ['h2', 'http/1.1'],
    settings: { maxConcurrentStreams: cfg.http2.maxConcurrentStreams, maxHeaderListSize: cfg.http2.maxHeaderListBytes, enableConnectProtocol: false },
    // One pair more than limits.maxHeaderCount (with the four pseudo-headers), so an overflow reaches the pipeline's 431.
    maxHeaderListPairs: maxHeaderCount + 5,
  }, h.onRequest)
  // The HTTP/1.1 fallback reads these from the server object, not from the options (Node 20 http2 core).
  const h1 = server as unknown as http.Server & { maxHeaderSize?: number; requireHostHeader?: boolean; joinDuplicateHeaders?: boolean; connectionsCheckingInterval?: number }
  h1.maxHeaderSize = h1Options.maxHeaderSize
  h1.requireHostHeader = h1Options.requireHostHeader ?? true
  h1.joinDuplicateHeaders = h1Options.joinDuplicateHeaders ?? false
  if (h1Options.connectionsCheckingInterval !== undefined) h1.connectionsCheckingInterval = h1Options.connectionsCheckingInterval
  wire(server, h)
  const sessions = new Set<http2.ServerHttp2Session>()
  const sockets = new Set<TLSSocket>()
  server.on('secureConnection', (s: TLSSocket) => { sockets.add(s); s.once('close', () => sockets.delete(s)) })
  server.on('session', (session) => {
    sessions.add(session)
    session.once('close', () => sessions.delete(session))
    // An idle h2 connection is closed like an idle keep-alive one (GOAWAY; open streams finish).
    session.setTimeout(sessionIdleMs, () => session.close())
    session.on('error', () => session.destroy())
  })
  const closeSessions = () => { for (const s of sessions) if (!s.closed) s.close() }
  return {
    server, h1,
    close(cb) {
      server.close(cb)
      closeSessions() // GOAWAY: no new streams, the open ones finish (Node 20's close() sends it too; this does not rely on that)
    },
    closeAllConnections() {
      for (const s of sessions) s.destroy()
      for (const s of sockets) s.destroy()
    },
    closeIdleConnections() {
      closeSessions()
      h1.closeIdleConnections()
    },
  }
}

function wire(server: https.Server | http2.Http2SecureServer, h: TlsListenerHandlers): void {
  server.on('upgrade', h.onUpgrade)
  server.on('clientError', (err: Error, socket: Duplex) => h.onClientError(err, socket))
}
