// RFC 8705 §3 certificate-bound access tokens over real TLS 1.3 on loopback
// (test CA): a token whose cnf holds x5t#S256 works with its certificate
// and fails with another or with none; a hex thumbprint is refused; a plain
// Bearer token and a DPoP-bound one presented as Bearer are refused; a DPoP
// token bound to both a key and a certificate needs both; the certificate
// may also come from a trusted hop's Client-Cert.

import t from 'tap'
import { join } from 'node:path'
import { X509Certificate, createHash } from 'node:crypto'
import { rawRequest, startTestGateway, startUpstream } from '../../helpers/harness.js'
import { keysConfig } from '../../helpers/identity.js'
import { json, startKeyHost } from '../../helpers/key-host.js'
import { mintProof, mintToken, newKey } from '../../helpers/dpop.js'
import { clientCerts, tlsFixtures, TLS_DIR } from '../../helpers/tls-fixtures.js'
import { h1Request } from '../../helpers/tls-client.js'

const ORIGIN = 'https://gw.test'
const ACL = `version: 1
rules:
  - id: foo
    path: /foo
    read: [alice.test]
  - id: bound-only
    path: /bound-only
    read: [alice.test]
    require: [certificate-bound]
`
const der = (pem: string) => new X509Certificate(pem).raw
const x5t = (pem: string) => createHash('sha256').update(der(pem)).digest('base64url')
const x5tHex = (pem: string) => createHash('sha256').update(der(pem)).digest('hex')

async function setup(t: { teardown(fn: () => unknown): void }, extra = '') {
  const up = await startUpstream()
  const as = await startKeyHost()
  const issuerKey = await newKey('ES256', 'is1')
  const client = await newKey('ES256')
  as.route('/.well-known/oauth-authorization-server', (req, res) => {
    const h = (req.headers.host ?? '').split(':')[0]
    json({ issuer: `https://${h}:${as.port}`, jwks_uri: `https://${h}:${as.port}/jwks` }, { contentType: 'application/json' })(req, res)
  })
  as.route('/jwks', json({ keys: [issuerKey.jwk] }, { contentType: 'application/json' }))
  const gw = await startTestGateway({
    upstream: up.url, publicOrigin: ORIGIN, acl: ACL,
    extraConfig: `${keysConfig()}\ndpop:\n  enabled: true\n  requireNonce: false\ntls:\n  listen: 127.0.0.1:0\n  cert: ${join(TLS_DIR, 'server.pem')}\n  key: ${join(TLS_DIR, 'server.key')}\n  clientCertificates: request\n  clientCa: ${tlsFixtures.caFile}\n${extra}`,
  })
  t.teardown(async () => { await gw.close(); await as.close(); await up.close() })
  const nowSec = () => Math.floor(Date.now() / 1000)
  const token = (cnf: Record<string, unknown> | undefined) =>
    mintToken(issuerKey, { issuer: `https://alice.test:${as.port}`, audience: ORIGIN, client, nowSec: nowSec(), claims: { cnf } })
  const proof = (tok: string, path: string) => mintProof(client, { token: tok, htm: 'GET', htu: ORIGIN + path, nowSec: nowSec() })
  return { gw, up, client, token, proof, port: gw.gw.https!.port }
}

t.test('Bearer + cnf x5t#S256: works with its certificate, fails with another, with none, and in hex', async (t) => {
  const { gw, up, token, port } = await setup(t)
  const tok = token({ 'x5t#S256': x5t(clientCerts.alice.certPem) })
  const bearer = { authorization: `Bearer ${tok}` }
  const ok = await h1Request(port, '/foo', { cert: clientCerts.alice, headers: bearer })
  t.equal(ok.status, 200, ok.body)
  const h = up.seen.at(-1)!.headers
  t.equal(h['x-pop-identity'], 'alice.test', 'the issuer\'s host')
  t.equal(h['x-pop-auth-method'], 'dpop')
  t.equal(h['x-pop-key-thumbprint'], x5t(clientCerts.alice.certPem))
  t.equal(h['x-pop-subject'], 'svc-a', 'the token\'s sub, not the certificate\'s subject')
  t.equal(h.authorization, undefined, 'the token is not forwarded')
  t.match(gw.log.lines.filter((l) => l.msg === 'access').at(-1), { identity: 'alice.test', clientCert: 'socket' })
  t.equal((await h1Request(port, '/foo', { cert: clientCerts.alice, headers: bearer })).status, 200, 'a bound token is no one-time proof: again with the same certificate')
  t.equal((await h1Request(port, '/bound-only', { cert: clientCerts.alice, headers: bearer })).status, 200, 'require: [certificate-bound] takes it')

  const other = await h1Request(port, '/foo', { cert: clientCerts.bob, headers: bearer })
  t.strictSame([other.status, other.code], [401, 'certificate_binding_mismatch'], 'another certificate (a chained one, of another identity)')
  t.match(other.headers['www-authenticate'], /error="invalid_token"/)
  const otherCa = await h1Request(port, '/foo', { cert: clientCerts.otherCa, headers: bearer })
  t.strictSame([otherCa.status, otherCa.code], [401, 'certificate_binding_mismatch'], 'another certificate naming the same SAN')
  const none = await h1Request(port, '/foo', { headers: bearer })
  t.strictSame([none.status, none.code], [401, 'certificate_binding_unavailable'], 'no certificate')
  const plainHttp = await rawRequest(gw.url, { path: '/foo', headers: [['Authorization', `Bearer ${tok}`]] })
  t.equal(JSON.parse(plainHttp.body).code, 'certificate_binding_unavailable', 'plain HTTP: no certificate either')

  const hex = token({ 'x5t#S256': x5tHex(clientCerts.alice.certPem) })
  const hexed = await h1Request(port, '/foo', { cert: clientCerts.alice, headers: { authorization: `Bearer ${hex}` } })
  t.strictSame([hexed.status, hexed.code], [401, 'certificate_binding_mismatch'], 'the hex SHA-256 of the right certificate is refused, not converted')
  t.match(JSON.parse(hexed.body).detail, /hex/)
  const colons = token({ 'x5t#S256': x5tHex(clientCerts.alice.certPem).match(/../g)!.join(':').toUpperCase() })
  t.equal((await h1Request(port, '/foo', { cert: clientCerts.alice, headers: { authorization: `Bearer ${colons}` } })).code, 'certificate_binding_mismatch', 'so is the colon fingerprint')
  const padded = token({ 'x5t#S256': createHash('sha256').update(der(clientCerts.alice.certPem)).digest('base64') })
  t.equal((await h1Request(port, '/foo', { cert: clientCerts.alice, headers: { authorization: `Bearer ${padded}` } })).code, 'certificate_binding_mismatch', 'and standard base64 with padding')
  t.equal(up.seen.length, 3, 'only the good requests reached the upstream')
})

t.test('Bearer is never plain: no cnf, or a DPoP key binding, is refused', async (t) => {
  const { up, token, client, port } = await setup(t)
  const plain = await h1Request(port, '/foo', { cert: clientCerts.alice, headers: { authorization: `Bearer ${token(undefined)}` } })
  t.strictSame([plain.status, plain.code], [401, 'token_unbound'], 'a bearer token, even over mTLS')
  const dpopBound = await h1Request(port, '/foo', { cert: clientCerts.alice, headers: { authorization: `Bearer ${token({ jkt: client.jkt })}` } })
  t.strictSame([dpopBound.status, dpopBound.code], [401, 'token_bearer_refused'], 'RFC 9449 §7.2: a DPoP-bound token as Bearer')
  const both = await h1Request(port, '/foo', { cert: clientCerts.alice, headers: { authorization: `Bearer ${token({ jkt: client.jkt, 'x5t#S256': x5t(clientCerts.alice.certPem) })}` } })
  t.strictSame([both.status, both.code], [401, 'token_bearer_refused'], 'bound to a key and the certificate: Bearer would drop the key\'s proof')
  t.equal(up.seen.length, 0)
})

t.test('DPoP + cnf { jkt, x5t#S256 }: the proof and the certificate both hold', async (t) => {
  const { up, token, proof, client, port } = await setup(t)
  const tok = token({ jkt: client.jkt, 'x5t#S256': x5t(clientCerts.alice.certPem) })
  const send = (cert: typeof clientCerts.alice | undefined) => h1Request(port, '/foo', { cert, headers: { authorization: `DPoP ${tok}`, dpop: proof(tok, '/foo') } })
  const ok = await send(clientCerts.alice)
  t.equal(ok.status, 200, ok.body)
  t.equal(up.seen.at(-1)!.headers['x-pop-key-thumbprint'], client.jkt, 'the DPoP key is the thumbprint')
  t.strictSame([(await send(clientCerts.bob)).code, (await send(undefined)).code], ['certificate_binding_mismatch', 'certificate_binding_unavailable'])
  const certOnly = token({ 'x5t#S256': x5t(clientCerts.alice.certPem) })
  const asDpop = await h1Request(port, '/foo', { cert: clientCerts.alice, headers: { authorization: `DPoP ${certOnly}`, dpop: proof(certOnly, '/foo') } })
  t.strictSame([asDpop.status, asDpop.code], [401, 'token_invalid'], 'a token bound only to a certificate has no key for a DPoP proof')
})

t.test('the certificate a trusted hop forwards binds tokens too; the access line says header', async (t) => {
  const up = await startUpstream()
  const as = await startKeyHost()
  const issuerKey = await newKey('ES256', 'is1')
  as.route('/.well-known/oauth-authorization-server', (req, res) => {
    const h = (req.headers.host ?? '').split(':')[0]
    json({ issuer: `https://${h}:${as.port}`, jwks_uri: `https://${h}:${as.port}/jwks` }, { contentType: 'application/json' })(req, res)
  })
  as.route('/jwks', json({ keys: [issuerKey.jwk] }, { contentType: 'application/json' }))
  const gw = await startTestGateway({ upstream: up.url, publicOrigin: ORIGIN, acl: ACL, extraConfig: `${keysConfig()}\ndpop:\n  enabled: true\ntrustedProxies: [127.0.0.1]\nforwardedClientCert:\n  ca: ${tlsFixtures.caFile}\nlimits:\n  maxHeaderBytes: 64KiB\n` })
  t.teardown(async () => { await gw.close(); await as.close(); await up.close() })
  const tok = mintToken(issuerKey, { issuer: `https://alice.test:${as.port}`, audience: ORIGIN, client: await newKey('ES256'), nowSec: Math.floor(Date.now() / 1000), claims: { cnf: { 'x5t#S256': x5t(clientCerts.alice.certPem) } } })
  const field = (pem: string) => `:${der(pem).toString('base64')}:`
  const ok = await rawRequest(gw.url, { path: '/foo', headers: [['Authorization', `Bearer ${tok}`], ['Client-Cert', field(clientCerts.alice.certPem)]] })
  t.equal(ok.status, 200, ok.body)
  t.match(gw.log.lines.filter((l) => l.msg === 'access').at(-1), { identity: 'alice.test', clientCert: 'header' })
  const other = await rawRequest(gw.url, { path: '/foo', headers: [['Authorization', `Bearer ${tok}`], ['Client-Cert', field(clientCerts.bob.certPem)]] })
  t.equal(JSON.parse(other.body).code, 'certificate_binding_mismatch')
})
