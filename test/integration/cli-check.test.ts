// `popgate check` (issue 28). The replay store: without --connect it says
// the store was not connected (it used to print `ok` as if it had checked a
// Redis nobody listens on); with --connect it writes one throw-away key as a
// proof would, and fails with exit 69 when nobody answers. And a
// `channelBinding: required` rule under a config with no TLS listener, which
// can never allow anyone, is warned about (acl lint notes it).

import t from 'tap'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { popgate, ROOT } from './cli-run.js'
import { freePort } from '../helpers/harness.js'
import { NO_REDIS, redisServerBinary, startRedisServer } from '../helpers/redis-server.js'

const dir = await mkdtemp(join(tmpdir(), 'popgate-check-connect-'))
t.teardown(() => rm(dir, { recursive: true, force: true }))
await writeFile(join(dir, 'acl.yaml'), 'version: 1\nrules: []\n')
const config = async (name: string, replay: string) => {
  await writeFile(join(dir, name), `listen: 127.0.0.1:0\npublicOrigin: https://gw.test\nupstream: http://127.0.0.1:3000\nacl: ./acl.yaml\n${replay}`)
  return join(dir, name)
}

t.test('a Redis nobody listens on: "not connected" without --connect, exit 69 with it', async (t) => {
  const port = await freePort()
  const file = await config('down.yaml', `replay:\n  store: redis\n  url: redis://:hunter2@127.0.0.1:${port}\n`)
  const plain = await popgate(['check', '--config', file])
  t.equal(plain.code, 0, plain.stderr)
  t.match(plain.stdout, new RegExp(`replay store: redis at 127\\.0\\.0\\.1:${port}: not connected \\(popgate check --connect connects to it\\)`))
  const connect = await popgate(['check', '--config', file, '--connect'])
  t.equal(connect.code, 69, 'EX_UNAVAILABLE')
  t.match(connect.stderr, /replay store: redis at 127\.0\.0\.1:\d+: .*proofs would get 503 replay_store_unavailable/)
  t.ok(connect.stderr.endsWith('\n'))
  t.notMatch(connect.stdout + connect.stderr, /hunter2/, 'the password is never printed')
})

t.test('a memory store has nothing to connect to', async (t) => {
  const r = await popgate(['check', '--config', await config('memory.yaml', ''), '--connect'])
  t.equal(r.code, 0, r.stderr)
  t.match(r.stdout, /replay store: memory \(in the process; nothing to connect to\)/)
})

t.test('a Redis that answers: connected', { skip: redisServerBinary() ? false : NO_REDIS }, async (t) => {
  const redis = await startRedisServer()
  t.teardown(() => redis.close())
  const r = await popgate(['check', '--config', await config('up.yaml', `replay:\n  store: redis\n  url: ${redis.url}\n`), '--connect'])
  t.equal(r.code, 0, r.stderr)
  t.match(r.stdout, new RegExp(`replay store: redis at 127\\.0\\.0\\.1:${redis.port}: connected, a test key written`))
})

t.test('channelBinding: required without a TLS listener: check warns, lint notes it, a TLS listener quiets check', async (t) => {
  await writeFile(join(dir, 'cb.yaml'), 'version: 1\nrules:\n  - id: bound\n    path: /bound/**\n    read: [alice.test]\n    channelBinding: required\n  - id: plain\n    path: /plain/**\n    read: [alice.test]\n')
  const base = 'listen: 127.0.0.1:0\npublicOrigin: https://gw.test\nupstream: http://127.0.0.1:3000\nacl: ./cb.yaml\n'
  await writeFile(join(dir, 'cb-plain.yaml'), base)
  const plain = await popgate(['check', '--config', join(dir, 'cb-plain.yaml')])
  t.equal(plain.code, 0, 'a warning, not a problem')
  const warnings = plain.stdout.split('\n').filter((l) => l.startsWith('warning: '))
  t.match(warnings, [/cb\.yaml:3:5: rules\[0\] \(bound\): channelBinding: required can never be met: this config has no TLS listener/])
  t.equal(warnings.length, 1, 'only the bound rule')

  const tlsDir = join(ROOT, 'test/fixtures/tls')
  await writeFile(join(dir, 'cb-tls.yaml'), `${base}tls:\n  listen: 127.0.0.1:0\n  cert: ${tlsDir}/server.pem\n  key: ${tlsDir}/server.key\n`)
  const withTls = await popgate(['check', '--config', join(dir, 'cb-tls.yaml')])
  t.equal(withTls.code, 0, withTls.stderr)
  t.notMatch(withTls.stdout, /channelBinding/)

  const lint = await popgate(['acl', 'lint', '--acl', join(dir, 'cb.yaml')])
  t.equal(lint.code, 0, 'a note does not fail lint')
  t.match(lint.stdout, /rules\[0\] \(bound\): channelBinding: required is met only on the gateway's own TLS 1\.3 listener/)
})

t.test('a rule that needs a client certificate under a config with no certificate source: check warns; a listener that asks for one quiets it', async (t) => {
  await writeFile(join(dir, 'cc.yaml'), 'version: 1\nrules:\n  - id: cc\n    path: /cc/**\n    read: [alice.test]\n    clientCertificate: required\n  - id: bound\n    path: /bound/**\n    read: [alice.test]\n    require: [certificate-bound]\n  - id: fwd\n    path: /fwd/**\n    read: [alice.test]\n    forwardClientCert: true\n  - id: plain\n    path: /plain/**\n    read: [alice.test]\n')
  const base = 'listen: 127.0.0.1:0\npublicOrigin: https://gw.test\nupstream: http://127.0.0.1:3000\nacl: ./cc.yaml\n'
  const tlsDir = join(ROOT, 'test/fixtures/tls')
  const tls = (mode: string) => `tls:\n  listen: 127.0.0.1:0\n  cert: ${tlsDir}/server.pem\n  key: ${tlsDir}/server.key\n  clientCertificates: ${mode}\n`
  for (const [name, extra] of [['cc-plain.yaml', ''], ['cc-none.yaml', tls('none')]] as const) {
    await writeFile(join(dir, name), base + extra)
    const r = await popgate(['check', '--config', join(dir, name)])
    t.equal(r.code, 0, `${name}: a warning, not a problem (${r.stderr})`)
    const warnings = r.stdout.split('\n').filter((l) => l.startsWith('warning: '))
    t.match(warnings, [
      /cc\.yaml:3:5: rules\[0\] \(cc\): clientCertificate: required can never be met: this config has no certificate source .* \(client_certificate_required\)/,
      /cc\.yaml:7:5: rules\[1\] \(bound\): require: \[certificate-bound\] can never be met: .* \(credentials_not_accepted\)/,
      /cc\.yaml:11:5: rules\[2\] \(fwd\): forwardClientCert: true forwards nothing/,
    ], name)
    t.equal(warnings.length, 3, `${name}: not the plain rule`)
  }
  await writeFile(join(dir, 'cc-request.yaml'), base + tls('request'))
  const asks = await popgate(['check', '--config', join(dir, 'cc-request.yaml')])
  t.equal(asks.code, 0, asks.stderr)
  t.notMatch(asks.stdout, /certificate source|forwards nothing/)

  const lint = await popgate(['acl', 'lint', '--acl', join(dir, 'cc.yaml')])
  t.equal(lint.code, 0, 'a note does not fail lint')
  t.match(lint.stdout, /rules\[0\] \(cc\): clientCertificate: required: met only when the gateway has a certificate source/)
  // `require: [mtls]` needs no warning here: with no certificate source the mtls scheme is off, and check refuses the name outright.
})
