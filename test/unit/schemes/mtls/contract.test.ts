// createMtlsScheme (schemes/mtls/) against the scheme contract
// (test/unit/schemes/contract.ts), with the committed test PKI's client
// certificates; possession is the TLS handshake's, so the contract's replay
// check is its `tls-handshake` form. Its own cases follow: what is and is
// not an identity.

import t from 'tap'
import fc from 'fast-check'
import { X509Certificate } from 'node:crypto'
import { createMtlsScheme } from '../../../../src/schemes/mtls/index.js'
import { describeCertificate, type ClientCertificate } from '../../../../src/tls/certificate.js'
import { GatewayError, type ErrorCode } from '../../../../src/errors.js'
import { fakeView } from '../../../helpers/request-view.js'
import { clientCerts } from '../../../helpers/tls-fixtures.js'
import { schemeContract } from '../contract.js'

const view = fakeView({ method: 'GET', path: '/foo', nowMs: Date.now() })
const chained = { chained: true, reason: undefined }
const alice = describeCertificate(new X509Certificate(clientCerts.alice.certPem), 'socket', chained)
const CODES: readonly ErrorCode[] = ['client_certificate_invalid', 'client_certificate_no_identity']

const hostileCert: fc.Arbitrary<ClientCertificate> = fc.record({
  der: fc.uint8Array({ maxLength: 64 }).map((b) => Buffer.from(b)),
  x5tS256: fc.string({ maxLength: 64 }),
  chained: fc.boolean(),
  reason: fc.option(fc.constantFrom('CERT_HAS_EXPIRED', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'NO_CLIENT_CA'), { nil: undefined }),
  dnsNames: fc.array(fc.oneof(fc.domain(), fc.string({ maxLength: 30 }), fc.constant('*.alice.test'), fc.constant('alice.test.'), fc.constant('127.0.0.1')), { maxLength: 4 }),
  subject: fc.string({ maxLength: 60 }),
  source: fc.constantFrom('socket' as const, 'header' as const),
})

schemeContract(t, {
  namespace: 'mtls',
  possession: 'tls-handshake',
  create: () => createMtlsScheme(),
  async valid() {
    return { credentials: { authorization: undefined, fields: undefined, clientCertificate: alice }, view }
  },
  hostile: fc.option(hostileCert, { nil: undefined }).map((clientCertificate) => ({ authorization: undefined, fields: undefined, clientCertificate })),
  codes: CODES,
})

t.test('a certificate is an identity only when it chained and a SAN DNS name is one', async (t) => {
  const scheme = createMtlsScheme()
  const parse = (c: ClientCertificate) => { try { return scheme.parse({ authorization: undefined, fields: undefined, clientCertificate: c }, view).identity } catch (err) { return (err as GatewayError).code } }
  t.equal(parse(alice), 'alice.test')
  t.equal(parse({ ...alice, chained: false, reason: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' }), 'client_certificate_invalid', 'not chained')
  t.equal(parse({ ...alice, dnsNames: ['*.alice.test'] }), 'client_certificate_no_identity', 'a wildcard names no one domain')
  t.equal(parse({ ...alice, dnsNames: [] }), 'client_certificate_no_identity', 'no SAN: the subject CN is never read')
  t.equal(parse({ ...alice, dnsNames: ['not a name', 'bob.test'] }), 'bob.test', 'the first SAN that is an identity')
  const p = await scheme.verify(scheme.parse({ authorization: undefined, fields: undefined, clientCertificate: alice }, view), view, {} as never)
  t.strictSame([p.method, p.thumbprint, p.confirmation, [...p.assurances!]], ['mtls', alice.x5tS256, { 'x5t#S256': alice.x5tS256 }, ['certificate-bound']])
  t.equal(p.certificate?.source, 'socket', 'the principal says where the certificate came from')
  t.equal(scheme.challenge(undefined).field, undefined, 'no WWW-Authenticate: no HTTP scheme fixes a missing certificate')
})
