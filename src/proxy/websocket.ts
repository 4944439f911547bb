// WebSocket upgrades: authenticated by the same pipeline as plain requests
// (pipeline/run.ts), then spliced to the upstream by http-proxy-3, which
// handles the upgrade handshake and the socket piping.

import type { IncomingMessage } from 'node:http'
import type { Duplex } from 'node:stream'
import { createProxyServer, type ProxyServer } from 'http-proxy-3'

export interface WsProxy {
  /**
   * Resolves with the upstream's status as soon as it answers: 101 when it
   * switched protocols, anything else when it refused (http-proxy-3 relays
   * that response to the client). Rejects when the upstream could not be
   * reached or failed before answering, after calling `onFailure` with the
   * same error: synchronously, while the socket can still carry an answer
   * (http-proxy-3 closes it right after).
   */
  proxy(req: IncomingMessage, socket: Duplex, head: Buffer, target: URL, headers: string[], path: string, onFailure: (err: Error) => void): Promise<number>
  close(): void
}

/** Where each request's answer is reported: set by proxy(), read by the proxyReqWs hook. */
const answered = new WeakMap<IncomingMessage, (status: number) => void>()

export function createWsProxy(): WsProxy {
  const server: ProxyServer = createProxyServer({ ws: true, xfwd: false, ignorePath: true })
  server.on('proxyReqWs', (proxyReq, req) => {
    const report = answered.get(req)
    if (!report) return
    proxyReq.once('upgrade', () => report(101))
    proxyReq.once('response', (res) => report(res.statusCode ?? 502))
  })
  return {
    proxy(req, socket, head, target, headers, path, onFailure) {
      // http-proxy-3 copies req.headers into the upstream request, so the
      // sanitized list (identity headers stripped, then set) replaces them.
      const obj: Record<string, string> = {}
      for (let i = 0; i < headers.length; i += 2) {
        const k = headers[i]!.toLowerCase()
        obj[k] = obj[k] === undefined ? headers[i + 1]! : `${obj[k]}, ${headers[i + 1]}`
      }
      req.headers = obj
      const url = new URL(target.href)
      url.pathname = (target.pathname === '/' ? '' : target.pathname.replace(/\/$/, '')) + path.split('?')[0]
      url.search = path.includes('?') ? path.slice(path.indexOf('?')) : ''
      return new Promise<number>((resolve, reject) => {
        let settled = false
        answered.set(req, (status) => { settled = true; resolve(status) })
        // Errors after the answer (a socket dying mid-stream) end the connection; nothing is left to report.
        server.ws(req, socket, head, { target: url.href }, (err: Error) => {
          if (settled) return
          settled = true
          onFailure(err)
          reject(err)
        })
      })
    },
    close() { server.close() },
  }
}
