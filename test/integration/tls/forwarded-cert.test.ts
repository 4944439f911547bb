// RFC 9440 Client-Cert at the front door (tls/front-door.ts): read only from
// a trusted hop with forwardedClientCert configured, a malformed one from
// that hop refused with 400, anyone else's ignored; never forwarded upstream.

import t from 'tap'
import { X509Certificate } from 'node:crypto'
import type { Test } from 'tap'
import { startUpstream, startTestGateway, rawRequest } from '../../helpers/harness.js'
import { clientCerts, tlsFixtures } from '../../helpers/tls-fixtures.js'

const field = (pem: string) => `:${new X509Certificate(pem).raw.toString('base64')}:`

async function gateway(t: Test, trusted: string) {
  const up = await startUpstream()
  const gw = await startTestGateway({ upstream: up.url, extraConfig: `trustedProxies: [${trusted}]\nforwardedClientCert:\n  ca: ${tlsFixtures.caFile}\nlimits:\n  maxHeaderBytes: 64KiB\n` })
  t.teardown(async () => { await gw.close(); await up.close() })
  return { gw, up }
}

t.test('from a trusted hop: a good Client-Cert passes (and is not forwarded), a malformed one is 400', async (t) => {
  const { gw, up } = await gateway(t, '127.0.0.1')
  const ok = await rawRequest(gw.url, { path: '/public/x', headers: [['Client-Cert', field(clientCerts.alice.certPem)], ['Client-Cert-Chain', field(tlsFixtures.caPem)]] })
  t.equal(ok.status, 200)
  t.notOk(up.seen.at(-1)!.headers['client-cert'], 'Client-Cert is not forwarded')
  t.notOk(up.seen.at(-1)!.headers['client-cert-chain'], 'nor Client-Cert-Chain')
  for (const [what, value] of [['not a byte sequence', 'MIIBxyz'], ['not a certificate', ':aGVsbG8=:'], ['oversized', `:${'A'.repeat(20_000)}:`]] as const) {
    const bad = await rawRequest(gw.url, { path: '/public/x', headers: [['Client-Cert', value]] })
    t.equal(bad.status, 400, what)
    t.equal(JSON.parse(bad.body).code, 'client_cert_header_invalid', what)
  }
  const twice = await rawRequest(gw.url, { path: '/public/x', headers: [['Client-Cert', field(clientCerts.alice.certPem)], ['Client-Cert', field(clientCerts.bob.certPem)]] })
  t.equal(JSON.parse(twice.body).code, 'client_cert_header_invalid', 'two fields')
  t.equal(up.seen.length, 1, 'no refused request reached the upstream')
  t.ok(gw.log.lines.some((l) => l.msg === 'access' && l.code === 'client_cert_header_invalid'), 'refusals have their access line')
})

t.test('from anyone else: Client-Cert is ignored, whatever it holds, and stripped', async (t) => {
  const { gw, up } = await gateway(t, '10.0.0.1')
  const res = await rawRequest(gw.url, { path: '/public/x', headers: [['Client-Cert', 'garbage'], ['client-cert-chain', 'more']] })
  t.equal(res.status, 200, 'not even parsed')
  t.notOk(up.seen.at(-1)!.headers['client-cert'])
  t.notOk(up.seen.at(-1)!.headers['client-cert-chain'])
})
