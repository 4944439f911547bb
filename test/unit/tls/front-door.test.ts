// The front door's per-request certificate (tls/front-door.ts): a trusted
// hop's Client-Cert replaces the socket's in the channel facts schemes see.

import t from 'tap'
import net from 'node:net'
import { X509Certificate } from 'node:crypto'
import type { IncomingMessage } from 'node:http'
import { readForwardedCertificate, requestChannel, forwardedCertificateOf } from '../../../src/tls/front-door.js'
import { loadCaBundle } from '../../../src/tls/client-cert-header.js'
import { clientCerts, tlsFixtures } from '../../helpers/tls-fixtures.js'

const field = (pem: string) => `:${new X509Certificate(pem).raw.toString('base64')}:`
const policy = { isTrustedPeer: (a: string | undefined) => a === '10.0.0.1', cas: loadCaBundle(tlsFixtures.caFile) }
const fakeReq = (peer: string, raw: string[]) => ({ rawHeaders: raw, socket: Object.defineProperty(new net.Socket(), 'remoteAddress', { value: peer }) }) as unknown as IncomingMessage
const NOW = Date.parse('2030-01-01T00:00:00Z')

t.test('a trusted hop\'s certificate is the request\'s; the connection\'s other facts stay', async (t) => {
  const req = fakeReq('10.0.0.1', ['Client-Cert', field(clientCerts.alice.certPem)])
  readForwardedCertificate(req, policy, NOW)
  const ch = requestChannel(req)
  t.strictSame([ch.clientCert?.source, ch.clientCert?.dnsNames, ch.clientCert?.chained], ['header', ['alice.test'], true])
  t.equal(ch.clientCertSha256, ch.clientCert?.x5tS256)
  t.equal(ch.tlsVersion, undefined, 'plain TCP from the hop: no TLS facts')
  t.equal(forwardedCertificateOf(req)?.source, 'header')
})

t.test('anyone else: the field is not read, the channel is the connection\'s', async (t) => {
  const req = fakeReq('192.0.2.1', ['Client-Cert', field(clientCerts.alice.certPem)])
  readForwardedCertificate(req, policy, NOW)
  t.equal(requestChannel(req).clientCert, undefined)
  t.equal(forwardedCertificateOf(req), undefined)
})
