// Channel facts per connection (http/channel.ts) on real loopback sockets:
// plain TCP has none; TLS 1.3 has the RFC 9266 exporter value, the same 32
// bytes the client computes, computed once per connection; TLS 1.2 has no
// exporter (Node cannot tell whether Extended Master Secret was used); a
// client certificate is hashed (RFC 8705 §3.1 x5t#S256).

import t from 'tap'
import net from 'node:net'
import tls from 'node:tls'
import { once } from 'node:events'
import { createHash, X509Certificate } from 'node:crypto'
import type { AddressInfo } from 'node:net'
import { channelFacts } from '../../../src/http/channel.js'
import { clientCerts, tlsFixtures } from '../../helpers/tls-fixtures.js'

const LABEL = 'EXPORTER-Channel-Binding'
/** Node accepts the call without a context; @types/node does not. */
const noContext = tls.TLSSocket.prototype.exportKeyingMaterial as (this: tls.TLSSocket, length: number, label: string) => Buffer

interface Pair { server: tls.TLSSocket; client: tls.TLSSocket }

/** A TLS server on 127.0.0.1:0 that hands over each accepted socket. */
async function startTls(t: { teardown(fn: () => void): void }, opts: tls.TlsOptions = {}) {
  const accepted: tls.TLSSocket[] = []
  const waiting: Array<(s: tls.TLSSocket) => void> = []
  const server = tls.createServer({ key: tlsFixtures.keyPem, cert: tlsFixtures.certPem, ...opts }, (s) => {
    const w = waiting.shift()
    if (w) w(s)
    else accepted.push(s)
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const port = (server.address() as AddressInfo).port
  const sockets: tls.TLSSocket[] = []
  t.teardown(() => {
    for (const s of sockets) s.destroy()
    server.close()
  })
  const connect = async (clientOpts: tls.ConnectionOptions = {}): Promise<Pair> => {
    const serverSide = new Promise<tls.TLSSocket>((resolve) => {
      const s = accepted.shift()
      if (s) resolve(s)
      else waiting.push(resolve)
    })
    const client = tls.connect({ host: '127.0.0.1', port, ca: tlsFixtures.caPem, servername: 'localhost', ...clientOpts })
    sockets.push(client)
    await once(client, 'secureConnect')
    const server = await serverSide
    sockets.push(server)
    return { server, client }
  }
  return { connect }
}

t.test('plain TCP: one shared, frozen facts object with nothing in it', async (t) => {
  const server = net.createServer()
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const port = (server.address() as AddressInfo).port
  const a = net.connect(port, '127.0.0.1'), b = net.connect(port, '127.0.0.1')
  await Promise.all([once(a, 'connect'), once(b, 'connect')])
  t.teardown(() => { a.destroy(); b.destroy(); server.close() })
  const fa = channelFacts(a)
  t.same({ ...fa }, { tlsVersion: undefined, exporter: undefined, clientCertSha256: undefined, clientCert: undefined })
  t.ok(Object.isFrozen(fa))
  t.equal(channelFacts(b), fa, 'the same object for every plain connection')
})

t.test('TLS 1.3: the exporter is the 32 bytes the client computes, once per connection', async (t) => {
  const { connect } = await startTls(t)
  const one = await connect()
  const facts = channelFacts(one.server)
  t.equal(facts.tlsVersion, 'TLSv1.3')
  const exporter = facts.exporter
  t.ok(Buffer.isBuffer(exporter))
  t.equal(exporter!.length, 32)
  t.same([...exporter!], [...one.client.exportKeyingMaterial(32, LABEL, Buffer.alloc(0))], 'equals the client side (empty context)')
  t.same([...exporter!], [...noContext.call(one.client, 32, LABEL)], 'TLS 1.3: no context is the empty context')
  t.notSame([...exporter!], [...one.client.exportKeyingMaterial(32, 'EXPORTER-Other', Buffer.alloc(0))], 'the label matters')
  t.equal(channelFacts(one.server), facts, 'the same facts object for the same connection')
  t.equal(facts.exporter, exporter, 'the same Buffer: computed once')
  t.equal(facts.clientCertSha256, undefined, 'no client certificate')

  const two = await connect()
  const other = channelFacts(two.server)
  t.not(other, facts)
  t.notSame([...other.exporter!], [...exporter!], 'another connection, another value')
})

t.test('TLS 1.2: a version but no exporter', async (t) => {
  const { connect } = await startTls(t)
  const { server } = await connect({ maxVersion: 'TLSv1.2' })
  const facts = channelFacts(server)
  t.equal(facts.tlsVersion, 'TLSv1.2')
  t.equal(facts.exporter, undefined)
})

t.test('a client certificate: base64url SHA-256 of its DER', async (t) => {
  // The fixture PKI has one leaf certificate (serverAuth); OpenSSL lets a client
  // present it, and the server asks without verifying, so it serves here.
  const { connect } = await startTls(t, { requestCert: true, rejectUnauthorized: false })
  const { server } = await connect({ key: tlsFixtures.keyPem, cert: tlsFixtures.certPem })
  const want = createHash('sha256').update(new X509Certificate(tlsFixtures.certPem).raw).digest('base64url')
  const facts = channelFacts(server)
  t.equal(facts.clientCertSha256, want)
  t.equal(facts.clientCertSha256!.length, 43)

  const bare = await connect()
  t.equal(channelFacts(bare.server).clientCertSha256, undefined, 'asked for, none sent')
})

t.test('the client certificate as channel facts: DER, x5t#S256, chained or why not, SAN DNS names, subject, source', async (t) => {
  const { connect } = await startTls(t, { requestCert: true, rejectUnauthorized: false, ca: tlsFixtures.caPem })
  const alice = channelFacts((await connect({ key: clientCerts.alice.keyPem, cert: clientCerts.alice.certPem })).server).clientCert!
  const der = new X509Certificate(clientCerts.alice.certPem).raw
  t.same([...alice.der], [...der], 'the DER the client sent')
  t.equal(alice.x5tS256, createHash('sha256').update(der).digest('base64url'), 'RFC 8705 §3.1: base64url SHA-256 of the DER')
  t.match(alice.x5tS256, /^[A-Za-z0-9_-]{43}$/, '43 base64url characters, never hex')
  t.strictSame([alice.chained, alice.reason, alice.dnsNames, alice.subject, alice.source], [true, undefined, ['alice.test'], 'CN=alice.test, O=popgate tests', 'socket'])

  const other = channelFacts((await connect({ key: clientCerts.otherCa.keyPem, cert: clientCerts.otherCa.certPem })).server).clientCert!
  t.equal(other.chained, false, 'another CA: not chained')
  t.equal(other.reason, 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'and OpenSSL says why')
  t.strictSame(other.dnsNames, ['alice.test'], 'its names are still read (a bound token may use any certificate, RFC 8705 §2.2)')

  const expired = channelFacts((await connect({ key: clientCerts.expired.keyPem, cert: clientCerts.expired.certPem })).server).clientCert!
  t.strictSame([expired.chained, expired.reason], [false, 'CERT_HAS_EXPIRED'])
})

t.test('a listener that does not ask gets no certificate, whatever the client holds', async (t) => {
  const { connect } = await startTls(t)
  const { server } = await connect({ key: clientCerts.alice.keyPem, cert: clientCerts.alice.certPem })
  t.equal(channelFacts(server).clientCert, undefined)
})
