// The CLI side of HTTP Message Signatures, as processes: `popgate keyhost
// --signatures-directory` (https) serves the key `keygen --alg Ed25519` made
// and `keyhost publish` published; `popgate fetch --http-signature --key
// --agent` signs a request to an origin that verifies it with popgate's
// verifier and that directory; wrong flags are usage errors.

import t from 'tap'
import http from 'node:http'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { AddressInfo } from 'node:net'
import { popgate, startPopgate, stopAll, oneLineFailure } from './cli-run.js'
import { TLS_DIR, tlsFixtures } from '../helpers/tls-fixtures.js'
import { keysConfig } from '../helpers/key-host.js'
import { createSignatureDirectoryReader } from '../../src/keys/signature-directory.js'
import { fieldsFromRaw } from '../../src/proofs/http-signature/base.js'
import { NO_DEMAND, readHttpSignature, verifyHttpSignature } from '../../src/proofs/http-signature/request.js'
import { EXIT } from '../../src/cli/usage.js'

t.setTimeout(120_000)
const dir = await mkdtemp(join(tmpdir(), 'popgate-cli-httpsig-'))
const reader = createSignatureDirectoryReader(keysConfig())
t.teardown(async () => { await stopAll(); await reader.close(); await rm(dir, { recursive: true, force: true }) })
const token = join(dir, 'publish-token')
await writeFile(token, 'keyhost-test-token-0123456789\n')

const results: string[] = []
const origin = http.createServer((req, res) => {
  const chunks: Buffer[] = []
  req.on('data', (c: Buffer) => chunks.push(c))
  req.on('end', () => {
    const m = { method: req.method!, scheme: 'http', authority: req.headers.host!, requestTarget: req.url!, fieldValues: fieldsFromRaw(req.rawHeaders) }
    const now = Math.floor(Date.now() / 1000)
    const settings = { authority: req.headers.host!, clockSkewSec: 5, maxValiditySec: 3600, tag: 'web-bot-auth', algorithms: new Set(['ed25519'] as const), allowHttp: [] }
    void (async () => {
      const claim = readHttpSignature(m, settings, { components: chunks.length ? ['content-digest'] : [], nonce: 'required' }, now)
      await verifyHttpSignature(claim, m, {
        getKey: (u, i, k) => reader.getKey(u, i, k), firstUse: async () => true, algorithms: settings.algorithms, clockSkewSec: 5, body: async () => Buffer.concat(chunks),
      }, now)
      return claim.identity
    })().then((identity) => { results.push(`ok ${identity}`); res.end(`hello ${identity}`) }, (err: { code?: string }) => { results.push(`refused ${err.code}`); res.writeHead(401).end() })
  })
})
await new Promise<void>((r) => origin.listen(0, '127.0.0.1', r))
const originUrl = `http://127.0.0.1:${(origin.address() as AddressInfo).port}`
t.teardown(() => { origin.closeAllConnections(); origin.close() })

t.test('keygen Ed25519, publish, keyhost --signatures-directory, fetch --http-signature: verified by the origin', async (t) => {
  const kh = startPopgate(['keyhost', '--identity', 'alice.test', '--listen', '127.0.0.1:0', '--token-file', token, '--signatures-directory',
    '--cert', join(TLS_DIR, 'server.pem'), '--key', join(TLS_DIR, 'server.key')])
  const port = (await kh.waitFor(/on https:\/\/127\.0\.0\.1:(\d+) /))[1]
  t.match(kh.out(), `https://alice.test:${port}/.well-known/http-message-signatures-directory`)
  const gen = await popgate(['keygen', '--identity', 'alice.test', '--out', join(dir, 'k'), '--alg', 'Ed25519'])
  t.equal(gen.code, 0, gen.stderr)
  const pub = await popgate(['keyhost', 'publish', '--url', `https://127.0.0.1:${port}`, '--token-file', token, '--jwk', join(dir, 'k', 'public.jwk.json'), '--cacert', tlsFixtures.caFile])
  t.equal(pub.code, 0, pub.stderr)
  const agent = `https://alice.test:${port}`
  const get = await popgate(['fetch', `${originUrl}/hello?x=1`, '--http-signature', '--key', join(dir, 'k', 'private.jwk.json'), '--agent', agent])
  t.equal(get.code, 0, get.stderr)
  t.equal(get.stdout, 'hello alice.test')
  const post = await popgate(['fetch', `${originUrl}/things`, '--http-signature', '--key', join(dir, 'k', 'private.jwk.json'), '--agent', agent, '-d', '{"a":1}', '-H', 'Content-Type: application/json'])
  t.equal(post.code, 0, post.stderr)
  t.same(results, ['ok alice.test', 'ok alice.test'])
})

t.test('usage errors', async (t) => {
  const key = join(dir, 'k', 'private.jwk.json')
  oneLineFailure(t, await popgate(['fetch', originUrl, '--http-signature', '--key', key]), EXIT.usage, 'no --agent', /--agent/)
  oneLineFailure(t, await popgate(['fetch', originUrl, '--http-signature', '--key', key, '--agent', 'http://alice.test']), EXIT.usage, 'http agent', /not an https URL/)
  oneLineFailure(t, await popgate(['fetch', originUrl, '--http-signature', '--key', key, '--agent', 'https://alice.test', '--identity', 'alice.test']), EXIT.usage, 'with --identity', /replaces --identity/)
  oneLineFailure(t, await popgate(['fetch', originUrl, '--agent', 'https://alice.test', '--identity', 'a.test', '--key', key, '--key-url', 'https://a.test/k']), EXIT.usage, '--agent alone', /goes with --http-signature/)
})
