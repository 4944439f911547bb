// OpenTelemetry tracing over real sockets (src/tracing/): an OTLP/HTTP
// receiver on loopback sees, for one authenticated DomainPoP request, the
// server span with its attributes and the key fetch, replay store and
// upstream child spans; the upstream receives the same trace id, and the
// access line carries it. A client's traceparent is continued only from a
// trusted hop, and only when well formed and small. A collector that is
// down or hangs changes nothing for clients: spans are dropped and counted,
// with one log line.

import t from 'tap'
import { startUpstream, startTestGateway, rawRequest, freePort, waitFor } from '../helpers/harness.js'
import { startKeyHost, keysConfig } from '../helpers/identity.js'
import { startReceiver, type Receiver } from '../helpers/otlp-receiver.js'
import { signDomainPopProof } from '../../src/client/proof.js'
import { generateClientKey } from '../../src/client/keys.js'

const ORIGIN = 'https://gw.test'
const CLIENT_TRACE = '4bf92f3577b34da6a3ce929d0e0e4736'
const CLIENT_SPAN = '00f067aa0ba902b7'
const CLIENT_TP = `00-${CLIENT_TRACE}-${CLIENT_SPAN}-01`

const tracingYaml = (endpoint: string, extra = '') => `tracing:\n  otlp:\n    endpoint: ${endpoint}\n    headers:\n      x-api-key: s3cret-key\n${extra}  sampleRatio: 1\n  serviceName: popgate-test\n`

async function setup(t: { teardown(fn: () => Promise<void>): void }, opts: { endpoint?: string; extra?: string; trusted?: boolean; receiver?: Receiver } = {}) {
  const up = await startUpstream()
  const kh = await startKeyHost()
  const rx = opts.receiver ?? await startReceiver()
  const trusted = opts.trusted ? 'trustedProxies: [127.0.0.1]\n' : ''
  const gw = await startTestGateway({ upstream: up.url, publicOrigin: ORIGIN, extraConfig: keysConfig() + '\n' + trusted + tracingYaml(opts.endpoint ?? rx.url, opts.extra) })
  t.teardown(async () => { await gw.close(); await up.close(); await kh.close(); await rx.close() })
  const flush = () => gw.gw.holder.current.tracing!.flush()
  const access = () => gw.log.lines.filter((l) => l.msg === 'access')
  return { up, kh, rx, gw, flush, access }
}

t.test('one authenticated request: server span with attributes, child spans, the same trace id upstream and in the access line', async (t) => {
  const { up, kh, rx, gw, flush, access } = await setup(t)
  const alice = await kh.publish('alice.test')
  const nonce = (await rawRequest(gw.url, { path: '/foo' })).headers['domainpop-nonce'] as string
  const proof = `DomainPoP ${signDomainPopProof(alice.key, { identity: 'alice.test', keyUrl: alice.keyUrl, audience: ORIGIN, method: 'GET', path: '/foo', nonce })}`
  rx.spans.length = 0
  await flush()
  rx.spans.length = 0
  const res = await rawRequest(gw.url, { path: '/foo', headers: [['Authorization', proof], ['traceparent', CLIENT_TP]] })
  t.equal(res.status, 200)
  await flush()
  const server = rx.spans.find((s) => s.kind === 2 /* SERVER */ && s.attributes['enduser.id'] === 'alice.test')
  t.ok(server, 'the server span arrived')
  if (!server) return
  t.equal(server.service, 'popgate-test', 'service.name from tracing.serviceName')
  t.equal(server.name, 'GET foo', 'named by method and rule id')
  t.match(server.attributes, { 'popgate.rule': 'foo', 'popgate.scheme': 'domainpop', 'popgate.decision': 'allow', 'enduser.id': 'alice.test', 'http.response.status_code': 200, 'http.request.method': 'GET', 'url.path': '/foo', 'popgate.upstream_status': 200 })
  t.not(server.traceId, CLIENT_TRACE, 'an untrusted client\'s traceparent is not continued')
  t.equal(server.parentSpanId, undefined, 'a new trace: no parent')
  const children = rx.spans.filter((s) => s.parentSpanId === server.spanId)
  const byName = (n: string) => children.find((s) => s.name === n)
  t.ok(byName('popgate.key_fetch'), 'key fetch child span')
  t.match(byName('popgate.key_fetch')?.attributes, { 'popgate.key_owner': 'alice.test', 'url.full': alice.keyUrl })
  t.match(byName('popgate.replay_store')?.attributes, { 'popgate.replay.result': 'first_use' })
  const upstreamSpan = byName('popgate.upstream')
  t.match(upstreamSpan?.attributes, { 'http.response.status_code': 200, 'url.path': '/foo' })
  const seen = up.seen.at(-1)!
  const tp = seen.headers.traceparent as string
  t.match(tp, new RegExp(`^00-${server.traceId}-[0-9a-f]{16}-01$`), 'the upstream receives the same trace id')
  t.equal(tp.split('-')[2], upstreamSpan?.spanId, 'parented by the upstream span')
  t.equal(seen.rawHeaders.filter((h) => h.toLowerCase() === 'traceparent').length, 1, 'the client\'s traceparent is replaced, not added to')
  t.equal(access().at(-1)!.trace_id, server.traceId, 'trace_id in the access line')
  const everything = JSON.stringify(rx.spans)
  t.notOk(everything.includes(proof.slice(10, 60)), 'no credential in any span')
  t.notOk(everything.includes('s3cret-key'), 'the exporter headers are not in spans')
  t.equal(rx.lastHeaders?.['x-api-key'], 's3cret-key', 'otlp.headers sent with the export')
})

t.test('refusals and public requests are traced too', async (t) => {
  const { rx, gw, flush, access } = await setup(t)
  t.equal((await rawRequest(gw.url, { path: '/public/x' })).status, 200)
  t.equal((await rawRequest(gw.url, { path: '/foo' })).status, 401)
  await flush()
  const pub = rx.spans.find((s) => s.attributes['popgate.decision'] === 'public')
  const challenge = rx.spans.find((s) => s.attributes['popgate.decision'] === 'challenge')
  t.ok(pub && rx.spans.some((s) => s.parentSpanId === pub.spanId && s.name === 'popgate.upstream'), 'public: server span and upstream span')
  t.match(challenge?.attributes, { 'popgate.code': 'credentials_missing', 'http.response.status_code': 401 })
  t.equal(access().length, 2)
  t.ok(access().every((l) => typeof l.trace_id === 'string' && /^[0-9a-f]{32}$/.test(l.trace_id as string)))
})

t.test('a trusted hop\'s traceparent is continued; malformed or oversized ones start a new trace', async (t) => {
  const { up, rx, gw, flush } = await setup(t, { trusted: true })
  const send = async (tp: string, ts?: string) => {
    const headers: [string, string][] = [['traceparent', tp]]
    if (ts !== undefined) headers.push(['tracestate', ts])
    const path = `/public/${Math.random().toString(36).slice(2)}`
    t.equal((await rawRequest(gw.url, { path, headers })).status, 200, 'the request is answered whatever its traceparent')
    await flush()
    return { span: rx.spans.find((s) => s.attributes['url.path'] === path && s.kind === 2)!, upstream: up.seen.at(-1)! }
  }
  const ok = await send(CLIENT_TP, 'vendor=abc')
  t.equal(ok.span.traceId, CLIENT_TRACE, 'continued')
  t.equal(ok.span.parentSpanId, CLIENT_SPAN, 'parented by the hop\'s span')
  t.match(ok.upstream.headers.traceparent, new RegExp(`^00-${CLIENT_TRACE}-`))
  t.equal(ok.upstream.headers.tracestate, 'vendor=abc', 'tracestate passed on')
  const bad = [
    `00-${'0'.repeat(32)}-${CLIENT_SPAN}-01`, // all-zero trace id (§3.2.2.3)
    `00-${CLIENT_TRACE}-${'0'.repeat(16)}-01`, // all-zero parent id (§3.2.2.4)
    `ff-${CLIENT_TRACE}-${CLIENT_SPAN}-01`, // version ff is invalid (§3.2.2.1)
    `00-${CLIENT_TRACE.toUpperCase()}-${CLIENT_SPAN}-01`, // upper-case hex
    `00-${CLIENT_TRACE}-${CLIENT_SPAN}-01-extra`, // version 00 has exactly four fields
    `00-${CLIENT_TRACE}-${CLIENT_SPAN}`, // truncated
    `cc-${CLIENT_TRACE}-${CLIENT_SPAN}-01-${'a'.repeat(400)}`, // a future version, but oversized
    `${CLIENT_TP}, ${CLIENT_TP}`, // two fields joined
  ]
  for (const tp of bad) {
    const r = await send(tp)
    t.not(r.span.traceId, CLIENT_TRACE, `not continued: ${tp.slice(0, 70)}`)
    t.equal(r.span.parentSpanId, undefined)
    t.match(r.upstream.headers.traceparent, new RegExp(`^00-${r.span.traceId}-`), 'the upstream gets the new trace')
  }
  const bigState = await send(CLIENT_TP, 'v=' + 'x'.repeat(2000))
  t.equal(bigState.span.traceId, CLIENT_TRACE, 'an oversized tracestate is dropped, the traceparent kept')
  t.equal(bigState.upstream.headers.tracestate, undefined)
})

t.test('a collector that is down: requests unaffected, spans dropped and counted, one log line', async (t) => {
  const port = await freePort()
  const { gw, flush } = await setup(t, { endpoint: `http://127.0.0.1:${port}/v1/traces`, extra: '    timeout: 500ms\n' })
  for (let i = 0; i < 5; i++) t.equal((await rawRequest(gw.url, { path: `/public/${i}` })).status, 200)
  await flush().catch(() => {})
  await waitFor(async () => (await gw.metrics.value('popgate_spans_dropped_total')) >= 5, 15_000)
  for (let i = 0; i < 3; i++) t.equal((await rawRequest(gw.url, { path: `/public/again${i}` })).status, 200)
  await flush().catch(() => {})
  await waitFor(async () => (await gw.metrics.value('popgate_spans_dropped_total')) >= 8, 15_000)
  const lines = gw.log.lines.filter((l) => typeof l.msg === 'string' && (l.msg as string).startsWith('trace export'))
  t.equal(lines.length, 1, 'one log line for the outage')
  t.equal(lines[0]!.level, 40)
  t.notOk(JSON.stringify(lines).includes('s3cret-key'), 'the export headers are not logged')
})

t.test('a collector that hangs: requests unaffected, spans dropped after the timeout and counted', async (t) => {
  const rx = await startReceiver()
  rx.mode = 'hang'
  const { gw, flush } = await setup(t, { receiver: rx, extra: '    timeout: 300ms\n' })
  const started = Date.now()
  for (let i = 0; i < 5; i++) t.equal((await rawRequest(gw.url, { path: `/public/${i}` })).status, 200)
  t.ok(Date.now() - started < 5_000, 'answered without waiting for the collector')
  void flush().catch(() => {})
  await waitFor(() => rx.exports >= 1, 10_000)
  await waitFor(async () => (await gw.metrics.value('popgate_spans_dropped_total')) >= 5, 15_000)
  t.equal((await rawRequest(gw.url, { path: '/public/after' })).status, 200, 'still answering')
  t.equal(gw.log.lines.filter((l) => l.msg === 'trace export failing; spans are dropped and counted in popgate_spans_dropped_total until it recovers').length, 1)
  rx.mode = 'ok'
})

t.test('tracing off: no trace_id, the client\'s traceparent passes through untouched', async (t) => {
  const up = await startUpstream()
  const gw = await startTestGateway({ upstream: up.url })
  t.teardown(async () => { await gw.close(); await up.close() })
  t.equal(gw.gw.holder.current.tracing, undefined)
  t.equal((await rawRequest(gw.url, { path: '/public/x', headers: [['traceparent', CLIENT_TP]] })).status, 200)
  t.equal(up.seen.at(-1)!.headers.traceparent, CLIENT_TP)
  t.notOk('trace_id' in gw.log.lines.find((l) => l.msg === 'access')!)
})

t.test('sampleRatio 0: nothing exported, but the trace id still reaches the access line and the upstream (not sampled)', async (t) => {
  const rx = await startReceiver()
  const up = await startUpstream()
  const gw = await startTestGateway({ upstream: up.url, extraConfig: `tracing:\n  otlp:\n    endpoint: ${rx.url}\n  sampleRatio: 0\n` })
  t.teardown(async () => { await gw.close(); await up.close(); await rx.close() })
  t.equal((await rawRequest(gw.url, { path: '/public/x' })).status, 200)
  await gw.gw.holder.current.tracing!.flush()
  t.equal(rx.spans.length, 0, 'no span exported')
  const id = gw.log.lines.find((l) => l.msg === 'access')!.trace_id as string
  t.match(id, /^[0-9a-f]{32}$/)
  t.match(up.seen.at(-1)!.headers.traceparent, new RegExp(`^00-${id}-[0-9a-f]{16}-00$`), 'sampled flag off')
})
