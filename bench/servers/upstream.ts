// Case 1 and everyone's backend: a minimal node:http server answering every
// request with a small fixed body. Its own process, like a real upstream.

import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { serveChild } from '../lib/child-main.js'

const BODY = Buffer.from('upstream ok\n')

serveChild(async () => {
  const server = http.createServer((req, res) => {
    // Drain any request body so keep-alive works; the bench only sends GETs.
    req.resume()
    res.writeHead(200, { 'content-type': 'text/plain', 'content-length': BODY.length })
    res.end(BODY)
  })
  server.keepAliveTimeout = 65_000 // outlive the proxies' idle pools, so no connection dies mid-run
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()) }),
  }
})
