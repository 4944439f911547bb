// HTTP/2 on the TLS listener (docs/tls.md): every request goes through the
// same gate as HTTP/1.1 with the same codes; `:authority` is validated as
// Host is and becomes the upstream's Host; a body without Content-Length is
// forwarded (chunked, HTTP/1.1 upstream); channel binding is per connection;
// streams beyond maxConcurrentStreams are refused and the gateway stays
// healthy; no per-request warnings for the upstream's connection fields.

import t from 'tap'
import http2 from 'node:http2'
import { join } from 'node:path'
import { startUpstream, startTestGateway } from '../../helpers/harness.js'
import { startKeyHost, keysConfig } from '../../helpers/identity.js'
import { TLS_DIR } from '../../helpers/tls-fixtures.js'
import { h1Request, h2Connect, rawH2Flood } from '../../helpers/tls-client.js'
import { signDomainPopProof } from '../../../src/client/proof.js'

const ORIGIN = 'https://gw.test'
const ACL = `version: 1
rules:
  - path: /public/**
    public: true
  - path: /bound
    read: [alice.test]
    channelBinding: required
  - path: /foo
    read: [alice.test]
    write: [alice.test]
  - path: /ro
    read: [alice.test]
`

t.test('HTTP/2 through the same gate', async (t) => {
  const warnings: string[] = []
  const onWarning = (w: Error) => warnings.push(w.message)
  process.on('warning', onWarning)
  const up = await startUpstream()
  // A typical HTTP/1.1 upstream answer: keep-alive fields an h2 response must not carry, and one more connection-specific field.
  up.handler = (req, res) => {
    let n = 0
    req.on('data', (c: Buffer) => { n += c.length })
    req.on('end', () => { res.writeHead(200, { 'content-type': 'text/plain', 'keep-alive': 'timeout=5', connection: 'keep-alive', 'http2-settings': 'AAMAAABkAAQAoAAAAAIAAAAA', 'x-body-bytes': String(n) }); res.end('upstream ok') })
  }
  const kh = await startKeyHost()
  const gw = await startTestGateway({
    upstream: up.url, publicOrigin: ORIGIN, acl: ACL,
    extraConfig: `${keysConfig()}\ntls:\n  listen: 127.0.0.1:0\n  cert: ${join(TLS_DIR, 'server.pem')}\n  key: ${join(TLS_DIR, 'server.key')}\n  http2:\n    maxConcurrentStreams: 4\n`,
  })
  const port = gw.gw.https!.port
  t.teardown(async () => { process.off('warning', onWarning); await gw.close(); await up.close(); await kh.close() })
  const { key, keyUrl } = await kh.publish('alice.test')
  const h2 = await h2Connect(port)
  t.teardown(() => h2.close())
  t.equal(h2.session.alpnProtocol, 'h2', 'ALPN chose h2')

  const challenge = await h2.request({ ':path': '/foo' })
  const h1challenge = await h1Request(port, '/foo')
  t.strictSame([challenge.status, challenge.code], [h1challenge.status, h1challenge.code], 'no proof: the same answer as HTTP/1.1')
  t.equal(challenge.code, 'credentials_missing')
  t.match(challenge.headers['www-authenticate'], /^DomainPoP /)
  const nonce = challenge.headers['domainpop-nonce'] as string
  const proof = (method: string, path: string, extraClaims: Record<string, unknown> = {}) => 'DomainPoP ' + signDomainPopProof(key, { identity: 'alice.test', keyUrl, audience: ORIGIN, method, path, nonce, extraClaims })

  const ok = await h2.request({ ':path': '/foo?x=1', authorization: proof('GET', '/foo') })
  t.equal(ok.status, 200, 'a proof: accepted')
  const seen = up.seen.at(-1)!
  t.equal(seen.headers['x-pop-identity'], 'alice.test')
  t.equal(seen.headers.host, 'gw.test', ':authority became the upstream\'s Host')
  t.equal(seen.url, '/foo?x=1')
  t.notOk(seen.rawHeaders.some((n, i) => i % 2 === 0 && n.startsWith(':')), 'no pseudo-header reached the upstream')
  t.equal(ok.headers['x-body-bytes'], '0')
  t.notOk(ok.headers.connection ?? ok.headers['keep-alive'] ?? ok.headers['http2-settings'], 'connection-specific fields dropped from the h2 response')

  const replayed = await h2.request({ ':path': '/foo', authorization: proof('GET', '/foo', { jti: 'same-jti-1' }) })
  t.equal(replayed.status, 200)
  const again = await h2.request({ ':path': '/foo', authorization: proof('GET', '/foo', { jti: 'same-jti-1' }) })
  const h1again = await h1Request(port, '/foo', { headers: { authorization: proof('GET', '/foo', { jti: 'same-jti-1' }) } })
  t.strictSame([again.status, again.code], [401, 'proof_replayed'], 'a replay on h2: the same code…')
  t.strictSame([h1again.status, h1again.code], [again.status, again.code], '…as on HTTP/1.1')
  const forbidden = await h2.request({ ':path': '/ro', ':method': 'DELETE', authorization: proof('DELETE', '/ro') })
  t.strictSame([forbidden.status, forbidden.code], [403, 'forbidden'], 'the ACL applies')

  const body = 'x'.repeat(70_000)
  const post = await h2.request({ ':path': '/foo', ':method': 'POST', authorization: proof('POST', '/foo') }, body)
  t.equal(post.status, 200, 'a body without Content-Length')
  t.equal(post.headers['x-body-bytes'], String(body.length), 'reached the upstream whole (chunked)')
  const getBody = await h2.request({ ':path': '/public/x' }, 'sneaky')
  t.strictSame([getBody.status, getBody.code], [400, 'body_not_allowed'], 'a GET with a body on h2 is seen as one')

  const bound = await h2.request({ ':path': '/bound', authorization: proof('GET', '/bound', { cb: h2.cb }) })
  t.equal(bound.status, 200, 'channel binding: the h2 connection\'s exporter')
  t.equal(up.seen.at(-1)!.headers['x-pop-channel-bound'], 'true')
  const other = await h2Connect(port)
  t.teardown(() => other.close())
  const stolen = await other.request({ ':path': '/bound', authorization: proof('GET', '/bound', { cb: h2.cb }) })
  t.strictSame([stolen.status, stolen.code], [401, 'channel_binding_mismatch'], 'the same binding on another h2 connection')

  t.strictSame(warnings.filter((w) => /connection header|http2/i.test(w)), [], 'no per-request warnings')
})

t.test(':authority is validated exactly as Host', async (t) => {
  const up = await startUpstream()
  const gw = await startTestGateway({ upstream: up.url, extraConfig: `tls:\n  listen: 127.0.0.1:0\n  cert: ${join(TLS_DIR, 'server.pem')}\n  key: ${join(TLS_DIR, 'server.key')}\n` })
  const port = gw.gw.https!.port
  t.teardown(async () => { await gw.close(); await up.close() })
  const h2 = await h2Connect(port)
  t.teardown(() => h2.close())
  for (const bad of ['gw.test/evil', 'gw.test:99999', 'a,b', 'gw.test;x', '%2e.test', 'gw.test:', 'a b', 'gw.test@x']) {
    // nghttp2 itself resets a stream whose :authority holds a character RFC 3986 never allows there (RFC 9113 §8.1.1: malformed).
    const res = await h2.request({ ':path': '/public/x', ':authority': bad }).catch((err: Error & { code?: string }) => ({ status: 0, code: err.message.includes('PROTOCOL_ERROR') ? 'reset' : err.message }))
    const h1 = await h1Request(port, '/public/x', { headers: { host: bad } }).catch(() => ({ status: 0, code: 'h1 client refused' }))
    t.ok((res.status === 400 && res.code === 'bad_request') || res.code === 'reset', `:authority ${bad}: ${res.status} ${res.code}`)
    t.equal(h1.status === 0 || h1.code === 'bad_request', true, `Host ${bad}: refused too (${h1.status} ${h1.code})`)
  }
  const both = await h2.request({ ':path': '/public/x', host: 'other.test' })
  t.strictSame([both.status, both.code], [400, 'bad_request'], ':authority and a Host: two Hosts')
  t.equal(up.seen.length, 0, 'none reached the upstream')
  // Node's client always sends :authority; an empty one is malformed (RFC 9113 §8.3.1) and nghttp2 resets it.
  const empty = await h2.request({ ':path': '/public/x', ':authority': '' }).then((r) => `${r.status} ${r.code}`, (err: Error) => err.message.includes('PROTOCOL_ERROR') ? 'reset' : err.message)
  t.ok(empty === 'reset' || empty === '400 bad_request', `an empty :authority: ${empty}`)
  t.equal(up.seen.length, 0, 'still nothing reached the upstream')
})

t.test('a flood of streams: the ones beyond maxConcurrentStreams are refused, the gateway stays healthy', async (t) => {
  const up = await startUpstream()
  const held: Array<() => void> = []
  up.handler = (_req, res) => { held.push(() => { res.writeHead(200); res.end('late') }) }
  const gw = await startTestGateway({ upstream: up.url, extraConfig: `tls:\n  listen: 127.0.0.1:0\n  cert: ${join(TLS_DIR, 'server.pem')}\n  key: ${join(TLS_DIR, 'server.key')}\n  http2:\n    maxConcurrentStreams: 3\n` })
  const port = gw.gw.https!.port
  t.teardown(async () => { await gw.close(); await up.close() })
  const h2 = await h2Connect(port)
  t.teardown(() => h2.close())
  await new Promise<void>((r) => h2.session.once('remoteSettings', () => r()))
  t.equal(h2.session.remoteSettings.maxConcurrentStreams, 3, 'the server announces the limit (Node\'s default is unlimited)')
  // A client that ignores the announced limit: 40 streams written at once on one connection.
  const flood = await rawH2Flood(port, 40, '/public/slow', 500)
  t.ok(held.length <= 3, `at most 3 streams reached the upstream (${held.length})`)
  t.ok(flood.refused >= 37 - held.length, `the rest were refused with REFUSED_STREAM (${flood.refused})`)
  flood.close()
  for (const f of held.splice(0)) f()
  up.handler = (_req, res) => { res.writeHead(200); res.end('ok') }
  const fresh = await h2Connect(port)
  t.teardown(() => fresh.close())
  t.equal((await fresh.request({ ':path': '/public/after' })).status, 200, 'a new connection is served afterwards')
  t.equal((await h1Request(port, '/public/after')).status, 200, 'and HTTP/1.1 too')
})

t.test('drain: an HTTP/2 request in flight finishes, the session is told to go away, nothing is cut', async (t) => {
  const up = await startUpstream()
  let release: (() => void) | undefined
  up.handler = (_req, res) => { release = () => { res.writeHead(200); res.end('late') } }
  const gw = await startTestGateway({ upstream: up.url, extraConfig: `tls:\n  listen: 127.0.0.1:0\n  cert: ${join(TLS_DIR, 'server.pem')}\n  key: ${join(TLS_DIR, 'server.key')}\n` })
  t.teardown(async () => { await gw.close(); await up.close() })
  const h2 = await h2Connect(gw.gw.https!.port)
  t.teardown(() => h2.close())
  const goaway = new Promise<void>((r) => h2.session.once('goaway', () => r()))
  const pending = h2.request({ ':path': '/public/slow' })
  while (release === undefined) await new Promise((r) => setTimeout(r, 10))
  const drained = gw.gw.drain(5_000)
  await goaway
  t.pass('GOAWAY received while the stream was open')
  release()
  t.equal((await pending).status, 200, 'the open stream finished')
  t.strictSame(await drained, { cut: 0 }, 'nothing was cut')
})
