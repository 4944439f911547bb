// Interop (RFC 8705 §3): oidc-provider 8 with its `mTLS` feature
// (certificateBoundAccessTokens) issues a certificate-bound JWT access token
// to a client that called its token endpoint over mutual TLS; the gateway
// accepts that token as `Bearer` over TLS with the same client certificate
// and refuses it with another one or with none. Everything on loopback: the
// AS as https://alice.test:<port> (test CA), the gateway's TLS listener.

import t from 'tap'
import https from 'node:https'
import { join } from 'node:path'
import type { AddressInfo } from 'node:net'
import { X509Certificate, createHash, generateKeyPairSync, randomBytes } from 'node:crypto'
import type { TLSSocket } from 'node:tls'
import Provider from 'oidc-provider'
import { startTestGateway, startUpstream } from '../../helpers/harness.js'
import { keysConfig } from '../../helpers/identity.js'
import { clientCerts, tlsFixtures, TLS_DIR, type ClientPair } from '../../helpers/tls-fixtures.js'
import { h1Request } from '../../helpers/tls-client.js'

const ORIGIN = 'https://gw.test'
const CLIENT_ID = 'svc-mtls'
const CLIENT_SECRET = 'interop-mtls-secret-0123456789abcdef'

/** oidc-provider behind an https server that asks for client certificates (any CA: RFC 8705 §2.2 allows self-signed). */
async function startMtlsAuthorizationServer() {
  let handler: ((req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse) => void) | undefined
  const server = https.createServer({ key: tlsFixtures.keyPem, cert: tlsFixtures.certPem, requestCert: true, rejectUnauthorized: false }, (req, res) => handler!(req, res))
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  const port = (server.address() as AddressInfo).port
  const issuer = `https://alice.test:${port}`
  // RS256 too: oidc-provider's ID token default, checked on client metadata even for client credentials.
  const rsa = { ...generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' }), kid: 'as-rs256', alg: 'RS256', use: 'sig' }
  const ec = { ...generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' }), kid: 'as-es256', alg: 'ES256', use: 'sig' }
  const provider = new Provider(issuer, {
    clients: [{
      client_id: CLIENT_ID, client_secret: CLIENT_SECRET, token_endpoint_auth_method: 'client_secret_basic',
      grant_types: ['client_credentials'], redirect_uris: [], response_types: [], tls_client_certificate_bound_access_tokens: true,
    }],
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      mTLS: {
        enabled: true, certificateBoundAccessTokens: true,
        // The PEM of the certificate the client presented on this connection.
        getCertificate: (ctx: { req: { socket: TLSSocket } }) => ctx.req.socket.getPeerX509Certificate()?.toString(),
      },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => ORIGIN,
        useGrantedResource: () => true,
        getResourceServerInfo: () => ({ scope: 'api:read', audience: ORIGIN, accessTokenTTL: 300, accessTokenFormat: 'jwt', jwt: { sign: { alg: 'ES256' } } }),
      },
    },
    jwks: { keys: [rsa, ec] },
    cookies: { keys: [randomBytes(16).toString('hex')] },
  })
  handler = provider.callback()
  return { issuer, port, close: () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()) }) }
}

/** client_credentials at the AS's token endpoint over mutual TLS with `cert`. */
function requestToken(port: number, cert: ClientPair): Promise<{ status: number; body: Record<string, unknown> }> {
  const form = new URLSearchParams({ grant_type: 'client_credentials', scope: 'api:read', resource: ORIGIN }).toString()
  return new Promise((resolve, reject) => {
    const req = https.request({
      host: '127.0.0.1', port, path: '/token', method: 'POST', servername: 'alice.test', ca: tlsFixtures.caPem, cert: cert.certPem, key: cert.keyPem, agent: false,
      headers: { host: `alice.test:${port}`, 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`${CLIENT_ID}:${CLIENT_SECRET}`).toString('base64')}` },
    }, (res) => {
      let text = ''
      res.setEncoding('utf8')
      res.on('data', (c: string) => { text += c })
      res.on('end', () => resolve({ status: res.statusCode!, body: JSON.parse(text) as Record<string, unknown> }))
    })
    req.on('error', reject)
    req.end(form)
  })
}

t.test('oidc-provider\'s certificate-bound token: accepted with its certificate, refused with another or none', async (t) => {
  const as = await startMtlsAuthorizationServer()
  const up = await startUpstream()
  const gw = await startTestGateway({
    upstream: up.url, publicOrigin: ORIGIN,
    acl: 'version: 1\nrules:\n  - path: /foo\n    read: [alice.test]\n    require: [certificate-bound]\n',
    extraConfig: `${keysConfig()}\ndpop:\n  enabled: true\ntls:\n  listen: 127.0.0.1:0\n  cert: ${join(TLS_DIR, 'server.pem')}\n  key: ${join(TLS_DIR, 'server.key')}\n  clientCertificates: request\n  clientCa: ${tlsFixtures.caFile}\n`,
  })
  t.teardown(async () => { await gw.close(); await up.close(); await as.close() })

  const issued = await requestToken(as.port, clientCerts.alice)
  t.equal(issued.status, 200, JSON.stringify(issued.body))
  const token = issued.body.access_token as string
  t.equal(issued.body.token_type, 'Bearer', 'RFC 8705 §3: a certificate-bound token is a Bearer token on the wire')
  const claims = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as { cnf?: Record<string, string>; iss?: string }
  const x5t = createHash('sha256').update(new X509Certificate(clientCerts.alice.certPem).raw).digest('base64url')
  t.strictSame(claims.cnf, { 'x5t#S256': x5t }, 'the AS bound it to the certificate it saw, base64url')
  t.equal(claims.iss, as.issuer)

  const bearer = { authorization: `Bearer ${token}` }
  const ok = await h1Request(gw.gw.https!.port, '/foo', { cert: clientCerts.alice, headers: bearer })
  t.equal(ok.status, 200, ok.body)
  t.equal(up.seen.at(-1)!.headers['x-pop-identity'], 'alice.test', 'the identity is the issuer\'s host')
  t.equal(up.seen.at(-1)!.headers['x-pop-key-thumbprint'], x5t)
  const other = await h1Request(gw.gw.https!.port, '/foo', { cert: clientCerts.bob, headers: bearer })
  t.strictSame([other.status, other.code], [401, 'certificate_binding_mismatch'], 'another client certificate')
  const none = await h1Request(gw.gw.https!.port, '/foo', { headers: bearer })
  t.strictSame([none.status, none.code], [401, 'certificate_binding_unavailable'], 'no client certificate')
  t.equal(up.seen.length, 1)
})
