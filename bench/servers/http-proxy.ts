// Case 2: bare http-proxy-3, the baseline the proof-path targets are set
// against. Keep-alive agent sized like the gateway's pool (64).
// argv: <upstream origin>

import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { createProxyServer } from 'http-proxy-3'
import { serveChild } from '../lib/child-main.js'

serveChild(async ([target]) => {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 64 })
  const proxy = createProxyServer({ target, agent, xfwd: false })
  proxy.on('error', (_err, _req, res) => {
    if (res instanceof http.ServerResponse && !res.headersSent) { res.writeHead(502); res.end() }
  })
  const server = http.createServer((req, res) => proxy.web(req, res))
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => { agent.destroy(); r() }) }),
  }
})
