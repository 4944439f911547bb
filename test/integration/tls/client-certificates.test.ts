// The TLS listener's client certificates (docs/tls.md): `require` answers a
// client without a certificate that chains to tls.clientCa with 403 and a
// code saying why, on HTTP/1.1, HTTP/2 and upgrades, and logs it; `request`
// lets every client in and leaves the certificate to the gate; `none`
// never asks.

import t from 'tap'
import { join } from 'node:path'
import { startUpstream, startTestGateway } from '../../helpers/harness.js'
import { clientCerts, tlsFixtures, TLS_DIR } from '../../helpers/tls-fixtures.js'
import { h1Request, h2Connect } from '../../helpers/tls-client.js'
import tls from 'node:tls'
import type { Test } from 'tap'

const tlsConfig = (extra: string) => `tls:\n  listen: 127.0.0.1:0\n  cert: ${join(TLS_DIR, 'server.pem')}\n  key: ${join(TLS_DIR, 'server.key')}\n${extra}`

async function gateway(t: Test, extra: string) {
  const up = await startUpstream()
  const gw = await startTestGateway({ upstream: up.url, extraConfig: tlsConfig(extra) })
  t.teardown(async () => { await gw.close(); await up.close() })
  return { gw, up, port: gw.gw.https!.port }
}

t.test('require: no certificate, another CA, expired → 403 with the reason; a chained one gets through to the gate', async (t) => {
  const { gw, port, up } = await gateway(t, `  clientCertificates: require\n  clientCa: ${tlsFixtures.caFile}\n`)
  const none = await h1Request(port, '/public/x')
  t.strictSame([none.status, none.code], [403, 'client_certificate_required'], 'no certificate, even on a public route')
  t.equal(none.headers['content-type'], 'application/problem+json')
  t.notOk(none.headers['www-authenticate'], 'no HTTP authentication scheme fixes this: no challenge')
  const other = await h1Request(port, '/public/x', { cert: clientCerts.otherCa })
  t.strictSame([other.status, other.code], [403, 'client_certificate_invalid'])
  t.match(JSON.parse(other.body).detail, /UNABLE_TO_VERIFY_LEAF_SIGNATURE/, 'the detail names OpenSSL\'s reason')
  const expired = await h1Request(port, '/public/x', { cert: clientCerts.expired })
  t.strictSame([expired.status, expired.code], [403, 'client_certificate_invalid'])
  t.match(JSON.parse(expired.body).detail, /CERT_HAS_EXPIRED/)
  t.equal(up.seen.length, 0, 'nothing refused reached the upstream')

  const ok = await h1Request(port, '/public/x', { cert: clientCerts.alice })
  t.equal(ok.status, 200, 'a chained certificate: the public route answers')
  const gated = await h1Request(port, '/foo', { cert: clientCerts.alice })
  t.equal(gated.status, 200, 'on a protected route the certificate is the credential (the mtls scheme: test/integration/tls/mtls-scheme.test.ts)')
  t.equal(up.seen.at(-1)!.headers['x-pop-identity'], 'alice.test')

  const access = gw.log.lines.filter((l) => l.msg === 'access' && l.code === 'client_certificate_required')
  t.equal(access.length, 1, 'the refusal has its access line')
  t.equal(access[0]!.status, 403)
  t.equal(await gw.metrics.value('popgate_requests_total', { decision: 'error', code: 'client_certificate_invalid' }), 2, 'and is counted')

  const h2 = await h2Connect(port)
  t.teardown(() => h2.close())
  const h2none = await h2.request({ ':path': '/public/x' })
  t.strictSame([h2none.status, h2none.code], [403, 'client_certificate_required'], 'HTTP/2: the same answer')
  const h2ok = await h2Connect(port, { cert: clientCerts.alice })
  t.teardown(() => h2ok.close())
  t.equal((await h2ok.request({ ':path': '/public/x' })).status, 200, 'HTTP/2 with a chained certificate')

  const upgrade = await new Promise<string>((resolve, reject) => {
    const s = tls.connect({ host: '127.0.0.1', port, servername: 'localhost', ca: tlsFixtures.caPem, ALPNProtocols: ['http/1.1'] }, () =>
      s.end('GET /public/ws HTTP/1.1\r\nHost: gw.test\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n'))
    let out = ''
    s.on('data', (c) => { out += c })
    s.on('close', () => resolve(out))
    s.on('error', reject)
  })
  t.match(upgrade, /^HTTP\/1\.1 403 /, 'a WebSocket upgrade without a certificate: 403 too')
  t.match(upgrade, /client_certificate_required/)
})

t.test('request: every client gets in; none: a client\'s certificate is never asked for', async (t) => {
  const req = await gateway(t, '  clientCertificates: request\n')
  t.equal((await h1Request(req.port, '/public/x')).status, 200, 'request: no certificate is fine')
  t.equal((await h1Request(req.port, '/public/x', { cert: clientCerts.otherCa })).status, 200, 'request: a certificate from any CA is fine (the gate decides)')
  const none = await gateway(t, '')
  t.equal((await h1Request(none.port, '/public/x', { cert: clientCerts.alice })).status, 200, 'none: the offered certificate is not sent and nothing breaks')
})
