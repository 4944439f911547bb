// The admin page over HTTP: served with its CSP and same-origin assets,
// read-only (405 for anything but GET/HEAD), and, on a loopback listener,
// only to loopback Host names (a DNS-rebinding page cannot read it).

import t from 'tap'
import http from 'node:http'
import { startTestGateway, startUpstream } from '../../helpers/harness.js'
import { isLoopbackHostHeader } from '../../../src/admin.js'

const get = (port: number, path: string, host: string, method = 'GET') => new Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }>((resolve, reject) => {
  const req = http.request({ host: '127.0.0.1', port, path, method, headers: { host }, agent: false }, (res) => {
    let body = ''
    res.on('data', (c: Buffer) => { body += c })
    res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }))
  })
  req.on('error', reject)
  req.end()
})

t.test('loopback listener: the page, its assets, its CSP; other Host names refused', async (t) => {
  const up = await startUpstream()
  const gw = await startTestGateway({ upstream: up.url, extraConfig: 'admin:\n  listen: 127.0.0.1:0' })
  t.teardown(async () => { await gw.close(); await up.close() })
  const port = gw.gw.admin!.port
  const page = await get(port, '/', `127.0.0.1:${port}`)
  t.equal(page.status, 200)
  t.match(page.headers['content-type'], /^text\/html/)
  t.match(page.headers['content-security-policy'], /default-src 'none'; script-src 'self'; style-src 'self'/)
  t.notMatch(page.headers['content-security-policy'], /unsafe-inline|unsafe-eval/)
  t.equal(page.headers['x-frame-options'], 'DENY')
  t.match(page.body, /<main id="main"/)
  t.notMatch(page.body, /<script>|<style>|\sstyle=|\son\w+=/, 'no inline script, style or handler')
  t.notMatch(page.body, /https?:\/\/(?!127\.0\.0\.1)[a-z]/i, 'no external asset')
  const part = await get(port, '/?part=main', 'localhost')
  t.match(part.body, /^<main id="main"/, 'the fragment the script swaps in')
  t.equal((await get(port, '/admin.js', 'localhost')).status, 200)
  t.equal((await get(port, '/admin.css', '[::1]')).status, 200)
  for (const host of ['evil.example', 'evil.example:' + port, '127.0.0.1.evil.example', '10.0.0.1', 'localhost.evil']) {
    const r = await get(port, '/', host)
    t.equal(r.status, 403, `Host ${host}: refused`)
    t.notMatch(r.body, /<main/)
  }
  t.equal((await get(port, '/metrics', 'evil.example')).status, 200, '/metrics is not the page: scrapers keep working')
  t.equal((await get(port, '/', 'localhost', 'POST')).status, 405, 'read-only')
  t.equal((await get(port, '/', 'localhost', 'HEAD')).status, 200)
})

t.test('isLoopbackHostHeader', async (t) => {
  for (const h of ['localhost', 'LOCALHOST:9090', '127.0.0.1', '127.1.2.3:80', '[::1]', '[::1]:9090']) t.ok(isLoopbackHostHeader(h), h)
  for (const h of [undefined, '', 'evil', '128.0.0.1', '[::2]', '::1', 'localhost.', '127.0.0.1.nip.io']) t.notOk(isLoopbackHostHeader(h), String(h))
})
