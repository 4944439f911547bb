// WebSocket upgrades: authenticated by the same pipeline as plain requests
// (pipeline/upgrade.ts), then spliced to the upstream by http-proxy-3, which
// handles the upgrade handshake and the socket piping.

import type { IncomingMessage } from 'node:http'
import type { Duplex } from 'node:stream'
import { createProxyServer, type ProxyServer } from 'http-proxy-3'

export interface WsProxy { proxy(req: IncomingMessage, socket: Duplex, head: Buffer, target: URL, headers: string[], path: string): Promise<void>; close(): void }

export function createWsProxy(): WsProxy {
  const server: ProxyServer = createProxyServer({ ws: true, xfwd: false, ignorePath: true })
  return {
    proxy(req, socket, head, target, headers, path) {
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
      return new Promise((resolve, reject) => {
        server.ws(req, socket, head, { target: url.href }, (err: Error) => reject(err))
        socket.once('close', () => resolve())
      })
    },
    close() { server.close() },
  }
}
