// Issue 11 finding 2: a Host that is not a valid host[:port] (RFC 9110 §7.2,
// RFC 3986 §3.2.2) is refused with 400 before anything reaches the upstream,
// on plain requests and WebSocket upgrades. The upstream here does what many
// frameworks do: it builds its request URL from Host and target (resolved,
// or concatenated), and serves /admin/secret when that URL lands there,
// whatever the target said.

import t from 'tap'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { startTestGateway } from '../../helpers/harness.js'
import { rawExchange } from '../../helpers/raw-exchange.js'

const ACL = `version: 1
rules:
  - path: /public/**
    public: true
  - path: /admin/**
    read: [alice.test]
`

interface HostRouter { readonly url: string; readonly seen: { host: string | undefined; target: string; upgrade: boolean }[]; close(): Promise<void> }

/** An upstream that routes on `new URL(req.url, 'http://' + req.headers.host)`. */
async function startHostRouter(): Promise<HostRouter> {
  const seen: HostRouter['seen'] = []
  // Both idioms frameworks use: the target resolved against Host, and Host + target concatenated.
  const pathOf = (build: () => URL): string => { try { return build().pathname } catch { return '(unparsable)' } }
  const route = (req: http.IncomingMessage): string => {
    const resolved = pathOf(() => new URL(req.url!, 'http://' + req.headers.host))
    const joined = pathOf(() => new URL('http://' + req.headers.host + req.url))
    return resolved === '/admin/secret' || joined === '/admin/secret' ? 'SECRET' : 'public'
  }
  const server = http.createServer((req, res) => {
    seen.push({ host: req.headers.host, target: req.url!, upgrade: false })
    res.end(route(req))
  })
  server.on('upgrade', (req, socket) => {
    seen.push({ host: req.headers.host, target: req.url!, upgrade: true })
    socket.end(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nX-Served: ${route(req)}\r\n\r\n`)
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen,
    close: () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()) }),
  }
}

const plain = (host: string) => `GET /public/x HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`
const upgrade = (host: string) => `GET /public/ws HTTP/1.1\r\nHost: ${host}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n`

const BAD_HOSTS = [
  'gw.test/admin/secret?', 'gw.test/admin/secret#', 'gw.test/admin/secret', 'gw.test@evil.test', 'user:pw@gw.test',
  'gw.test x', 'gw.test\tx', '', ' ', 'gw.test:abc', 'gw.test:99999', 'gw.test:', 'gw.test:80:80', 'gw.test:+80', ':80',
  '[::1', '[::1]x', '[gw.test]', '[::1%25eth0]', 'gw.test\\admin', 'gw.test%2fadmin', 'gw.test?', 'gw.test#', 'gw.test,evil.test',
  'gw.test;x', 'gw.t\u00e9st', 'a'.repeat(300),
]
const GOOD_HOSTS = ['gw.test', 'GW.Test:8443', '127.0.0.1:80', '[::1]:8080', '[::1]', 'under_score.test', 'a-b.c~d.test']

t.test('a malformed Host is refused with 400 and never reaches an upstream that routes on Host', async (t) => {
  const up = await startHostRouter()
  const gw = await startTestGateway({ upstream: up.url, acl: ACL })
  t.teardown(async () => { await gw.close(); await up.close() })
  for (const host of BAD_HOSTS) {
    const out = await rawExchange(gw.gw.http.port, plain(host))
    t.match(out, /^HTTP\/1\.1 400 /, `plain: ${JSON.stringify(host)}`)
    t.notMatch(out, /SECRET/, `plain: ${JSON.stringify(host)} never served the secret`)
  }
  t.same(up.seen, [], 'nothing reached the upstream')
  for (const host of GOOD_HOSTS) {
    const out = await rawExchange(gw.gw.http.port, plain(host))
    t.match(out, /^HTTP\/1\.1 200 [^]*public/, `accepted: ${host}`)
  }
  t.equal(up.seen.length, GOOD_HOSTS.length)
})

t.test('a malformed Host on a WebSocket upgrade is refused the same way', async (t) => {
  const up = await startHostRouter()
  const gw = await startTestGateway({ upstream: up.url, acl: ACL })
  t.teardown(async () => { await gw.close(); await up.close() })
  for (const host of BAD_HOSTS) {
    const out = await rawExchange(gw.gw.http.port, upgrade(host))
    t.match(out, /^HTTP\/1\.1 400 /, `upgrade: ${JSON.stringify(host)}`)
    t.notMatch(out, /SECRET/)
  }
  t.same(up.seen, [], 'no upgrade reached the upstream')
  const ok = await rawExchange(gw.gw.http.port, upgrade('gw.test'))
  t.match(ok, /^HTTP\/1\.1 101 [^]*x-served: public/i)
})

t.test('the gateway answers the refusal itself: problem+json bad_request, one access line', async (t) => {
  const up = await startHostRouter()
  const gw = await startTestGateway({ upstream: up.url, acl: ACL })
  t.teardown(async () => { await gw.close(); await up.close() })
  const out = await rawExchange(gw.gw.http.port, plain('gw.test/admin/secret?'))
  t.match(out, /content-type: application\/problem\+json/i)
  t.match(out, /"code":"bad_request"/)
  t.notMatch(out, /admin\/secret/, 'the Host is not echoed')
})

t.test('upstreamHost: client (default) forwards the validated Host; upstream and a literal replace it', async (t) => {
  const up = await startHostRouter()
  const upHost = new URL(up.url).host
  const client = await startTestGateway({ upstream: up.url, acl: ACL })
  const fromUpstream = await startTestGateway({ upstream: up.url, acl: ACL, extraConfig: 'upstreamHost: upstream' })
  const literal = await startTestGateway({ upstream: up.url, acl: ACL, extraConfig: 'upstreamHost: api.internal:8443' })
  t.teardown(async () => { await client.close(); await fromUpstream.close(); await literal.close(); await up.close() })
  const cases: [typeof client, string][] = [[client, 'GW.Test:8443'], [fromUpstream, upHost], [literal, 'api.internal:8443']]
  for (const [gw, expected] of cases) {
    up.seen.length = 0
    t.match(await rawExchange(gw.gw.http.port, plain('GW.Test:8443')), /^HTTP\/1\.1 200 /)
    t.match(await rawExchange(gw.gw.http.port, upgrade('GW.Test:8443')), /^HTTP\/1\.1 101 /)
    t.same(up.seen.map((s) => [s.host, s.upgrade]), [[expected, false], [expected, true]], `Host ${expected} on plain requests and upgrades`)
  }
})

t.test("X-Forwarded-Host is the gateway's: an untrusted client cannot set it", async (t) => {
  const seen: http.IncomingHttpHeaders[] = []
  const server = http.createServer((req, res) => { seen.push(req.headers); res.end('ok') })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  const gw = await startTestGateway({ upstream: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, acl: ACL })
  t.teardown(async () => { await gw.close(); server.closeAllConnections(); server.close() })
  await rawExchange(gw.gw.http.port, 'GET /public/x HTTP/1.1\r\nHost: gw.test\r\nX-Forwarded-Host: evil.test/admin/secret?\r\nx_forwarded_host: evil.test\r\nConnection: close\r\n\r\n')
  t.equal(seen.length, 1)
  t.equal(seen[0]!['x-forwarded-host'], 'gw.test', 'publicOrigin\'s host, not the client\'s')
  t.notOk(seen[0]!['x_forwarded_host'], 'the underscore spelling is dropped too')
})
