// Issue 11 finding 3: a body on a method that defines none (GET, HEAD,
// OPTIONS) is refused with 400 body_not_allowed, so a body a naive upstream
// would read as a second request never reaches it; a rule may allow such
// bodies with `bodyOnGet: true`. Content-Length: 0 is no body.

import t from 'tap'
import { startTestGateway, startUpstream, waitFor } from '../../helpers/harness.js'
import { rawExchange } from '../../helpers/raw-exchange.js'

const ACL = `version: 1
rules:
  - path: /search/**
    public: true
    bodyOnGet: true
  - path: /public/**
    public: true
`

/** A second request hidden in a GET's body: what a naive upstream would run. */
const SMUGGLED = 'GET /admin/secret HTTP/1.1\r\nHost: gw.test\r\n\r\n'

const head = (method: string, path: string, extra: string) => `${method} ${path} HTTP/1.1\r\nHost: gw.test\r\nConnection: close\r\n${extra}\r\n`

t.test('GET, HEAD and OPTIONS with a body are refused; nothing reaches the upstream', async (t) => {
  const up = await startUpstream()
  const gw = await startTestGateway({ upstream: up.url, acl: ACL })
  t.teardown(async () => { await gw.close(); await up.close() })
  const port = gw.gw.http.port
  const sends: [string, string][] = [
    ['GET with Content-Length: 5', head('GET', '/public/x', 'Content-Length: 5\r\n') + 'hello'],
    ['GET with a smuggled request as its body', head('GET', '/public/x', `Content-Length: ${SMUGGLED.length}\r\n`) + SMUGGLED],
    ['GET with Transfer-Encoding: chunked', head('GET', '/public/x', 'Transfer-Encoding: chunked\r\n') + '5\r\nhello\r\n0\r\n\r\n'],
    ['GET, chunked, empty', head('GET', '/public/x', 'Transfer-Encoding: chunked\r\n') + '0\r\n\r\n'],
    ['HEAD with Content-Length: 5', head('HEAD', '/public/x', 'Content-Length: 5\r\n') + 'hello'],
    ['OPTIONS with Content-Length: 5', head('OPTIONS', '/public/x', 'Content-Length: 5\r\n') + 'hello'],
    ['GET on a protected path', head('GET', '/nowhere', 'Content-Length: 5\r\n') + 'hello'],
  ]
  for (const [name, text] of sends) {
    const out = await rawExchange(port, text)
    t.match(out, /^HTTP\/1\.1 400 /, name)
    if (!text.startsWith('HEAD')) t.match(out, /"code":"body_not_allowed"/, name)
  }
  t.equal(up.seen.length, 0, 'nothing reached the upstream')
  await waitFor(() => gw.log.lines.filter((l) => l.msg === 'access').length === sends.length)
  t.ok(gw.log.lines.filter((l) => l.msg === 'access').every((l) => l.status === 400), 'each refusal logged once, as 400')
})

t.test('Content-Length: 0 is no body; POST bodies and a rule with bodyOnGet still pass', async (t) => {
  const up = await startUpstream()
  up.handler = (req, res) => { req.resume(); req.on('end', () => res.end('ok')) } // answers once the whole body is read
  const gw = await startTestGateway({ upstream: up.url, acl: ACL })
  t.teardown(async () => { await gw.close(); await up.close() })
  const port = gw.gw.http.port
  t.match(await rawExchange(port, head('GET', '/public/x', 'Content-Length: 0\r\n')), /^HTTP\/1\.1 200 /, 'GET with Content-Length: 0')
  t.match(await rawExchange(port, head('POST', '/public/x', 'Content-Length: 5\r\n') + 'hello'), /^HTTP\/1\.1 200 /, 'POST with a body')
  t.match(await rawExchange(port, head('GET', '/search/q', 'Content-Length: 5\r\n') + 'hello'), /^HTTP\/1\.1 200 /, 'GET with a body where the rule allows it')
  t.same(up.seen.map((s) => [s.method, s.url, s.bodyBytes]), [['GET', '/public/x', 0], ['POST', '/public/x', 5], ['GET', '/search/q', 5]])
})
