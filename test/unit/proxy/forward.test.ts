// forward (proxy/forward.ts) on its own: a real upstream on 127.0.0.1:0, a
// tiny front server whose only job is to call forward, and a real client.
// No gateway, no ACL, no header plan: the front passes the client's header
// list through (minus hop-by-hop) so each test controls exactly what
// forward is given. What the whole gateway does with these outcomes (502/504
// bodies, access lines, 100 MB streams) is test/integration/gateway-core's.

import { readRequestFacts } from '../../../src/http/request-facts.js'
import t from 'tap'
import http from 'node:http'
import net from 'node:net'
import { once } from 'node:events'
import type { AddressInfo } from 'node:net'
import { forward, createUpstream, upstreamError, type ForwardResult, type Upstream } from '../../../src/proxy/forward.js'
import { isHopByHop } from '../../../src/proxy/headers.js'
import { sendProblem, toGatewayError } from '../../../src/http/respond.js'
import { GatewayError } from '../../../src/errors.js'
import { unitConfig } from '../../helpers/unit/config.js'

type Test = { teardown(fn: () => unknown): void }

interface Deferred<T> { promise: Promise<T>; resolve(v: T): void }
function deferred<T>(): Deferred<T> {
  let resolve!: (v: T) => void
  const promise = new Promise<T>((r) => { resolve = r })
  return { promise, resolve }
}

async function listen(t: Test, server: net.Server): Promise<number> {
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  t.teardown(() => {
    if (server instanceof http.Server) server.closeAllConnections()
    server.close()
  })
  return (server.address() as AddressInfo).port
}

/** How forward ended for one request, and what the front had sent by then. */
type Outcome =
  | { readonly resolved: ForwardResult; readonly heads: unknown[][] }
  | { readonly rejected: unknown; readonly headersSentAtRejection: boolean; readonly heads: unknown[][] }

interface Front { readonly port: number; readonly upstream: Upstream; next(): Promise<Outcome> }

/**
 * A front server that calls forward for every request. On a rejection it
 * answers with the problem itself, as the pipeline does; every writeHead
 * call on the response is recorded.
 */
async function startFront(t: Test, upstreamUrl: string, opts: { extra?: string[]; headersMs?: number } = {}): Promise<Front> {
  const base = unitConfig('', upstreamUrl)
  const upstream = createUpstream({ upstream: base.upstream, limits: base.limits, timeouts: { ...base.timeouts, upstreamHeadersMs: opts.headersMs ?? base.timeouts.upstreamHeadersMs } })
  t.teardown(() => upstream.pool.destroy())
  const outcomes: Array<Deferred<Outcome>> = [deferred()]
  let served = 0
  const server = http.createServer((req, res) => {
    const slot = outcomes[served++]!
    outcomes.push(deferred())
    const heads: unknown[][] = []
    const writeHead = res.writeHead.bind(res) as (...a: unknown[]) => http.ServerResponse
    res.writeHead = ((...a: unknown[]) => { heads.push(a); return writeHead(...a) }) as typeof res.writeHead
    const headers: string[] = []
    for (let i = 0; i < req.rawHeaders.length; i += 2) {
      if (!isHopByHop(req.rawHeaders[i]!.toLowerCase(), undefined)) headers.push(req.rawHeaders[i]!, req.rawHeaders[i + 1]!)
    }
    // As the pipeline does: the body is streamed when the head says there is one (http/request-facts.ts).
    forward(req, res, upstream, req.url!, headers, opts.extra, readRequestFacts(req.rawHeaders, undefined).hasBody ? 'stream' : undefined).then(
      (resolved) => slot.resolve({ resolved, heads }),
      (rejected: unknown) => {
        const headersSentAtRejection = res.headersSent
        sendProblem(res, toGatewayError(rejected), undefined)
        slot.resolve({ rejected, headersSentAtRejection, heads })
      },
    )
  })
  const port = await listen(t, server)
  let taken = 0
  return { port, upstream, next: () => outcomes[taken++]!.promise }
}

async function startUpstream(t: Test, handler: http.RequestListener): Promise<{ port: number; url: string }> {
  const port = await listen(t, http.createServer(handler))
  return { port, url: `http://127.0.0.1:${port}` }
}

interface Got { status: number; headers: http.IncomingHttpHeaders; rawHeaders: string[]; body: string; complete: boolean }

/** One client request; resolves when the response has closed (complete or cut). */
function request(port: number, opts: { method?: string; path?: string; headers?: http.OutgoingHttpHeaders; body?: string } = {}): Promise<Got> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method: opts.method ?? 'GET', path: opts.path ?? '/', headers: opts.headers, agent: false }, (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (c: string) => { body += c })
      res.on('error', () => {}) // a cut connection: reported through `complete`
      res.on('close', () => resolve({ status: res.statusCode!, headers: res.headers, rawHeaders: res.rawHeaders, body, complete: res.complete }))
    })
    req.on('error', reject)
    req.end(opts.body)
  })
}

const codeOf = (o: Outcome): string => ('rejected' in o ? (o.rejected instanceof GatewayError ? o.rejected.code : `raw ${String(o.rejected)}`) : 'resolved')

t.test('createUpstream: origin and base path', async (t) => {
  for (const [url, basePath] of [['http://127.0.0.1:3000', ''], ['http://127.0.0.1:3000/', ''], ['http://127.0.0.1:3000/base', '/base'], ['http://127.0.0.1:3000/base/', '/base'], ['https://u.example/a/b/', '/a/b']] as const) {
    const cfg = unitConfig('', url)
    const u = createUpstream(cfg)
    t.teardown(() => u.pool.destroy())
    t.equal(u.basePath, basePath, url)
    t.equal(u.origin, cfg.upstream.origin)
  }
})

t.test('upstreamError: undici timeouts → upstream_timeout, anything else → upstream_unavailable', async (t) => {
  for (const code of ['UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']) {
    const cause = Object.assign(new Error('secret detail'), { code })
    const e = upstreamError(cause)
    t.match(e, { code: 'upstream_timeout', status: 504 }, code)
    t.equal(e.cause, cause)
    t.notMatch(e.detail, 'secret')
  }
  for (const code of ['ECONNREFUSED', 'ECONNRESET', 'UND_ERR_SOCKET', undefined]) {
    t.match(upstreamError(Object.assign(new Error('x'), { code })), { code: 'upstream_unavailable', status: 502 }, String(code))
  }
})

t.test('status, headers and body are relayed; the upstream gets base path + path and the given headers', async (t) => {
  const seen = deferred<{ url: string; method: string; headers: http.IncomingHttpHeaders }>()
  const up = await startUpstream(t, (req, res) => {
    seen.resolve({ url: req.url!, method: req.method!, headers: req.headers })
    res.writeHead(201, [['X-One', '1'], ['Set-Cookie', 'a=1'], ['Set-Cookie', 'b=2'], ['Content-Type', 'text/plain']].flat())
    res.end('hello')
  })
  const front = await startFront(t, up.url + '/base/', { extra: ['DomainPoP-Nonce', 'fresh'] })
  const got = await request(front.port, { method: 'DELETE', path: '/p/q?x=1&y', headers: { 'x-from-client': 'yes' } })
  t.equal(got.status, 201)
  t.equal(got.body, 'hello')
  t.equal(got.headers['x-one'], '1')
  t.same(got.headers['set-cookie'], ['a=1', 'b=2'], 'repeated fields stay separate')
  t.equal(got.headers['domainpop-nonce'], 'fresh', 'extraResponseHeaders appended')
  t.ok(got.complete)
  const s = await seen.promise
  t.equal(s.url, '/base/p/q?x=1&y')
  t.equal(s.method, 'DELETE')
  t.equal(s.headers['x-from-client'], 'yes')
  const o = await front.next()
  t.same('resolved' in o && o.resolved, { upstreamStatus: 201 })
  // The extra fields come after the upstream's, in one writeHead call.
  t.equal(o.heads.length, 1)
  const flat = o.heads[0]![1] as string[]
  t.same(flat.slice(-2), ['DomainPoP-Nonce', 'fresh'])
})

/** An upstream that answers every request with exactly these bytes. */
async function rawUpstream(t: Test, text: string): Promise<string> {
  const server = net.createServer((s) => {
    let buf = ''
    s.on('data', (c: Buffer) => {
      buf += c.toString('latin1')
      if (buf.includes('\r\n\r\n')) { s.end(text); buf = '' }
    })
    s.on('error', () => {})
  })
  return `http://127.0.0.1:${await listen(t, server)}`
}

t.test('hop-by-hop response fields, and those the Connection field names, are dropped', async (t) => {
  const url = await rawUpstream(t, [
    'HTTP/1.1 200 OK',
    'Connection: X-Private, close',
    'X-Private: internal',
    'Keep-Alive: timeout=99',
    'Proxy-Authenticate: Basic realm="up"',
    'Proxy-Connection: keep-alive',
    'Trailer: X-Sum',
    'X-Kept: yes',
    'Content-Length: 2',
    '', 'ok',
  ].join('\r\n'))
  const front = await startFront(t, url)
  const got = await request(front.port)
  t.equal(got.status, 200)
  t.equal(got.body, 'ok')
  t.equal(got.headers['x-kept'], 'yes')
  t.equal(got.headers['x-private'], undefined, 'named in Connection')
  t.equal(got.headers['proxy-authenticate'], undefined)
  t.equal(got.headers['trailer'], undefined)
  const o = await front.next()
  const names = (o.heads[0]![1] as string[]).filter((_, i) => i % 2 === 0).map((n) => n.toLowerCase())
  t.same(names.filter((n) => ['connection', 'x-private', 'keep-alive', 'proxy-authenticate', 'proxy-connection', 'trailer', 'transfer-encoding'].includes(n)), [], `forwarded: ${names.join(' ')}`)
  t.ok(names.includes('x-kept') && names.includes('content-length'))
})

t.test('the request body is streamed: the upstream sees the first part before the client sends the rest', async (t) => {
  const first = deferred<string>()
  const up = await startUpstream(t, (req, res) => {
    let body = ''
    req.setEncoding('utf8')
    req.on('data', (c: string) => { if (body === '') first.resolve(c); body += c })
    req.on('end', () => res.end(`got ${body.length}: ${body}`))
  })
  const front = await startFront(t, up.url)
  const done = deferred<Got>()
  const req = http.request({ host: '127.0.0.1', port: front.port, method: 'POST', path: '/upload', agent: false }, (res) => {
    let body = ''
    res.setEncoding('utf8')
    res.on('data', (c: string) => { body += c })
    res.on('end', () => done.resolve({ status: res.statusCode!, headers: res.headers, rawHeaders: res.rawHeaders, body, complete: res.complete }))
  })
  req.write('part-one;')
  t.equal(await first.promise, 'part-one;', 'the first chunk arrived while the client still holds the rest')
  req.end('part-two')
  const got = await done.promise
  t.equal(got.status, 200)
  t.equal(got.body, 'got 17: part-one;part-two')
})

t.test('a request without a body sends none upstream', async (t) => {
  const seen = deferred<http.IncomingHttpHeaders>()
  const up = await startUpstream(t, (req, res) => { seen.resolve(req.headers); res.end() })
  const front = await startFront(t, up.url)
  await request(front.port)
  const h = await seen.promise
  t.equal(h['transfer-encoding'], undefined)
  t.ok(h['content-length'] === undefined || h['content-length'] === '0')
})

t.test('upstream down → rejects with upstream_unavailable before anything is sent', async (t) => {
  const probe = net.createServer()
  probe.listen(0, '127.0.0.1')
  await once(probe, 'listening')
  const port = (probe.address() as AddressInfo).port
  await new Promise((r) => probe.close(r)) // nobody listens there now
  const front = await startFront(t, `http://127.0.0.1:${port}`)
  const got = await request(front.port)
  const o = await front.next()
  t.equal(codeOf(o), 'upstream_unavailable')
  t.ok('rejected' in o && !o.headersSentAtRejection, 'nothing had been sent')
  t.same(o.heads.map((h) => h[0]), [502], 'the only head written is the front\'s own 502')
  t.equal(got.status, 502)
  t.equal(JSON.parse(got.body).code, 'upstream_unavailable')
})

t.test('upstream sends no headers in time → upstream_timeout', async (t) => {
  const arrived = deferred<void>()
  const up = await startUpstream(t, () => { arrived.resolve() }) // never answers
  const front = await startFront(t, up.url, { headersMs: 150 })
  const got = request(front.port)
  await arrived.promise
  const o = await front.next()
  t.equal(codeOf(o), 'upstream_timeout')
  t.ok('rejected' in o && !o.headersSentAtRejection)
  t.equal((await got).status, 504)
})

t.test('upstream dies mid-body after the head: the client connection is cut, no second response', async (t) => {
  const up = await startUpstream(t, (req, res) => {
    res.writeHead(200, { 'content-length': '100' })
    res.write('0123456789', () => res.socket!.destroy())
  })
  const front = await startFront(t, up.url)
  const got = await request(front.port)
  t.equal(got.status, 200, 'the head was relayed')
  t.equal(got.complete, false, 'the body was cut short')
  t.ok(got.body.length < 100)
  const o = await front.next()
  t.ok('resolved' in o, 'forward resolves: there is nothing left to answer')
  t.equal(o.heads.length, 1, 'one head only')
  t.same('resolved' in o && o.resolved, { upstreamStatus: 200 })
})

t.test('the client goes away → the upstream exchange is aborted', async (t) => {
  await t.test('before the upstream answers', async (t) => {
    const upstreamClosed = deferred<void>()
    const arrived = deferred<void>()
    const up = await startUpstream(t, (req, res) => {
      res.on('close', () => upstreamClosed.resolve()) // only when the connection goes: this response never ends
      arrived.resolve()
    })
    const front = await startFront(t, up.url)
    const req = http.request({ host: '127.0.0.1', port: front.port, path: '/slow', agent: false })
    req.on('error', () => {})
    req.end()
    await arrived.promise
    req.destroy()
    await upstreamClosed.promise
    const o = await front.next()
    t.ok('resolved' in o, 'forward resolves, it does not reject into a response nobody reads')
    t.same(o.heads, [], 'nothing written')
  })

  await t.test('in the middle of the download', async (t) => {
    const upstreamClosed = deferred<void>()
    const up = await startUpstream(t, (req, res) => {
      res.on('close', () => upstreamClosed.resolve())
      res.writeHead(200, { 'content-type': 'application/octet-stream' })
      res.write('first chunk')
    })
    const front = await startFront(t, up.url)
    const req = http.request({ host: '127.0.0.1', port: front.port, path: '/download', agent: false }, (res) => {
      res.once('data', () => req.destroy())
      res.on('error', () => {})
    })
    req.on('error', () => {})
    req.end()
    await upstreamClosed.promise
    const o = await front.next()
    t.same('resolved' in o && o.resolved, { upstreamStatus: 200 })
  })

  await t.test('in the middle of the upload', async (t) => {
    const upstreamClosed = deferred<void>()
    const first = deferred<void>()
    const up = await startUpstream(t, (req, res) => {
      res.on('close', () => upstreamClosed.resolve())
      req.once('data', () => first.resolve())
    })
    const front = await startFront(t, up.url)
    const req = http.request({ host: '127.0.0.1', port: front.port, method: 'PUT', path: '/up', agent: false })
    req.on('error', () => {})
    req.write('some of it')
    await first.promise
    req.destroy()
    await upstreamClosed.promise
    const o = await front.next()
    t.ok('resolved' in o)
  })
})
