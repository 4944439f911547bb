// Gateway core over real sockets: public routes, challenges, header hygiene,
// X-Forwarded-*, hop-by-hop, upstream failures, streaming, aborts, logs.

import t from 'tap'
import http from 'node:http'
import net from 'node:net'
import { Readable } from 'node:stream'
import { startUpstream, startTestGateway, rawRequest, rawSocket, waitFor } from '../helpers/harness.js'
import { parseChallenges } from '../../src/http/auth-header.js'

t.test('public route is forwarded; the upstream sees X-Forwarded-* and no identity', async (t) => {
  const up = await startUpstream()
  const gw = await startTestGateway({ upstream: up.url })
  t.teardown(async () => { await gw.close(); await up.close() })
  const res = await rawRequest(gw.url, { path: '/public/a?x=1&y=%2F', headers: [['X-Forwarded-For', '6.6.6.6'], ['X-Forwarded-Host', 'evil.test']] })
  t.equal(res.status, 200)
  t.equal(res.body, 'upstream ok')
  t.equal(up.seen.length, 1)
  const seen = up.seen[0]!
  t.equal(seen.url, '/public/a?x=1&y=%2F', 'query forwarded byte for byte')
  t.equal(seen.headers['x-forwarded-for'], '127.0.0.1', 'untrusted X-Forwarded-For replaced, not appended')
  t.equal(seen.headers['x-forwarded-host'], 'gw.test', 'X-Forwarded-Host names the configured publicOrigin, not the client\'s Host')
  t.equal(seen.headers['x-forwarded-proto'], 'http')
  t.notOk(seen.headers['x-pop-identity'])
})

t.test('incoming identity headers never reach the upstream, whatever their spelling', async (t) => {
  const up = await startUpstream()
  const gw = await startTestGateway({ upstream: up.url })
  t.teardown(async () => { await gw.close(); await up.close() })
  const spoof: [string, string][] = [
    ['X-PoP-Identity', 'admin.example'], ['X_PoP_Identity', 'admin.example'], ['x-pop-auth-method', 'domainpop'],
    ['X-POP-KEY-THUMBPRINT', 'x'], ['x_pop-channel_bound', 'true'], ['X-PoP-Anything-Else', '1'],
  ]
  const res = await rawRequest(gw.url, { path: '/public/x', headers: spoof })
  t.equal(res.status, 200)
  const names = up.seen[0]!.rawHeaders.filter((_, i) => i % 2 === 0).map((n) => n.toLowerCase().replaceAll('_', '-'))
  t.same(names.filter((n) => n.startsWith('x-pop-')), [], 'no x-pop-* header of any spelling was forwarded')
})

t.test('trusted proxies: their X-Forwarded-* is kept and extended', async (t) => {
  const up = await startUpstream()
  const gw = await startTestGateway({ upstream: up.url, extraConfig: 'trustedProxies: [127.0.0.1]' })
  t.teardown(async () => { await gw.close(); await up.close() })
  await rawRequest(gw.url, { path: '/public/x', headers: [['X-Forwarded-For', '203.0.113.9'], ['X-Forwarded-Proto', 'https'], ['X-Forwarded-Host', 'api.example']] })
  const h = up.seen[0]!.headers
  t.equal(h['x-forwarded-for'], '203.0.113.9, 127.0.0.1')
  t.equal(h['x-forwarded-proto'], 'https')
  t.equal(h['x-forwarded-host'], 'api.example')
})

t.test('hop-by-hop headers, and those named in Connection, are dropped both ways', async (t) => {
  const up = await startUpstream()
  up.handler = (_req, res) => { res.writeHead(200, { 'x-secret-hop': 'no', connection: 'x-secret-hop', 'keep-alive': 'timeout=5', 'x-kept': 'yes' }); res.end('ok') }
  const gw = await startTestGateway({ upstream: up.url })
  t.teardown(async () => { await gw.close(); await up.close() })
  const res = await rawRequest(gw.url, { path: '/public/x', headers: [['Connection', 'x-custom-hop'], ['X-Custom-Hop', 'drop me'], ['Keep-Alive', '1'], ['TE', 'trailers'], ['X-Normal', 'kept']] })
  t.equal(res.status, 200)
  const h = up.seen[0]!.headers
  t.notOk(h['x-custom-hop'], 'header named in Connection dropped')
  t.notOk(h['keep-alive'])
  t.notOk(h.te)
  t.equal(h['x-normal'], 'kept')
  t.notOk(res.headers['x-secret-hop'], 'response header named in Connection dropped')
  t.equal(res.headers['x-kept'], 'yes')
})

t.test('protected route without credentials: 401 challenge, problem+json, and nothing forwarded', async (t) => {
  const up = await startUpstream()
  const gw = await startTestGateway({ upstream: up.url })
  t.teardown(async () => { await gw.close(); await up.close() })
  const res = await rawRequest(gw.url, { path: '/foo' })
  t.equal(res.status, 401)
  t.equal(res.headers['content-type'], 'application/problem+json')
  t.equal(res.headers['cache-control'], 'no-store')
  const body = JSON.parse(res.body)
  t.equal(body.code, 'credentials_missing')
  t.equal(body.type, 'urn:popgate:problem:credentials_missing')
  const [c] = parseChallenges(res.headers['www-authenticate']!)
  t.equal(c!.scheme, 'DomainPoP')
  t.equal(c!.params.realm, 'https://gw.test')
  t.equal(c!.params.algs, 'ES256 ES384 EdDSA Ed25519 PS256')
  t.notOk(c!.params.error, 'no error param without credentials (RFC 6750 §3)')
  t.match(c!.params.nonce, /^[A-Za-z0-9_-]{1,128}$/)
  t.equal(res.headers['domainpop-nonce'], c!.params.nonce)
  t.equal(body.nonce, c!.params.nonce)
  const again = await rawRequest(gw.url, { path: '/foo' })
  t.not(again.headers['domainpop-nonce'], c!.params.nonce, 'a fresh nonce on every 401')
  // Unknown paths are challenged too: strangers learn nothing about the ACL.
  t.equal((await rawRequest(gw.url, { path: '/nowhere' })).status, 401)
  t.equal(up.seen.length, 0)
})

t.test('two Authorization headers → 400 multiple_credentials; a Bearer token is no credential', async (t) => {
  const up = await startUpstream()
  const gw = await startTestGateway({ upstream: up.url })
  t.teardown(async () => { await gw.close(); await up.close() })
  const res = await rawRequest(gw.url, { path: '/foo', headers: [['Authorization', 'DomainPoP a.b.c'], ['Authorization', 'DomainPoP d.e.f']] })
  t.equal(res.status, 400)
  t.equal(JSON.parse(res.body).code, 'multiple_credentials')
  t.match(res.headers['www-authenticate'], /error="invalid_request"/)
  const bearer = await rawRequest(gw.url, { path: '/foo', headers: [['Authorization', 'Bearer abc']] })
  t.equal(bearer.status, 401)
  t.equal(JSON.parse(bearer.body).code, 'credentials_missing')
  t.equal(up.seen.length, 0)
})

t.test('ambiguous paths are refused before the ACL; normalized paths are what the upstream sees', async (t) => {
  const up = await startUpstream()
  const gw = await startTestGateway({ upstream: up.url })
  t.teardown(async () => { await gw.close(); await up.close() })
  for (const path of ['/public/..%2ffoo', '/%2e%2e/public/foo', '/public/a%5cb', '/..', '/public/%00']) {
    const res = await rawRequest(gw.url, { path })
    t.equal(res.status, 400, path)
    t.equal(JSON.parse(res.body).code, 'path_rejected', path)
  }
  // Absolute-form and backslashes need a raw socket: Node's client would not send them.
  for (const target of ['http://evil.test/public/x', '/public\\x']) {
    const out = await rawSocket(gw.gw.http.port, `GET ${target} HTTP/1.1\r\nHost: gw.test\r\nConnection: close\r\n\r\n`)
    t.match(out, /^HTTP\/1\.1 400/, target)
  }
  // /public/../foo would climb out of the public rule into /foo: normalized first, so it hits /foo's rule.
  t.equal((await rawRequest(gw.url, { path: '/public/../foo' })).status, 401)
  await rawRequest(gw.url, { path: '/public//a/./b/../c' })
  t.equal(up.seen.at(-1)!.url, '/public/a/c')
  t.equal(up.seen.length, 1, 'only the normalized public request reached the upstream')
})

t.test('upstream refused → 502; upstream too slow → 504; both problem+json', async (t) => {
  const up = await startUpstream()
  up.handler = () => { /* never answers */ }
  const gw = await startTestGateway({ upstream: up.url, extraConfig: 'timeouts:\n  upstreamHeaders: 300ms' })
  t.teardown(async () => { await gw.close(); await up.close() })
  const slow = await rawRequest(gw.url, { path: '/public/slow' })
  t.equal(slow.status, 504)
  t.equal(JSON.parse(slow.body).code, 'upstream_timeout')

  const port = await new Promise<number>((r) => { const s = net.createServer(); s.listen(0, '127.0.0.1', () => { const p = (s.address() as net.AddressInfo).port; s.close(() => r(p)) }) })
  const dead = await startTestGateway({ upstream: `http://127.0.0.1:${port}` })
  t.teardown(() => dead.close())
  const res = await rawRequest(dead.url, { path: '/public/x' })
  t.equal(res.status, 502)
  t.equal(JSON.parse(res.body).code, 'upstream_unavailable')
  t.equal(await dead.metrics.value('popgate_upstream_errors_total', { code: 'upstream_unavailable' }), 1)
})

t.test('a 100 MB upload streams through with flat memory', async (t) => {
  const up = await startUpstream()
  let done: () => void
  const finished = new Promise<void>((r) => { done = r })
  up.handler = (req, res) => { req.on('end', () => { res.end('got it'); done() }); req.resume() }
  const gw = await startTestGateway({ upstream: up.url })
  t.teardown(async () => { await gw.close(); await up.close() })
  const total = 100 * 1024 * 1024
  const chunk = Buffer.alloc(64 * 1024, 0x61)
  let sent = 0
  global.gc?.()
  const before = process.memoryUsage().rss
  let peak = before
  const body = new Readable({ read() { if (sent >= total) return this.push(null); sent += chunk.length; peak = Math.max(peak, process.memoryUsage().rss); this.push(chunk) } })
  const status = await new Promise<number>((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: gw.gw.http.port, method: 'POST', path: '/public/upload', headers: { 'content-length': total } }, (res) => { res.resume(); res.on('end', () => resolve(res.statusCode!)) })
    req.on('error', reject)
    body.pipe(req)
  })
  await finished
  t.equal(status, 200)
  t.equal(up.seen[0]!.bodyBytes, total, 'every byte arrived')
  const growthMb = (peak - before) / 1024 / 1024
  t.ok(growthMb < 60, `RSS grew ${growthMb.toFixed(1)} MB while moving 100 MB (bounded by buffers, not body size)`)
})

t.test('a slow reader holds the upstream back: downloads are not buffered in the gateway', async (t) => {
  const up = await startUpstream()
  const total = 512 * 1024 * 1024
  const chunk = Buffer.alloc(256 * 1024, 0x62)
  let upstreamSent = 0
  up.handler = (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': total })
    const pump = (): void => {
      while (upstreamSent < total) {
        upstreamSent += chunk.length
        if (!res.write(chunk)) return void res.once('drain', pump)
      }
      res.end()
    }
    pump()
  }
  const gw = await startTestGateway({ upstream: up.url })
  t.teardown(async () => { await gw.close(); await up.close() })
  // A raw client that reads nothing for a while: only TCP buffers may fill up.
  const sock = net.connect(gw.gw.http.port, '127.0.0.1')
  sock.pause()
  sock.write('GET /public/big HTTP/1.1\r\nHost: gw.test\r\n\r\n')
  await waitFor(() => upstreamSent > 0)
  await new Promise((r) => setTimeout(r, 1_000))
  const stalledAt = upstreamSent
  t.ok(stalledAt < 128 * 1024 * 1024, `upstream stalled after ${(stalledAt / 1048576).toFixed(0)} MB of 512 MB while the client read nothing`)
  // Now read everything: the whole body arrives, byte for byte.
  let received = 0
  let headEnd = -1
  let head = Buffer.alloc(0)
  await new Promise<void>((resolve, reject) => {
    sock.on('data', (c: Buffer) => {
      if (headEnd < 0) {
        head = Buffer.concat([head, c])
        headEnd = head.indexOf('\r\n\r\n')
        if (headEnd >= 0) received += head.length - headEnd - 4
      } else received += c.length
      if (received >= total) resolve()
    })
    sock.on('error', reject)
    sock.resume()
  })
  sock.destroy()
  t.match(head.subarray(0, 12).toString(), /^HTTP\/1\.1 200/)
  t.equal(received, total, 'every byte arrived once the client read')
})

t.test('a client that goes away aborts the upstream exchange', async (t) => {
  const up = await startUpstream()
  let upstreamClosed = false
  up.handler = (_req, res) => { res.writeHead(200); res.write('partial'); res.on('close', () => { upstreamClosed = true }) }
  const gw = await startTestGateway({ upstream: up.url })
  t.teardown(async () => { await gw.close(); await up.close() })
  await new Promise<void>((resolve) => {
    const req = http.get({ host: '127.0.0.1', port: gw.gw.http.port, path: '/public/stream', agent: false }, (res) => {
      res.once('data', () => { req.destroy(); resolve() })
    })
    req.on('error', () => {})
  })
  await waitFor(() => upstreamClosed)
  t.ok(upstreamClosed, 'upstream connection closed after the client left')
  await waitFor(() => gw.log.lines.some((l) => l.msg === 'access' && l.path === '/public/stream'))
})

t.test('one JSON access line per request, with no credentials in it', async (t) => {
  const up = await startUpstream()
  const gw = await startTestGateway({ upstream: up.url })
  t.teardown(async () => { await gw.close(); await up.close() })
  await rawRequest(gw.url, { path: '/public/x' })
  await rawRequest(gw.url, { path: '/foo', headers: [['Authorization', 'DomainPoP aaa.bbb.ccc']] })
  await waitFor(() => gw.log.lines.filter((l) => l.msg === 'access').length === 2)
  const [a, b] = gw.log.lines.filter((l) => l.msg === 'access')
  t.match(a, { method: 'GET', path: '/public/x', status: 200, decision: 'public', rule: 'rule-2', upstreamStatus: 200 })
  t.type(a!.durationMs, 'number')
  t.match(b, { path: '/foo', status: 400, decision: 'error', code: 'malformed_proof', rule: 'foo' })
  t.notOk(gw.log.text.join('\n').includes('aaa.bbb.ccc'), 'the credential is not logged')
})

t.test('WebSocket upgrade on a public route is proxied; on a protected route it is challenged', async (t) => {
  const up = await startUpstream()
  const upServer = http.createServer()
  upServer.on('upgrade', (req, socket) => {
    socket.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nX-Seen-Identity: ' + (req.headers['x-pop-identity'] ?? 'none') + '\r\n\r\n')
    socket.pipe(socket) // echo
  })
  await new Promise<void>((r) => upServer.listen(0, '127.0.0.1', r))
  const wsUp = `http://127.0.0.1:${(upServer.address() as net.AddressInfo).port}`
  const gw = await startTestGateway({ upstream: wsUp })
  t.teardown(async () => { await gw.close(); await up.close(); upServer.closeAllConnections(); upServer.close() })
  const echoed = await new Promise<{ status: number; echo: string; seen: string }>((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: gw.gw.http.port, path: '/public/ws', headers: { Connection: 'Upgrade', Upgrade: 'websocket', 'X-PoP-Identity': 'admin.test', 'Sec-WebSocket-Version': '13', 'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==' } })
    req.on('upgrade', (res, socket) => {
      socket.write('ping')
      socket.once('data', (d) => { resolve({ status: res.statusCode!, echo: String(d), seen: String(res.headers['x-seen-identity']) }); socket.destroy() })
    })
    req.on('error', reject)
    req.end()
  })
  t.equal(echoed.status, 101)
  t.equal(echoed.echo, 'ping')
  t.equal(echoed.seen, 'none', 'spoofed identity header stripped on upgrades too')
  const refused = await rawSocket(gw.gw.http.port, 'GET /foo HTTP/1.1\r\nHost: gw.test\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n')
  t.match(refused, /^HTTP\/1\.1 401/)
  t.match(refused, /www-authenticate: DomainPoP realm=/)
})

t.test('oversized headers and garbage bytes get a 4xx and the process lives on', async (t) => {
  const up = await startUpstream()
  const gw = await startTestGateway({ upstream: up.url })
  t.teardown(async () => { await gw.close(); await up.close() })
  const big = await rawSocket(gw.gw.http.port, `GET /public/x HTTP/1.1\r\nHost: a\r\nX-Big: ${'a'.repeat(64 * 1024)}\r\n\r\n`)
  t.match(big, /^HTTP\/1\.1 431/)
  const garbage = await rawSocket(gw.gw.http.port, 'GET /public/x HTTP/1.1\r\nHost: a\r\nBad\x01Header: x\r\n\r\n')
  t.match(garbage, /^HTTP\/1\.1 400/)
  t.equal((await rawRequest(gw.url, { path: '/healthz' })).status, 200, 'still serving')
})

t.test('untrusted forwarding metadata and URL/method overrides never reach the upstream', async (t) => {
  const up = await startUpstream()
  const gw = await startTestGateway({ upstream: up.url })
  t.teardown(async () => { await gw.close(); await up.close() })
  const sent: [string, string][] = [
    ['Forwarded', 'for=6.6.6.6;host=evil.test'], ['X-Real-IP', '6.6.6.6'], ['X-Forwarded-Port', '443'], ['X-Forwarded-Prefix', '/admin'],
    ['X-Original-URL', '/admin'], ['X-Rewrite-URL', '/admin'], ['X-HTTP-Method-Override', 'DELETE'], ['X-Method-Override', 'DELETE'], ['X-Kept', 'yes'],
  ]
  t.equal((await rawRequest(gw.url, { path: '/public/x', headers: sent })).status, 200)
  const h = up.seen[0]!.headers
  for (const [name] of sent.slice(0, -1)) t.notOk(h[name.toLowerCase()], `${name} dropped`)
  t.equal(h['x-kept'], 'yes')
})

t.test('two Host headers → 400, nothing forwarded', async (t) => {
  const up = await startUpstream()
  const gw = await startTestGateway({ upstream: up.url })
  t.teardown(async () => { await gw.close(); await up.close() })
  const res = await rawRequest(gw.url, { path: '/public/x', headers: [['Host', 'a.test'], ['Host', 'b.test']] })
  t.equal(res.status, 400)
  t.equal(JSON.parse(res.body).code, 'bad_request')
  t.equal(up.seen.length, 0)
})
