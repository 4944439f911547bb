// The introspection case's endpoint (RFC 7662), in the bench process: plain
// HTTP on loopback, reached as the issuer's host (alice.test is in
// keys.allowHttp and keys.resolve), answering every POST with an active,
// DPoP-bound answer for the client key. With the gateway's cache warm it is
// asked once per run; `calls` says how often it was.

import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { randomBytes } from 'node:crypto'
import { IDENTITY } from './gateway-setup.js'

export interface IntrospectionEndpoint {
  readonly endpoint: string
  /** An opaque access token (not a JWT): the gateway introspects it. */
  readonly token: string
  readonly calls: () => number
  stop(): Promise<void>
}

export async function startIntrospectionEndpoint(issuer: string, audience: string, jkt: string): Promise<IntrospectionEndpoint> {
  let calls = 0
  const exp = Math.floor(Date.now() / 1000) + 86_400
  const body = JSON.stringify({ active: true, iss: issuer, aud: audience, sub: 'svc-a', client_id: 'svc-a', scope: 'api:read', token_type: 'DPoP', exp, cnf: { jkt } })
  const server = createServer((req, res) => {
    calls++
    req.resume().on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end(body))
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  const port = (server.address() as AddressInfo).port
  return {
    endpoint: `http://${IDENTITY}:${port}/introspect`,
    token: randomBytes(32).toString('base64url'),
    calls: () => calls,
    stop: () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()) }),
  }
}
