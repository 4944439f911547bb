// RFC 8705 §3 certificate binding and the identity of a client certificate
// (proofs/certificate-binding.ts), with the committed test PKI.

import t from 'tap'
import { X509Certificate, createHash } from 'node:crypto'
import { checkCertificateBinding, certificateIdentity } from '../../../src/proofs/certificate-binding.js'
import { describeCertificate } from '../../../src/tls/certificate.js'
import { GatewayError } from '../../../src/errors.js'
import { clientCerts } from '../../helpers/tls-fixtures.js'

const facts = (pem: string, chained = true) => describeCertificate(new X509Certificate(pem), 'socket', { chained, reason: chained ? undefined : 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' })
const alice = facts(clientCerts.alice.certPem)
const bob = facts(clientCerts.bob.certPem)
const der = new X509Certificate(clientCerts.alice.certPem).raw
const code = (fn: () => void) => { try { fn(); return 'accepted' } catch (err) { return err instanceof GatewayError ? `${err.code}: ${err.detail}` : String(err) } }

t.test('x5t#S256: base64url SHA-256 of the DER, of the certificate presented', async (t) => {
  const x5t = createHash('sha256').update(der).digest('base64url')
  t.equal(code(() => checkCertificateBinding(x5t, alice)), 'accepted', 'its own certificate')
  t.match(code(() => checkCertificateBinding(x5t, bob)), /^certificate_binding_mismatch: .*another client certificate/, 'another certificate')
  t.match(code(() => checkCertificateBinding(x5t, undefined)), /^certificate_binding_unavailable/, 'no certificate')
})

t.test('only the RFC encoding: hex, colon-hex, padded, standard base64 and SHA-1 are refused, never converted', async (t) => {
  const digest = createHash('sha256').update(der).digest()
  for (const [what, value] of [
    ['hex (WSO2\'s documented bug)', digest.toString('hex')],
    ['upper-case hex', digest.toString('hex').toUpperCase()],
    ['colon-separated hex (fingerprint256)', new X509Certificate(clientCerts.alice.certPem).fingerprint256],
    ['padded base64url', digest.toString('base64url') + '='],
    ['standard base64', digest.toString('base64')],
    ['SHA-1 (x5t, not x5t#S256)', createHash('sha1').update(der).digest('base64url')],
    ['a number', 42],
    ['missing', undefined],
  ] as const) t.match(code(() => checkCertificateBinding(value, alice)), /^certificate_binding_mismatch/, what)
  t.match(code(() => checkCertificateBinding(digest.toString('hex'), alice)), /is hex/, 'the hex case says so')
})

t.test('the identity of a certificate: its first SAN DNS name that is an identity, only when chained', async (t) => {
  t.equal(certificateIdentity(alice), 'alice.test')
  t.equal(certificateIdentity(facts(clientCerts.otherCa.certPem, false)), undefined, 'not chained: no identity, whatever its SAN says')
  t.equal(certificateIdentity({ ...alice, dnsNames: ['*.alice.test', 'Not A Name', 'bob.test'] }), 'bob.test', 'wildcards and non-names skipped')
  t.equal(certificateIdentity({ ...alice, dnsNames: [], subject: 'CN=alice.test' }), undefined, 'the subject CN is never read')
})
