// What an on-call engineer reads in the access line (issue 28, "Logs and
// metrics"), over real sockets: the request id (the client's when valid,
// else one made here; sent upstream, echoed back, on refusals too), client
// address, user agent (bounded), byte counts, an ISO time beside the epoch;
// an exchange the drain cut is logged as such; an upstream failure logs its
// cause at warn (refused, reset, timeout).

import t from 'tap'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { freePort, rawRequest, startTestGateway, startUpstream, waitFor } from '../../helpers/harness.js'

const access = (lines: Record<string, unknown>[]) => lines.filter((l) => l.msg === 'access')
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/

t.test('request id: a valid one is kept end to end, an invalid or missing one is replaced by a UUID', async (t) => {
  const up = await startUpstream()
  const gw = await startTestGateway({ upstream: up.url })
  t.teardown(async () => { await gw.close(); await up.close() })

  const kept = await rawRequest(gw.url, { path: '/public/a', headers: [['X-Request-Id', 'edge-42:abc']] })
  t.equal(kept.status, 200)
  t.equal(kept.headers['x-request-id'], 'edge-42:abc', 'echoed to the client')
  t.equal(up.seen[0]!.headers['x-request-id'], 'edge-42:abc', 'passed to the upstream')

  for (const bad of ['has space', 'x'.repeat(129), 'quo"te', 'a,b', 'back\\slash']) {
    const res = await rawRequest(gw.url, { path: '/public/b', headers: [['X-Request-Id', bad]] })
    const id = res.headers['x-request-id'] as string
    t.match(id, UUID, `${JSON.stringify(bad.slice(0, 20))} replaced`)
    const seen = up.seen.at(-1)!
    t.equal(seen.headers['x-request-id'], id, 'the upstream sees only the replacement')
    t.equal(seen.rawHeaders.filter((h) => h.toLowerCase() === 'x-request-id').length, 1, 'one field, not the client\'s beside ours')
  }
  const two = await rawRequest(gw.url, { path: '/public/c', headers: [['X-Request-Id', 'a'], ['X-Request-Id', 'b']] })
  t.match(two.headers['x-request-id'], UUID, 'two fields: neither is trusted')

  const none = await rawRequest(gw.url, { path: '/public/d' })
  t.match(none.headers['x-request-id'], UUID)

  // The upstream's own X-Request-Id does not make a second one.
  up.handler = (_req, res) => { res.writeHead(200, { 'x-request-id': 'upstream-made' }); res.end('ok') }
  const echoed = await rawRequest(gw.url, { path: '/public/e', headers: [['X-Request-Id', 'mine']] })
  t.equal(echoed.rawHeaders.filter((h) => h.toLowerCase() === 'x-request-id').length, 1)
  t.equal(echoed.headers['x-request-id'], 'mine')

  // Refusals carry it too.
  const refused = await rawRequest(gw.url, { path: '/foo', headers: [['X-Request-Id', 'refused-1']] })
  t.equal(refused.status, 401)
  t.equal(refused.headers['x-request-id'], 'refused-1')

  await waitFor(() => access(gw.log.lines).length === 10)
  const lines = access(gw.log.lines)
  t.equal(lines[0]!.requestId, 'edge-42:abc')
  t.equal(lines[1]!.requestId, up.seen[1]!.headers['x-request-id'], 'the replacement is what is logged')
  t.match(lines.at(-1), { status: 401, decision: 'challenge', requestId: 'refused-1' })
})

t.test('client address, user agent (bounded, escaped), byte counts, ISO time; the older fields keep their order', async (t) => {
  const up = await startUpstream()
  up.handler = (req, res) => { req.resume(); req.on('end', () => { res.writeHead(200, { 'content-type': 'text/plain' }); res.end('x'.repeat(1000)) }) }
  const gw = await startTestGateway({ upstream: up.url })
  t.teardown(async () => { await gw.close(); await up.close() })
  const ua = 'probe/1.0 "quoted" \u00e9' + 'u'.repeat(400)
  const res = await rawRequest(gw.url, { method: 'POST', path: '/public/upload', headers: [['User-Agent', ua], ['Content-Type', 'text/plain']], body: 'b'.repeat(5000) })
  t.equal(res.status, 200)
  await waitFor(() => access(gw.log.lines).length === 1)
  const line = access(gw.log.lines)[0]!
  t.equal(line.client, '127.0.0.1')
  t.equal(line.userAgent, Buffer.from(ua, 'latin1').toString('latin1').slice(0, 256), 'cut to 256 characters, quotes kept inside the JSON string')
  t.ok((line.bytesIn as number) > 5000 && (line.bytesIn as number) < 6000, `bytesIn ${String(line.bytesIn)}: request head and 5000-byte body`)
  t.ok((line.bytesOut as number) > 1000 && (line.bytesOut as number) < 1500, `bytesOut ${String(line.bytesOut)}: response head and 1000-byte body`)
  t.equal(line.isoTime, new Date(line.time as number).toISOString(), 'the same instant as time')
  const text = gw.log.text.find((l) => l.includes('"msg":"access"'))!
  const keys = Object.keys(JSON.parse(text) as object)
  t.strictSame(keys.slice(0, 5), ['level', 'time', 'isoTime', 'name', 'msg'])
  const older = ['method', 'path', 'status', 'decision', 'rule', 'durationMs', 'upstreamStatus']
  t.strictSame(keys.filter((k) => older.includes(k)), older, 'the older fields in their order')
  t.ok(keys.indexOf('requestId') > keys.indexOf('upstreamStatus'), 'the new ones after them')

  // A second exchange on the same keep-alive connection counts only its own bytes.
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 })
  t.teardown(() => agent.destroy())
  const get = () => new Promise<void>((resolve, reject) => {
    http.get(`${gw.url}/public/ka`, { agent }, (r) => { r.resume(); r.on('end', resolve) }).on('error', reject)
  })
  up.handler = (_req, res) => { res.writeHead(200); res.end('y'.repeat(100)) }
  await get()
  await get()
  await waitFor(() => access(gw.log.lines).length === 3)
  const [, first, second] = access(gw.log.lines)
  t.ok((second!.bytesIn as number) > 0 && Math.abs((second!.bytesIn as number) - (first!.bytesIn as number)) < 10, 'the same request, about the same bytes in')
  t.ok(Math.abs((second!.bytesOut as number) - (first!.bytesOut as number)) < 40, 'not the connection\'s running total')
})

t.test('an upstream failure logs its cause at warn: refused, reset, timeout', async (t) => {
  // Refused: nothing listens on the port.
  const closed = await freePort()
  const gw = await startTestGateway({ upstream: `http://127.0.0.1:${closed}` })
  t.teardown(() => gw.close())
  const res = await rawRequest(gw.url, { path: '/public/x', headers: [['X-Request-Id', 'r-refused']] })
  t.equal(res.status, 502)
  await waitFor(() => gw.log.lines.some((l) => l.msg === 'upstream failed'))
  t.match(gw.log.lines.find((l) => l.msg === 'upstream failed'), { level: 40, code: 'upstream_unavailable', cause: 'ECONNREFUSED', kind: 'refused', requestId: 'r-refused', path: '/public/x' })

  // Reset mid-body: the response had started, the client's connection is cut, the cause still logged.
  const up = await startUpstream()
  up.handler = (_req, res) => { res.writeHead(200, { 'content-length': '100' }); res.write('partial'); setImmediate(() => res.socket!.destroy()) }
  const gw2 = await startTestGateway({ upstream: up.url })
  t.teardown(async () => { await gw2.close(); await up.close() })
  await rawRequest(gw2.url, { path: '/public/y' }).catch(() => undefined)
  await waitFor(() => gw2.log.lines.some((l) => l.msg === 'upstream failed'))
  t.match(gw2.log.lines.find((l) => l.msg === 'upstream failed'), { level: 40, code: 'upstream_unavailable', kind: 'reset' })
  t.equal(await gw2.metrics.value('popgate_upstream_errors_total', { code: 'upstream_unavailable' }), 1)

  // Timeout: the upstream never answers.
  const silent = http.createServer(() => {})
  await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r))
  t.teardown(() => new Promise<void>((r) => { silent.closeAllConnections(); silent.close(() => r()) }))
  const gw3 = await startTestGateway({ upstream: `http://127.0.0.1:${(silent.address() as AddressInfo).port}`, extraConfig: 'timeouts:\n  upstreamHeaders: 200ms' })
  t.teardown(() => gw3.close())
  const slow = await rawRequest(gw3.url, { path: '/public/z' })
  t.equal(slow.status, 504)
  await waitFor(() => gw3.log.lines.some((l) => l.msg === 'upstream failed'))
  t.match(gw3.log.lines.find((l) => l.msg === 'upstream failed'), { code: 'upstream_timeout', cause: 'UND_ERR_HEADERS_TIMEOUT', kind: 'timeout' })
})

t.test('an exchange the drain cuts is logged as error drain_cut, not as what it was going to be', async (t) => {
  const up = await startUpstream()
  let reached = false
  up.handler = () => { reached = true } // never answers
  const gw = await startTestGateway({ upstream: up.url })
  t.teardown(async () => { await up.close(); await gw.close().catch(() => undefined) })
  const pending = rawRequest(gw.url, { path: '/public/slow' }).catch(() => 'cut')
  await waitFor(() => reached)
  const { cut } = await gw.gw.drain(100)
  t.equal(cut, 1)
  t.equal(await pending, 'cut')
  await waitFor(() => access(gw.log.lines).length === 1)
  t.match(access(gw.log.lines)[0], { path: '/public/slow', status: 0, decision: 'error', code: 'drain_cut', aborted: true })
  t.equal(await gw.metrics.value('popgate_requests_total', { decision: 'error', code: 'drain_cut' }), 1)
})
