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
   * (http-proxy-3 closes it right after). `responseHeaders` (flat name,
   * value, … list: a fresh nonce, a ticket, a Set-Cookie) are added to the
   * 101 the client gets.
   */
  proxy(req: IncomingMessage, socket: Duplex, head: Buffer, target: URL, headers: string[], path: string, onFailure: (err: Error) => void, responseHeaders?: readonly string[]): Promise<number>
  close(): void
}

/** Where each request's answer is reported, and the fields its 101 gets: set by proxy(), read by the proxyReqWs hook. */
const answered = new WeakMap<IncomingMessage, { report(status: number): void; readonly fields: readonly string[] | undefined }>()

export function createWsProxy(): WsProxy {
  const server: ProxyServer = createProxyServer({ ws: true, xfwd: false, ignorePath: true })
  server.on('proxyReqWs', (proxyReq, req) => {
    const entry = answered.get(req)
    if (!entry) return
    // Runs before http-proxy-3's own 'upgrade' listener writes the 101 head from proxyRes.headers.
    proxyReq.once('upgrade', (proxyRes: IncomingMessage) => {
      if (entry.fields !== undefined) addFields(proxyRes.headers, entry.fields)
      entry.report(101)
    })
    proxyReq.once('response', (res) => entry.report(res.statusCode ?? 502))
  })
  return {
    proxy(req, socket, head, target, headers, path, onFailure, responseHeaders) {
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
        answered.set(req, { report: (status) => { settled = true; resolve(status) }, fields: responseHeaders })
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

/** Adds flat [name, value, …] fields to a parsed head; a second value of one name makes a list (Set-Cookie stays one line each). */
function addFields(headers: IncomingMessage['headers'], fields: readonly string[]): void {
  for (let i = 0; i + 1 < fields.length; i += 2) {
    const k = fields[i]!.toLowerCase()
    const v = fields[i + 1]!
    const old = headers[k]
    headers[k] = old === undefined ? (k === 'set-cookie' ? [v] : v) : Array.isArray(old) ? [...old, v] : [old, v]
  }
}
