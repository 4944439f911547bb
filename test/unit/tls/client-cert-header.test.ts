// RFC 9440 Client-Cert from a trusted hop (tls/client-cert-header.ts) and the
// certificate facts every path shares (tls/certificate.ts): the field's
// syntax and size, the chain check against the forwarded-certificate CA,
// and which peers are believed at all.

import t from 'tap'
import { X509Certificate, createHash } from 'node:crypto'
import { forwardedCertificate, loadCaBundle, parseClientCertField, requestClientCertificate, MAX_CLIENT_CERT_FIELD } from '../../../src/tls/client-cert-header.js'
import { sanDnsNames, verifyIssuedBy, describeCertificate } from '../../../src/tls/certificate.js'
import { GatewayError } from '../../../src/errors.js'
import { clientCerts, tlsFixtures } from '../../helpers/tls-fixtures.js'

const NOW = Date.parse('2030-01-01T00:00:00Z')
const field = (pem: string) => `:${new X509Certificate(pem).raw.toString('base64')}:`
const cas = loadCaBundle(tlsFixtures.caFile)
const code = (fn: () => unknown) => { try { fn(); return 'no error' } catch (err) { return err instanceof GatewayError ? err.code : String(err) } }

t.test('a well-formed field from the right CA: the certificate, chained, from the header', async (t) => {
  const cert = forwardedCertificate([field(clientCerts.alice.certPem)], cas, NOW)!
  const der = new X509Certificate(clientCerts.alice.certPem).raw
  t.equal(cert.x5tS256, createHash('sha256').update(der).digest('base64url'))
  t.strictSame([cert.chained, cert.reason, cert.dnsNames, cert.source], [true, undefined, ['alice.test'], 'header'])
  t.equal(forwardedCertificate([], cas, NOW), undefined, 'no field, no certificate')
})

t.test('the chain check: another CA, expired, not yet valid, a server-only certificate, no CA at all', async (t) => {
  t.equal(forwardedCertificate([field(clientCerts.otherCa.certPem)], cas, NOW)!.reason, 'UNABLE_TO_VERIFY_LEAF_SIGNATURE')
  t.equal(forwardedCertificate([field(clientCerts.expired.certPem)], cas, NOW)!.reason, 'CERT_HAS_EXPIRED')
  t.equal(forwardedCertificate([field(clientCerts.alice.certPem)], cas, Date.parse('2000-01-01T00:00:00Z'))!.reason, 'CERT_NOT_YET_VALID')
  t.equal(forwardedCertificate([field(tlsFixtures.certPem)], cas, NOW)!.reason, 'INVALID_PURPOSE', 'serverAuth only: not for client authentication')
  t.equal(verifyIssuedBy(new X509Certificate(clientCerts.alice.certPem), [], NOW).reason, 'NO_CLIENT_CA')
  // A client certificate is no issuer.
  t.equal(verifyIssuedBy(new X509Certificate(clientCerts.alice.certPem), [new X509Certificate(clientCerts.bob.certPem)], NOW).chained, false)
})

t.test('bad fields: refused with client_cert_header_invalid', async (t) => {
  const good = field(clientCerts.alice.certPem)
  for (const [what, value] of [
    ['no colons (plain base64)', good.slice(1, -1)],
    ['PEM instead of a byte sequence', clientCerts.alice.certPem.replace(/\n/g, ' ')],
    ['base64url alphabet', `:${new X509Certificate(clientCerts.alice.certPem).raw.toString('base64url')}-_:`],
    ['empty', '::'],
    ['not a certificate', `:${Buffer.from('hello world').toString('base64')}:`],
    ['a list of two', `${good}, ${good}`],
    ['parameters', `${good};chain=1`],
    ['oversized', `:${'A'.repeat(MAX_CLIENT_CERT_FIELD)}:`],
  ] as const) t.equal(code(() => parseClientCertField(value)), 'client_cert_header_invalid', what)
  t.equal(code(() => forwardedCertificate([good, good], cas, NOW)), 'client_cert_header_invalid', 'two fields')
  t.equal(code(() => parseClientCertField(` ${good} `)), 'no error', 'surrounding whitespace is not part of the value (RFC 8941 §4.2)')
})

t.test('who is believed: a trusted hop gives the header or nothing; anyone else gives their socket certificate', async (t) => {
  const socketCert = describeCertificate(new X509Certificate(clientCerts.bob.certPem), 'socket', { chained: true, reason: undefined })
  const policy = { isTrustedPeer: (a: string | undefined) => a === '10.0.0.1', cas }
  const raw = ['Host', 'gw.test', 'client-cert', field(clientCerts.alice.certPem)]
  t.equal(requestClientCertificate(raw, '10.0.0.1', socketCert, policy, NOW)?.dnsNames[0], 'alice.test', 'trusted hop: the forwarded certificate')
  t.equal(requestClientCertificate(['Host', 'gw.test'], '10.0.0.1', socketCert, policy, NOW), undefined, 'trusted hop without the field: none, never the hop\'s own socket certificate')
  t.equal(requestClientCertificate(raw, '192.0.2.9', socketCert, policy, NOW), socketCert, 'anyone else: the field is ignored')
  t.equal(requestClientCertificate(raw, '192.0.2.9', undefined, policy, NOW), undefined, 'anyone else without a socket certificate: none')
  t.equal(requestClientCertificate(raw, '10.0.0.1', socketCert, undefined, NOW), socketCert, 'forwardedClientCert not configured: never read')
  t.equal(requestClientCertificate(['CLIENT-CERT', 'garbage'], '192.0.2.9', undefined, policy, NOW), undefined, 'a bad field from an untrusted peer is not even parsed')
  t.equal(code(() => requestClientCertificate(['Client-Cert', 'garbage'], '10.0.0.1', undefined, policy, NOW)), 'client_cert_header_invalid', 'from a trusted hop it is an error')
})

t.test('SAN DNS names: Node\'s text read without letting a quoted entry smuggle a second name', async (t) => {
  t.strictSame(sanDnsNames('DNS:a.test, DNS:B.Test, IP Address:127.0.0.1, email:x@y'), ['a.test', 'b.test'])
  t.strictSame(sanDnsNames('DNS:"evil.test, DNS:alice.test"'), ['evil.test, dns:alice.test'], 'one quoted entry stays one (CVE-2021-44532)')
  t.strictSame(sanDnsNames('URI:https://x/, DNS:a.test'), ['a.test'])
  t.strictSame(sanDnsNames(undefined), [])
})

t.test('loadCaBundle: a file without a certificate is an error naming it', async (t) => {
  t.throws(() => loadCaBundle(clientCerts.alice.keyFile), /holds no PEM certificate/)
  t.equal(loadCaBundle(tlsFixtures.caFile).length, 1)
})
