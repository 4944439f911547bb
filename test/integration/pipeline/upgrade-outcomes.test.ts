// WebSocket upgrades are logged once, with what the client actually got
// (one driver, pipeline/run.ts; issue "Hardening" finding 4):
//   - an upstream that refuses the upgrade → its status, not 101;
//   - an unreachable upstream → 502 upstream_unavailable to the client,
//     one access line, the request counted once.

import t from 'tap'
import http from 'node:http'
import net from 'node:net'
import { freePort, rawSocket, startTestGateway, waitFor } from '../../helpers/harness.js'

const UPGRADE = (path: string) => `GET ${path} HTTP/1.1\r\nHost: gw.test\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n`

const accessLines = (lines: Record<string, unknown>[]) => lines.filter((l) => l.msg === 'access')

t.test('an upstream that answers the upgrade with 403 is logged as 403, once', async (t) => {
  const upServer = http.createServer((_req, res) => { res.writeHead(403, { 'content-length': '2' }); res.end('no') })
  await new Promise<void>((r) => upServer.listen(0, '127.0.0.1', r))
  const gw = await startTestGateway({ upstream: `http://127.0.0.1:${(upServer.address() as net.AddressInfo).port}` })
  t.teardown(async () => { await gw.close(); upServer.closeAllConnections(); upServer.close() })
  const answer = await rawSocket(gw.gw.http.port, UPGRADE('/public/ws'))
  t.match(answer, /^HTTP\/1\.1 403/, "the client sees the upstream's refusal")
  await waitFor(() => accessLines(gw.log.lines).length > 0)
  const lines = accessLines(gw.log.lines)
  t.equal(lines.length, 1, 'one access line')
  t.match(lines[0], { path: '/public/ws', status: 403, upstreamStatus: 403, decision: 'public' })
})

t.test('an unreachable upstream: the client gets 502, one line, counted once', async (t) => {
  const deadPort = await freePort() // nothing listens there
  const gw = await startTestGateway({ upstream: `http://127.0.0.1:${deadPort}` })
  t.teardown(() => gw.close())
  const answer = await rawSocket(gw.gw.http.port, UPGRADE('/public/ws'))
  t.match(answer, /^HTTP\/1\.1 502/)
  t.match(answer, /"code":"upstream_unavailable"/)
  await waitFor(() => accessLines(gw.log.lines).length > 0)
  const lines = accessLines(gw.log.lines)
  t.equal(lines.length, 1, 'one access line')
  t.match(lines[0], { status: 502, decision: 'error', code: 'upstream_unavailable' })
  t.equal(await gw.metrics.value('popgate_requests_total', { decision: 'error', code: 'upstream_unavailable' }), 1, 'counted once')
  t.equal(await gw.metrics.value('popgate_upstream_errors_total', { code: 'upstream_unavailable' }), 1)
  t.equal(gw.log.lines.filter((l) => l.msg === 'unexpected error').length, 0, 'not an internal error')
})
