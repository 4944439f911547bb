// The tracing cases' collector: an OTLP/HTTP endpoint on loopback that reads
// each export and answers 200 `{}` without decoding it. Its own process, so
// its CPU is not in the gateway's column.

import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { serveChild } from '../lib/child-main.js'

serveChild(async () => {
  const server = http.createServer((req, res) => {
    req.resume()
    req.on('end', () => { res.writeHead(200, { 'content-type': 'application/json', 'content-length': 2 }); res.end('{}') })
  })
  server.keepAliveTimeout = 65_000
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()) }),
  }
})
