// The request view (pipeline/request-view.ts): header fields read lazily from
// the raw list (lines combined), cookies by name, and the body buffered once
// within a bound (413 body_too_large beyond it) and then forwarded from the
// buffer (proxy/forward.ts).

import t from 'tap'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { GateView } from '../../../src/pipeline/request-view.js'
import { readRequestFacts } from '../../../src/http/request-facts.js'
import { createUpstream, forward } from '../../../src/proxy/forward.js'
import { isGatewayError } from '../../../src/errors.js'
import { unitConfig } from '../../helpers/unit/config.js'

type Handler = (view: GateView, req: http.IncomingMessage, res: http.ServerResponse) => Promise<void>

async function front(t: { teardown(fn: () => unknown): void }, handler: Handler): Promise<number> {
  const server = http.createServer((req, res) => {
    const facts = readRequestFacts(req.rawHeaders, undefined)
    handler(new GateView(req, facts, req.method!, req.url!, 0), req, res).catch((err: unknown) => {
      res.writeHead(isGatewayError(err) ? err.status : 500).end(isGatewayError(err) ? err.code : String(err))
    })
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  t.teardown(() => { server.closeAllConnections(); server.close() })
  return (server.address() as AddressInfo).port
}

function send(port: number, opts: { method?: string; headers?: [string, string][]; body?: string; chunked?: boolean }): Promise<{ status: number; body: string }> {
  // A raw header list (lines of one name kept apart): Node then adds neither Host nor Content-Length.
  const flat = ['Host', `127.0.0.1:${port}`, ...(opts.headers ?? []).flat()]
  if (opts.body !== undefined && !opts.chunked) flat.push('Content-Length', String(Buffer.byteLength(opts.body)))
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method: opts.method ?? 'POST', path: '/x', headers: flat as unknown as http.OutgoingHttpHeaders, agent: false }, (res) => {
      let body = ''
      res.setEncoding('utf8').on('data', (c: string) => { body += c }).on('end', () => resolve({ status: res.statusCode!, body }))
    })
    req.on('error', reject)
    if (opts.chunked && opts.body !== undefined) { req.write(opts.body.slice(0, 3)); req.end(opts.body.slice(3)) } else req.end(opts.body)
  })
}

t.test('field(): any field by name, lines combined (RFC 9110 §5.3), Cookie lines with "; "; cookie() by name', async (t) => {
  const port = await front(t, async (v, _req, res) => {
    res.end(JSON.stringify([v.field('x-a'), v.field('X-A'), v.field('absent'), v.field('cookie'), v.cookie('s'), v.cookie('t'), v.cookie('nope'), v.target, v.authority]))
  })
  const got = await send(port, { method: 'GET', headers: [['X-A', '1'], ['x-a', '2'], ['Cookie', 'a=1; s=two'], ['Cookie', 't=3']] })
  t.strictSame(JSON.parse(got.body), ['1, 2', '1, 2', null, 'a=1; s=two; t=3', 'two', '3', null, '/x', `127.0.0.1:${port}`])
})

t.test('body(): buffered once, bounded by Content-Length or by what arrives; 413 body_too_large beyond the bound', async (t) => {
  const port = await front(t, async (v, req, res) => {
    const max = Number(req.headers['x-max'])
    const first = await v.body(max)
    const second = await v.body(max)
    res.end(`${first === second ? 'same' : 'two'} ${Buffer.from(first).toString()} ${v.buffered === first}`)
  })
  t.equal((await send(port, { headers: [['X-Max', '10']], body: 'hello' })).body, 'same hello true')
  t.strictSame(await send(port, { headers: [['X-Max', '4']], body: 'hello' }), { status: 413, body: 'body_too_large' }, 'refused by Content-Length')
  t.strictSame(await send(port, { headers: [['X-Max', '4'], ['Transfer-Encoding', 'chunked']], body: 'hello', chunked: true }), { status: 413, body: 'body_too_large' }, 'refused as it arrives')
  t.equal((await send(port, { headers: [['X-Max', '10'], ['Transfer-Encoding', 'chunked']], body: 'hello', chunked: true })).body, 'same hello true')
  t.equal((await send(port, { method: 'GET', headers: [['X-Max', '10']] })).body, 'same  true', 'no body: empty, nothing read')
})

t.test('a body a scheme buffered is forwarded from the buffer', async (t) => {
  const up = http.createServer((req, res) => { let b = ''; req.setEncoding('utf8').on('data', (c: string) => { b += c }).on('end', () => res.end(`${req.headers['content-length']} ${b}`)) })
  await new Promise<void>((r) => up.listen(0, '127.0.0.1', r))
  const base = unitConfig('', `http://127.0.0.1:${(up.address() as AddressInfo).port}`)
  const upstream = createUpstream(base)
  t.teardown(async () => { await upstream.pool.destroy(); up.closeAllConnections(); up.close() })
  const port = await front(t, async (v, req, res) => {
    const body = await v.body(100)
    await forward(req, res, upstream, '/x', [], [], body)
  })
  t.equal((await send(port, { headers: [['Transfer-Encoding', 'chunked']], body: 'signed body', chunked: true })).body, '11 signed body', 'the upstream gets the same bytes, with their length')
})
