// The client-certificate scheme (schemes/mtls/, docs/tls.md) over real TLS
// 1.3 on loopback with the test CA: a certificate is an identity only as its
// SAN DNS name and only where the ACL names it; an explicit credential wins
// over it; a rule's `require: [mtls]` and `clientCertificate: required`; the
// upstream's identity headers and RFC 9440 Client-Cert; the access line
// says where the certificate came from (socket or a trusted hop's header).

import t from 'tap'
import { join } from 'node:path'
import { X509Certificate, createHash } from 'node:crypto'
import type { Test } from 'tap'
import { startUpstream, startTestGateway, rawRequest } from '../../helpers/harness.js'
import { startKeyHost, keysConfig } from '../../helpers/identity.js'
import { clientCerts, tlsFixtures, TLS_DIR } from '../../helpers/tls-fixtures.js'
import { h1Request } from '../../helpers/tls-client.js'
import { createChannelBinding } from '../../../src/client/channel-binding.js'
import { createDomainPopFetch } from '../../../src/client/fetch.js'

const ORIGIN = 'https://gw.test'
const ACL = `version: 1
rules:
  - path: /public/**
    public: true
  - id: foo
    path: /foo
    read: [alice.test]
  - id: only-mtls
    path: /only-mtls
    read: [alice.test]
    require: [mtls]
  - id: with-cert
    path: /with-cert
    read: [alice.test]
    require: [domainpop]
    clientCertificate: required
  - id: pass-cert
    path: /pass-cert
    read: [alice.test]
    forwardClientCert: true
`
const x5tOf = (pem: string) => createHash('sha256').update(new X509Certificate(pem).raw).digest('base64url')
const tlsConfig = (mode: string) => `tls:\n  listen: 127.0.0.1:0\n  cert: ${join(TLS_DIR, 'server.pem')}\n  key: ${join(TLS_DIR, 'server.key')}\n  clientCertificates: ${mode}\n${mode === 'none' ? '' : `  clientCa: ${tlsFixtures.caFile}\n`}`

/** Without the `require: [mtls]` rule: where no certificate can arrive, the mtls scheme is off and `acl` refuses to name it. */
const ACL_NO_MTLS = ACL.replace(/  - id: only-mtls\n(    .*\n){3}/, '')

async function gateway(t: Test, mode: string, extra = '') {
  const up = await startUpstream()
  const gw = await startTestGateway({ upstream: up.url, publicOrigin: ORIGIN, acl: mode === 'none' ? ACL_NO_MTLS : ACL, extraConfig: `${tlsConfig(mode)}${extra}` })
  t.teardown(async () => { await gw.close(); await up.close() })
  return { gw, up, port: gw.gw.https!.port }
}
const access = (gw: { log: { lines: Record<string, unknown>[] } }) => gw.log.lines.filter((l) => l.msg === 'access').at(-1)!

t.test('a chained certificate is its SAN identity: the ACL lets alice.test in, refuses bob.test; the upstream learns the certificate', async (t) => {
  const { gw, up, port } = await gateway(t, 'request')
  const ok = await h1Request(port, '/foo', { cert: clientCerts.alice })
  t.equal(ok.status, 200, ok.body)
  const h = up.seen.at(-1)!.headers
  t.equal(h['x-pop-identity'], 'alice.test')
  t.equal(h['x-pop-auth-method'], 'mtls')
  t.equal(h['x-pop-key-thumbprint'], x5tOf(clientCerts.alice.certPem), 'the thumbprint is RFC 8705 x5t#S256, base64url')
  t.match(h['x-pop-subject'], /CN=alice\.test/, 'the subject')
  t.notOk(h['client-cert'], 'no Client-Cert unless the rule asks')
  t.match(access(gw), { identity: 'alice.test', scheme: 'mtls', clientCert: 'socket', decision: 'allow' }, 'the access line says the certificate came on the socket')

  const bob = await h1Request(port, '/foo', { cert: clientCerts.bob })
  t.strictSame([bob.status, bob.code], [403, 'forbidden'], 'a stranger\'s SAN: the ACL says no, as to any identity')
  t.match(access(gw), { claimed: 'bob.test', code: 'forbidden' })

  const none = await h1Request(port, '/foo')
  t.strictSame([none.status, none.code], [401, 'credentials_missing'], 'request listener, no certificate: the ordinary challenge')
  t.equal(up.seen.length, 1, 'only alice reached the upstream')
})

t.test('refused certificates: another CA, expired, no usable SAN; never an identity', async (t) => {
  const { up, port } = await gateway(t, 'request')
  const other = await h1Request(port, '/foo', { cert: clientCerts.otherCa })
  t.strictSame([other.status, other.code], [403, 'client_certificate_invalid'], 'another CA')
  t.match(JSON.parse(other.body).detail, /UNABLE_TO_VERIFY_LEAF_SIGNATURE/)
  const expired = await h1Request(port, '/foo', { cert: clientCerts.expired })
  t.strictSame([expired.status, expired.code], [403, 'client_certificate_invalid'], 'expired')
  t.match(JSON.parse(expired.body).detail, /CERT_HAS_EXPIRED/)
  t.equal(up.seen.length, 0)
})

t.test('none: a client\'s certificate is never asked for, so it is no credential', async (t) => {
  const { port } = await gateway(t, 'none')
  const res = await h1Request(port, '/foo', { cert: clientCerts.alice })
  t.strictSame([res.status, res.code], [401, 'credentials_missing'])
})

t.test('require: a client without a certificate is refused at the door, a protected route included', async (t) => {
  const { port, up } = await gateway(t, 'require')
  const res = await h1Request(port, '/foo')
  t.strictSame([res.status, res.code], [403, 'client_certificate_required'])
  t.equal((await h1Request(port, '/foo', { cert: clientCerts.alice })).status, 200, 'with alice\'s certificate: in as alice.test')
  t.equal(up.seen.length, 1)
})

t.test('an explicit credential wins over the ambient certificate', async (t) => {
  const { port, up } = await gateway(t, 'request')
  const res = await h1Request(port, '/foo', { cert: clientCerts.alice, headers: { authorization: 'DomainPoP not-a-jws' } })
  t.equal(res.status, 400, 'the DomainPoP credential is the request\'s, and it is malformed')
  t.equal(res.code, 'malformed_proof')
  t.equal(up.seen.length, 0, 'the certificate did not let it through')
})

t.test('forwardClientCert: the upstream gets RFC 9440 Client-Cert, never the client\'s own copy', async (t) => {
  const { port, up } = await gateway(t, 'request')
  const forged = `:${new X509Certificate(clientCerts.bob.certPem).raw.toString('base64')}:`
  const res = await h1Request(port, '/pass-cert', { cert: clientCerts.alice, headers: { 'client-cert': forged } })
  t.equal(res.status, 200, res.body)
  const h = up.seen.at(-1)!.headers
  t.equal(h['client-cert'], `:${new X509Certificate(clientCerts.alice.certPem).raw.toString('base64')}:`, 'the presented certificate, as an RFC 8941 byte sequence, once')
  const plain = await h1Request(port, '/foo', { cert: clientCerts.alice, headers: { 'client-cert': forged } })
  t.equal(plain.status, 200)
  t.notOk(up.seen.at(-1)!.headers['client-cert'], 'a client-sent Client-Cert is stripped where the rule does not ask')
})

t.test('require: [mtls] refuses a DomainPoP proof; clientCertificate: required wants a certificate beside the proof', async (t) => {
  const kh = await startKeyHost()
  const { port, up } = await gateway(t, 'request', `${keysConfig()}\n`)
  t.teardown(() => kh.close())
  const { key, keyUrl } = await kh.publish('alice.test')
  const url = `https://127.0.0.1:${port}`
  const bare = createChannelBinding(url, { ca: tlsFixtures.caPem, servername: 'localhost' })
  const withCert = createChannelBinding(url, { ca: tlsFixtures.caPem, servername: 'localhost', cert: clientCerts.alice.certPem, key: clientCerts.alice.keyPem })
  t.teardown(async () => { await bare.close(); await withCert.close() })
  const fetchBare = createDomainPopFetch({ identity: 'alice.test', keyUrl, privateKey: key, audience: ORIGIN, channelBinding: bare })
  const fetchCert = createDomainPopFetch({ identity: 'alice.test', keyUrl, privateKey: key, audience: ORIGIN, channelBinding: withCert })

  t.equal((await fetchBare(`${url}/foo`)).status, 200, 'the proof itself is good')
  const onlyMtls = await fetchBare(`${url}/only-mtls`)
  t.equal(onlyMtls.status, 401)
  t.equal(((await onlyMtls.json()) as { code: string }).code, 'credentials_not_accepted', 'require: [mtls] refuses a DomainPoP proof')

  const noCert = await fetchBare(`${url}/with-cert`)
  t.equal(noCert.status, 403)
  t.equal(((await noCert.json()) as { code: string }).code, 'client_certificate_required', 'clientCertificate: required, a good proof without a certificate')
  // The client's first, bare request is the certificate's (ambient): mtls, refused by require: [domainpop]
  // with every challenge; then its proof over the same mTLS connection is the request's credential.
  const both = await fetchCert(`${url}/with-cert`)
  t.equal(both.status, 200, 'the proof and a chained certificate')
  t.equal(up.seen.at(-1)!.headers['x-pop-auth-method'], 'domainpop', 'the explicit proof is the credential, not the certificate')
  const proofOverMtls = await fetchCert(`${url}/only-mtls`)
  t.equal(proofOverMtls.status, 401, 'a DomainPoP proof over an mTLS connection is still DomainPoP: require: [mtls] refuses it')
  t.equal((await h1Request(port, '/only-mtls', { cert: clientCerts.alice })).status, 200, 'the certificate alone passes require: [mtls]')
  t.equal(up.seen.at(-1)!.headers['x-pop-auth-method'], 'mtls')
})

t.test('behind a TLS-terminating hop: Client-Cert from the trusted hop is the certificate; from anyone else it is ignored and stripped', async (t) => {
  const field = `:${new X509Certificate(clientCerts.alice.certPem).raw.toString('base64')}:`
  for (const [trusted, want] of [['127.0.0.1', 200], ['10.0.0.1', 401]] as const) {
    const up = await startUpstream()
    const gw = await startTestGateway({ upstream: up.url, publicOrigin: ORIGIN, acl: ACL, extraConfig: `trustedProxies: [${trusted}]\nforwardedClientCert:\n  ca: ${tlsFixtures.caFile}\nlimits:\n  maxHeaderBytes: 64KiB\n` })
    t.teardown(async () => { await gw.close(); await up.close() })
    const res = await rawRequest(gw.url, { path: '/foo', headers: [['Client-Cert', field]] })
    t.equal(res.status, want, `hop ${trusted}`)
    if (want === 200) {
      t.equal(up.seen.at(-1)!.headers['x-pop-identity'], 'alice.test')
      t.equal(up.seen.at(-1)!.headers['x-pop-auth-method'], 'mtls')
      t.notOk(up.seen.at(-1)!.headers['client-cert'], 'the hop\'s header is not passed on')
      t.match(access(gw), { identity: 'alice.test', clientCert: 'header' }, 'the access line says it came in a header')
    } else {
      t.equal(JSON.parse(res.body).code, 'credentials_missing', 'an untrusted peer\'s Client-Cert is no credential')
      t.equal(up.seen.length, 0)
    }
  }
})

t.test('a trusted hop that re-encrypts with its own client certificate: that certificate is never the client\'s', async (t) => {
  const { port, up } = await gateway(t, 'request', `trustedProxies: [127.0.0.1]\nforwardedClientCert:\n  ca: ${tlsFixtures.caFile}\nlimits:\n  maxHeaderBytes: 64KiB\n`)
  const noHeader = await h1Request(port, '/foo', { cert: clientCerts.alice })
  t.strictSame([noHeader.status, noHeader.code], [401, 'credentials_missing'], 'the hop\'s socket certificate (alice.test) is not taken for the client\'s')
  const bob = `:${new X509Certificate(clientCerts.bob.certPem).raw.toString('base64')}:`
  const viaHeader = await h1Request(port, '/foo', { cert: clientCerts.alice, headers: { 'client-cert': bob } })
  t.strictSame([viaHeader.status, viaHeader.code], [403, 'forbidden'], 'the forwarded certificate (bob.test) is the client\'s, and the ACL decides on it')
  t.equal(up.seen.length, 0)
})
