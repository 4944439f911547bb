// Case 3: the least a Node forwarder can do on undici — a Pool (64
// connections, like the gateway's) and `pool.stream` piping the answer into
// the response. Hop-by-hop fields are dropped both ways, as any correct proxy
// must (RFC 9110 §7.6.1); nothing else.
// argv: <upstream origin>

import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { Pool } from 'undici'
import { serveChild } from '../lib/child-main.js'

const HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade'])
const endToEnd = (h: Record<string, string | string[] | undefined>) => {
  const out: Record<string, string | string[]> = {}
  for (const k in h) if (!HOP.has(k) && h[k] !== undefined) out[k] = h[k]!
  return out
}

serveChild(async ([origin]) => {
  const pool = new Pool(origin!, { connections: 64, pipelining: 1 })
  const server = http.createServer((req, res) => {
    const hasBody = req.headers['content-length'] !== undefined || req.headers['transfer-encoding'] !== undefined
    pool.stream(
      { path: req.url!, method: req.method as 'GET', headers: endToEnd(req.headers), body: hasBody ? req : null },
      ({ statusCode, headers }) => { res.writeHead(statusCode, endToEnd(headers)); return res },
      (err) => { if (err && !res.headersSent) { res.writeHead(502); res.end() } else if (err) res.destroy() },
    )
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => { void pool.close().then(() => r()) }) }),
  }
})
