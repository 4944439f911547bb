// `popgate fetch --cert/--cert-key` presents a client certificate and
// `--channel-binding` binds every DomainPoP proof to the CLI's own TLS 1.3
// connection: a child process against an in-process gateway that requires
// both (tls.clientCertificates: require, channelBinding: required).

import t from 'tap'
import { mkdtemp, rm, writeFile, readFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startUpstream, startTestGateway } from '../../helpers/harness.js'
import { startKeyHost, keysConfig } from '../../helpers/identity.js'
import { TLS_DIR, clientCerts, tlsFixtures, CHANNEL_BOUND_ACL } from '../../helpers/tls-fixtures.js'
import { saveClientKey } from '../../../src/client/keys.js'
import { popgate, stopAll, oneLineFailure } from '../cli-run.js'

const ORIGIN = 'https://gw.test'
const ACL = CHANNEL_BOUND_ACL
t.setTimeout(120_000)

t.test('popgate fetch with a client certificate and channel binding', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'popgate-cli-tls-'))
  const up = await startUpstream()
  const kh = await startKeyHost()
  const gw = await startTestGateway({
    upstream: up.url, publicOrigin: ORIGIN, acl: ACL,
    extraConfig: `${keysConfig()}\ntls:\n  listen: 127.0.0.1:0\n  cert: ${join(TLS_DIR, 'server.pem')}\n  key: ${join(TLS_DIR, 'server.key')}\n  clientCertificates: require\n  clientCa: ${tlsFixtures.caFile}\n`,
  })
  t.teardown(async () => { await stopAll(); await gw.close(); await up.close(); await kh.close(); await rm(dir, { recursive: true, force: true }) })
  const { key, keyUrl } = await kh.publish('alice.test')
  const { privateFile } = await saveClientKey(key, join(dir, 'alice'))
  const url = `https://127.0.0.1:${gw.gw.https!.port}/bound`
  const base = [url, '--identity', 'alice.test', '--key', privateFile, '--key-url', keyUrl, '--audience', ORIGIN, '--cacert', tlsFixtures.caFile]
  const cert = ['--cert', clientCerts.alice.certFile, '--cert-key', clientCerts.alice.keyFile]

  const ok = await popgate(['fetch', ...base, ...cert, '--channel-binding', '-i'])
  t.equal(ok.code, 0, ok.stderr)
  t.match(ok.stdout, /^HTTP 200 /)
  t.equal(up.seen.at(-1)!.headers['x-pop-channel-bound'], 'true', 'the proof was bound to the CLI\'s connection')

  const combined = join(dir, 'alice-combined.pem')
  await writeFile(combined, (await readFile(clientCerts.alice.certFile, 'utf8')) + (await readFile(clientCerts.alice.keyFile, 'utf8')))
  t.equal((await popgate(['fetch', ...base, '--cert', combined, '--channel-binding'])).code, 0, '--cert with the key in the same file (like curl)')

  const noCert = await popgate(['fetch', ...base, '--channel-binding', '-i'])
  t.equal(noCert.code, 1, 'no certificate: refused')
  t.match(noCert.stdout, /client_certificate_required/)
  const unbound = await popgate(['fetch', ...base, ...cert, '-i'])
  t.equal(unbound.code, 1, 'no binding on a rule that requires one')
  t.match(unbound.stdout, /channel_binding_mismatch/)

  oneLineFailure(t, await popgate(['fetch', url.replace('https:', 'http:'), '--identity', 'a.test', '--key', privateFile, '--key-url', keyUrl, '--channel-binding']), 2, 'http', /needs an https URL/)
  oneLineFailure(t, await popgate(['fetch', ...base, '--cert', clientCerts.alice.certFile, '--channel-binding']), 2, 'no key for the certificate', /holds no private key; give it with --cert-key/)
  oneLineFailure(t, await popgate(['fetch', ...base, '--cert', clientCerts.alice.keyFile, '--cert-key', clientCerts.alice.keyFile]), 66, 'a key given as the certificate', /--cert .*: not a PEM certificate file/)
  oneLineFailure(t, await popgate(['fetch', ...base, '--cert-key', clientCerts.alice.keyFile]), 2, '--cert-key alone', /--cert-key needs --cert/)
})
