// The gateway signs what it forwards (identityHeaders.signature), through a
// real gateway: the upstream verifies the `popgate` signature with the
// `http-message-signatures` library and the directory the gateway itself
// publishes (docs/upstream.md), checks Content-Digest against the body it
// received, and sees no client-sent Signature; a tampered request fails; a
// body over the bound is refused with 413 and nothing is forwarded.

import t, { type Test } from 'tap'
import { createHash, createPublicKey, generateKeyPairSync, type JsonWebKey } from 'node:crypto'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { IncomingHttpHeaders } from 'node:http'
import { httpbis, createVerifier } from 'http-message-signatures'
import { startUpstream, startTestGateway, rawRequest } from '../helpers/harness.js'
import { startKeyHost, keysConfig } from '../helpers/identity.js'
import { signDomainPopProof } from '../../src/client/proof.js'
import { SIGNATURES_DIRECTORY_PATH } from '../../src/proofs/http-signature/agent.js'
import { SIGNATURES_DIRECTORY_MEDIA_TYPE } from '../../src/keys/signature-directory.js'

const ORIGIN = 'https://gw.test'
const jwk = (kid: string) => JSON.stringify({ kid, ...generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' }) })

interface Received { method: string; url: string; headers: IncomingHttpHeaders; body: Buffer }

async function setup(t: Test, extra = '') {
  const dir = await mkdtemp(join(tmpdir(), 'popgate-fwdsig-'))
  const secretsFile = join(dir, 'secrets.yaml')
  await writeFile(secretsFile, `nonce: [{ id: n1, secret: ${'b'.repeat(43)} }]\nassertion:\n  - ${jwk('a2')}\n  - ${jwk('a1')}\n`)
  const up = await startUpstream()
  const received: Received[] = []
  up.handler = (req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      received.push({ method: req.method!, url: req.url!, headers: req.headers, body: Buffer.concat(chunks) })
      res.writeHead(200, { 'content-type': 'text/plain' }).end('upstream ok')
    })
  }
  const kh = await startKeyHost()
  const gw = await startTestGateway({
    upstream: up.url, publicOrigin: ORIGIN,
    extraConfig: `${keysConfig()}\nsecrets:\n  file: ${secretsFile}\nidentityHeaders:\n  signature: true\n  signatureMaxBody: 1KiB\n${extra}`,
  })
  t.teardown(async () => { await gw.close(); await up.close(); await kh.close(); await rm(dir, { recursive: true, force: true }) })
  return { up, gw, kh, received }
}

/** What docs/upstream.md tells an upstream to do: keys from the gateway's directory, any RFC 9421 library. */
async function upstreamVerifies(gwUrl: string, r: Received, required: string[]): Promise<boolean | null> {
  const dirRes = await rawRequest(gwUrl, { path: SIGNATURES_DIRECTORY_PATH })
  const keys = (JSON.parse(dirRes.body) as { keys: Array<JsonWebKey & { kid: string }> }).keys
  const ok = await httpbis.verifyMessage({
    keyLookup: async ({ keyid }) => {
      const k = keys.find((x) => x.kid === keyid)
      return k ? { id: k.kid, algs: ['ecdsa-p256-sha256'], verify: createVerifier(createPublicKey({ key: k, format: 'jwk' }), 'ecdsa-p256-sha256') } : null
    },
    requiredFields: required,
    requiredParams: ['created', 'expires', 'keyid'],
    maxAge: 60,
  }, { method: r.method, url: `http://${r.headers.host}${r.url}`, headers: r.headers as Record<string, string> })
  if (ok && r.body.length > 0) {
    const want = `sha-256=:${createHash('sha256').update(r.body).digest('base64')}:`
    if (r.headers['content-digest'] !== want) return false
  }
  return ok
}

t.test('an authenticated request: the upstream verifies the hop, identity headers and all', async (t) => {
  const { gw, kh, received } = await setup(t)
  const alice = await kh.publish('alice.test')
  const nonce = (await rawRequest(gw.url, { path: '/foo' })).headers['domainpop-nonce'] as string
  const proof = signDomainPopProof(alice.key, { identity: 'alice.test', keyUrl: alice.keyUrl, audience: ORIGIN, method: 'GET', path: '/foo', nonce })
  const res = await rawRequest(gw.url, { path: '/foo', headers: [['Authorization', `DomainPoP ${proof}`], ['Signature', 'popgate=:AAAA:'], ['Signature-Input', 'popgate=("@method");created=1']] })
  t.equal(res.status, 200)
  const r = received.at(-1)!
  t.match(r.headers['signature-input'], /^popgate=\("@method" "@target-uri" "x-pop-identity" "x-pop-auth-method" "x-pop-key-thumbprint"\);created=\d+;keyid="[A-Za-z0-9_-]{43}";alg="ecdsa-p256-sha256";expires=\d+;nonce="[^"]+";tag="popgate"$/)
  t.notMatch(r.headers.signature, /AAAA/, 'the client\'s Signature was dropped, not merged')
  t.equal(await upstreamVerifies(gw.url, r, ['@method', '@target-uri', 'x-pop-identity']), true)
  t.equal(await upstreamVerifies(gw.url, { ...r, headers: { ...r.headers, 'x-pop-identity': 'admin.test' } }, ['x-pop-identity']), false, 'a changed identity header does not verify')
  t.equal(await upstreamVerifies(gw.url, { ...r, url: '/other' }, []), false, 'nor another target')
})

t.test('a public POST with a body: Content-Digest over what was forwarded', async (t) => {
  const { gw, received } = await setup(t)
  const body = '{"hello": "world"}'
  const res = await rawRequest(gw.url, { method: 'POST', path: '/public/x?y=1', headers: [['Content-Type', 'application/json'], ['Content-Digest', 'sha-256=:forged=:']], body })
  t.equal(res.status, 200)
  const r = received.at(-1)!
  t.equal(r.body.toString(), body, 'the body arrived whole')
  t.match(r.headers['signature-input'], /^popgate=\("@method" "@target-uri" "content-digest"\);/)
  t.equal(await upstreamVerifies(gw.url, r, ['@method', '@target-uri', 'content-digest']), true)
  t.equal(await upstreamVerifies(gw.url, { ...r, body: Buffer.from('{"hello": "w0rld"}') }, []), false, 'a changed body fails its digest')
  const chunked = await rawRequest(gw.url, { method: 'POST', path: '/public/y', headers: [['Transfer-Encoding', 'chunked']], body: 'abc' })
  t.equal(chunked.status, 200)
  t.equal(await upstreamVerifies(gw.url, received.at(-1)!, ['content-digest']), true, 'a chunked body is digested too')
})

t.test('a body over identityHeaders.signatureMaxBody: 413, nothing forwarded; the directory is published', async (t) => {
  const { gw, received } = await setup(t)
  const before = received.length
  const res = await rawRequest(gw.url, { method: 'POST', path: '/public/x', body: 'x'.repeat(2048) })
  t.equal(res.status, 413)
  t.equal(JSON.parse(res.body).code, 'body_too_large')
  const chunked = await rawRequest(gw.url, { method: 'POST', path: '/public/x', headers: [['Transfer-Encoding', 'chunked']], body: 'x'.repeat(2048) })
  t.equal(chunked.status, 413, 'also without a Content-Length')
  t.equal(received.length, before, 'nothing reached the upstream')
  const ok = await rawRequest(gw.url, { path: '/public/ok' })
  t.equal(ok.status, 200, 'the gateway is healthy')
  const doc = await rawRequest(gw.url, { path: SIGNATURES_DIRECTORY_PATH })
  t.equal(doc.headers['content-type'], SIGNATURES_DIRECTORY_MEDIA_TYPE)
  t.equal(JSON.parse(doc.body).keys.length, 2, 'both assertion keys, public halves')
  t.notMatch(doc.body, /"d"/)
})

t.test('signature: true without assertion keys is refused at load', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'popgate-fwdsig-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  const secretsFile = join(dir, 'secrets.yaml')
  await writeFile(secretsFile, `nonce: [{ id: n1, secret: ${'b'.repeat(43)} }]\n`)
  const up = await startUpstream()
  t.teardown(() => up.close())
  await t.rejects(startTestGateway({ upstream: up.url, publicOrigin: ORIGIN, extraConfig: `secrets:\n  file: ${secretsFile}\nidentityHeaders:\n  signature: true\n` }), /identityHeaders\.signature is true but the secrets file lists no assertion keys/)
})
