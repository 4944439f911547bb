// Certificate reload (docs/tls.md): the certificate and key swapped on disk
// the Kubernetes way (a new `..data` symlink renamed over the old one) are
// served to the next connection while an open one keeps working on the old;
// a broken pair swapped in keeps the old one and is logged once; the client
// CA reloads the same way.

import t from 'tap'
import tls from 'node:tls'
import { mkdir, mkdtemp, rm, copyFile, symlink, rename, readFile, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { X509Certificate } from 'node:crypto'
import { join } from 'node:path'
import { startUpstream, startTestGateway, waitFor } from '../../helpers/harness.js'
import { TLS_DIR, clientCerts, tlsFixtures } from '../../helpers/tls-fixtures.js'
import { h1Request, keepAliveGet } from '../../helpers/tls-client.js'

const subjectOf = (s: tls.TLSSocket) => s.getPeerX509Certificate()!.subject

/** Connects, and returns the server certificate's subject and a function sending one keep-alive request on that connection. */
async function connection(port: number, cert: typeof clientCerts.alice = clientCerts.alice) {
  const socket = tls.connect({ host: '127.0.0.1', port, servername: 'localhost', ca: tlsFixtures.caPem, ALPNProtocols: ['http/1.1'], cert: cert.certPem, key: cert.keyPem })
  await new Promise((r, j) => { socket.once('secureConnect', r); socket.once('error', j) })
  const get = keepAliveGet(socket)
  const request = async (path: string) => (await get(path)).status
  return { subject: subjectOf(socket), request, close: () => socket.destroy() }
}

/** A Kubernetes Secret volume: files are symlinks through `..data` to a timestamped folder. */
async function secretVolume(dir: string, files: Record<string, string>) {
  let n = 0
  const write = async (content: Record<string, string>) => {
    const folder = join(dir, `..2026_12_07_${n++}`)
    await mkdir(folder)
    for (const [name, from] of Object.entries(content)) await copyFile(from, join(folder, name))
    await symlink(folder, join(dir, '..data_tmp'))
    await rename(join(dir, '..data_tmp'), join(dir, '..data')) // atomic, as kubelet does
  }
  await write(files)
  for (const name of Object.keys(files)) await symlink(join('..data', name), join(dir, name))
  return { swap: write }
}

t.test('certificate swapped on disk: served to the next connection, the open one keeps working; a broken pair keeps the old', async (t) => {
  const up = await startUpstream()
  const secret = await mkdtemp(join(tmpdir(), 'popgate-secret-'))
  t.teardown(() => rm(secret, { recursive: true, force: true }))
  const vol = await secretVolume(secret, { 'tls.crt': join(TLS_DIR, 'server.pem'), 'tls.key': join(TLS_DIR, 'server.key'), 'ca.crt': tlsFixtures.caFile })
  const gw2 = await startTestGateway({
    upstream: up.url, watch: true,
    extraConfig: `tls:\n  listen: 127.0.0.1:0\n  cert: ${join(secret, 'tls.crt')}\n  key: ${join(secret, 'tls.key')}\n  clientCertificates: require\n  clientCa: ${join(secret, 'ca.crt')}\n`,
  })
  t.teardown(async () => { await gw2.close(); await up.close() })
  const port = gw2.gw.https!.port

  const before = await connection(port)
  t.teardown(() => before.close())
  t.equal(before.subject, 'CN=alice.test', 'the first certificate')
  t.equal(await before.request('/public/x'), 200)

  await vol.swap({ 'tls.crt': join(TLS_DIR, 'server-next.pem'), 'tls.key': join(TLS_DIR, 'server-next.key'), 'ca.crt': tlsFixtures.caFile })
  await waitFor(async () => { const c = await connection(port); c.close(); return c.subject === 'CN=next.localhost' })
  t.pass('a new connection gets the new certificate')
  t.equal(await before.request('/public/x'), 200, 'the open connection keeps working')
  t.equal(await gw2.metrics.value('popgate_tls_reloads_total', { result: 'reloaded' }), 1)
  t.ok(gw2.log.lines.some((l) => l.msg === 'TLS certificate reloaded'))

  // A broken pair: the new certificate with the old key.
  await vol.swap({ 'tls.crt': join(TLS_DIR, 'server.pem'), 'tls.key': join(TLS_DIR, 'server-next.key'), 'ca.crt': tlsFixtures.caFile })
  await waitFor(async () => (await gw2.metrics.value('popgate_tls_reloads_total', { result: 'refused' })) === 1)
  const after = await connection(port)
  t.teardown(() => after.close())
  t.equal(after.subject, 'CN=next.localhost', 'the last good certificate is still served')
  t.equal(await after.request('/public/x'), 200, 'the gateway is healthy')
  const refusals = () => gw2.log.lines.filter((l) => l.msg === 'TLS certificate reload refused; still serving the previous certificate')
  t.equal(refusals().length, 1, 'logged once')
  t.match(JSON.stringify(refusals()[0]!.problems), /not a usable pair/, 'saying why')
  process.kill(process.pid, 'SIGHUP') // another look at the same broken files
  await waitFor(() => gw2.log.lines.some((l) => l.reason === 'SIGHUP'))
  t.equal(refusals().length, 1, 'the same broken files are not logged again')
  t.equal(await gw2.metrics.value('popgate_tls_reloads_total', { result: 'refused' }), 1)

  // The client CA: a bundle that now trusts the other CA, swapped in with a good pair.
  const caBoth = join(gw2.dir, 'both-cas.pem')
  await writeFile(caBoth, (await readFile(tlsFixtures.caFile, 'utf8')) + (await readFile(clientCerts.otherCaFile, 'utf8')))
  t.equal((await h1Request(port, '/public/x', { cert: clientCerts.otherCa })).code, 'client_certificate_invalid', 'require: the other CA is not trusted yet')
  await vol.swap({ 'tls.crt': join(TLS_DIR, 'server-next.pem'), 'tls.key': join(TLS_DIR, 'server-next.key'), 'ca.crt': caBoth })
  await waitFor(async () => (await gw2.metrics.value('popgate_tls_reloads_total', { result: 'reloaded' })) === 2)
  t.equal(new X509Certificate(await readFile(join(secret, 'ca.crt'))).subject, 'CN=popgate test CA', 'the volume now holds both CAs')
  t.equal((await h1Request(port, '/public/x', { cert: clientCerts.otherCa })).status, 200, 'after the swap it is: the new client CA bundle is in use')
})
