// The DPoP baseline: the minimal resource server a user would hand-roll
// instead of the gateway. oauth4webapi's validateJwtAccessToken (RFC 9068
// token + RFC 9449 proof: signature, typ, iss, aud, exp, cnf.jkt, htm, htu,
// ath, iat) on every request, then http-proxy-3 to the upstream, with the
// same keep-alive agent as bare http-proxy-3 (http-proxy.ts). Nothing else:
// no nonce, no jti replay store, no ACL, no identity headers, no access log.
// The issuer's key set is static (read from a file at start and handed to
// oauth4webapi through customFetch; oauth4webapi caches it for 5 minutes),
// as the gateway's pinned `jwksFile` is.
// argv: <upstream origin> <issuer> <JWK Set file> <audience = public origin>

import http from 'node:http'
import { readFileSync } from 'node:fs'
import type { AddressInfo } from 'node:net'
import { createProxyServer } from 'http-proxy-3'
import * as oauth from 'oauth4webapi'
import { serveChild } from '../lib/child-main.js'

serveChild(async ([target, issuer, jwksFile, audience]) => {
  const jwks = readFileSync(jwksFile!, 'utf8')
  const as: oauth.AuthorizationServer = { issuer: issuer!, jwks_uri: `${issuer}/jwks` }
  const options: oauth.ValidateJWTAccessTokenOptions = {
    requireDPoP: true,
    signingAlgorithms: ['ES256'],
    [oauth.customFetch]: async () => new Response(jwks, { headers: { 'content-type': 'application/json' } }),
  }
  const agent = new http.Agent({ keepAlive: true, maxSockets: 64 })
  const proxy = createProxyServer({ target, agent, xfwd: false })
  proxy.on('error', (_err, _req, res) => {
    if (res instanceof http.ServerResponse && !res.headersSent) { res.writeHead(502); res.end() }
  })
  const server = http.createServer((req, res) => {
    // The two headers validateJwtAccessToken reads; the URL as the client signed it (htu).
    const headers = new Headers()
    if (req.headers.authorization !== undefined) headers.set('authorization', req.headers.authorization)
    const dpop = req.headers.dpop
    if (typeof dpop === 'string') headers.set('dpop', dpop)
    const request = new Request(audience + req.url!, { method: req.method, headers })
    oauth.validateJwtAccessToken(as, request, audience!, options).then(
      // The client may have gone while the token was being checked (wrk closes its
      // connections at the end of a round); proxying then would pipe the upstream's
      // answer into a closed socket and never free the agent's socket.
      () => { if (!res.destroyed && !req.socket.destroyed) proxy.web(req, res) },
      (err: unknown) => {
        res.writeHead(401, { 'content-type': 'text/plain', 'www-authenticate': 'DPoP error="invalid_token"' })
        res.end(String((err as Error).message ?? err))
      },
    )
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => { agent.destroy(); r() }) }),
  }
})
