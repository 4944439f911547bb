// The one place a GatewayError becomes a response (http/respond.ts): which
// challenges a response carries and with which error, what the problem+json
// body says, Retry-After, Content-Length, a response already under way, the
// raw form for bare sockets, and unknown errors. Challengers and the
// ServerResponse are small fakes; rawProblem's text goes through Node's own
// HTTP parser over a loopback socket.

import t from 'tap'
import http from 'node:http'
import net from 'node:net'
import { once } from 'node:events'
import type { AddressInfo } from 'node:net'
import type { ServerResponse } from 'node:http'
import { sendProblem, rawProblem, toGatewayError, PROBLEM_TYPE_PREFIX, type Challenger } from '../../../src/http/respond.js'
import { GatewayError, type ErrorCode } from '../../../src/errors.js'

/** A scheme's challenge: `<Name> realm="r"[, error="…"]`, a nonce header and a nonce body member. */
function challenger(name: string, nonce = `nonce-${name}`): Challenger & { calls: Array<GatewayError | undefined> } {
  const calls: Array<GatewayError | undefined> = []
  return {
    name,
    calls,
    challenge(error) {
      calls.push(error)
      const field = `${name} realm="r"` + (error?.authError ? `, error="${error.authError}"` : '')
      return { field, headers: [`${name}-Nonce`, nonce], body: { nonce } }
    },
  }
}

interface Sent { status?: number; headers?: Record<string, unknown>; body?: string; destroyed?: unknown }

function fakeResponse(headersSent = false): { res: ServerResponse; sent: Sent } {
  const sent: Sent = {}
  const res = {
    headersSent,
    writeHead(status: number, headers: Record<string, unknown>) { sent.status = status; sent.headers = headers; return this },
    end(text: string) { sent.body = text; return this },
    destroy(err: unknown) { sent.destroyed = err; return this },
  }
  return { res: res as unknown as ServerResponse, sent }
}

function send(err: GatewayError, challengers?: readonly Challenger[], failed?: string): { status: number; headers: Record<string, unknown>; body: Record<string, unknown>; text: string } {
  const { res, sent } = fakeResponse()
  sendProblem(res, err, challengers, failed)
  return { status: sent.status!, headers: sent.headers!, body: JSON.parse(sent.body!) as Record<string, unknown>, text: sent.body! }
}

const err = (code: ErrorCode, opts?: { retryAfterSec?: number }) => new GatewayError(code, undefined, opts)

t.test('problem+json: shape, type URN, no-store, exact Content-Length', async (t) => {
  const e = new GatewayError('proof_typ_invalid', 'typ must be domainpop+jwt')
  const r = send(e, undefined)
  t.equal(r.status, 401)
  t.same(r.body, { type: PROBLEM_TYPE_PREFIX + 'proof_typ_invalid', title: 'Unauthorized', status: 401, code: 'proof_typ_invalid', detail: 'typ must be domainpop+jwt' })
  t.equal(PROBLEM_TYPE_PREFIX, 'urn:popgate:problem:')
  t.equal(r.headers['content-type'], 'application/problem+json')
  t.equal(r.headers['cache-control'], 'no-store')
  t.equal(r.headers['content-length'], Buffer.byteLength(r.text))
  // A body member outside ASCII: bytes, not characters.
  const wide = send(e, [challenger('DomainPoP', 'n\u00e9\u20ac')])
  t.equal(wide.headers['content-length'], Buffer.byteLength(wide.text))
  t.not(wide.headers['content-length'], wide.text.length, 'the case where the two differ')
})

t.test('no challengers: no WWW-Authenticate, even on a 401', async (t) => {
  t.equal(send(err('credentials_missing'), undefined).headers['www-authenticate'], undefined)
  t.equal(send(err('credentials_missing'), []).headers['www-authenticate'], undefined, 'an empty list')
  t.equal(send(err('malformed_proof'), undefined, 'A').headers['www-authenticate'], undefined)
})

t.test('401, two schemes, one failed: one field each, only the failed one with the error', async (t) => {
  const a = challenger('A'), b = challenger('B')
  const e = err('proof_typ_invalid')
  const r = send(e, [a, b], 'A')
  t.same(r.headers['www-authenticate'], ['A realm="r", error="invalid_proof"', 'B realm="r"'])
  t.same(a.calls, [e])
  t.same(b.calls, [undefined], 'the other scheme is asked for a bare challenge')
  const r2 = send(e, [challenger('A'), challenger('B')], 'B')
  t.same(r2.headers['www-authenticate'], ['A realm="r"', 'B realm="r", error="invalid_proof"'])
})

t.test('401 with a single scheme: one field, a string', async (t) => {
  const r = send(err('nonce_stale'), [challenger('A')], 'A')
  t.equal(r.headers['www-authenticate'], 'A realm="r", error="use_nonce"')
})

t.test('400 and 403 with an auth error and a failed scheme: only that scheme\'s challenge', async (t) => {
  for (const code of ['malformed_proof', 'proof_too_large', 'forbidden'] as const) {
    const a = challenger('A'), b = challenger('B')
    const e = err(code)
    const r = send(e, [a, b], 'B')
    t.equal(r.headers['www-authenticate'], `B realm="r", error="${e.authError}"`, code)
    t.same(a.calls, [], `${code}: the other scheme is not asked`)
    t.equal(r.headers['a-nonce'], undefined, `${code}: nor are its headers sent`)
    t.equal(r.headers['b-nonce'], 'nonce-B')
  }
})

t.test('an auth error that belongs to no scheme (failed undefined): every challenge carries it', async (t) => {
  const r = send(err('multiple_credentials'), [challenger('A'), challenger('B')])
  t.same(r.headers['www-authenticate'], ['A realm="r", error="invalid_request"', 'B realm="r", error="invalid_request"'])
  const r401 = send(err('nonce_invalid'), [challenger('A'), challenger('B')])
  t.same(r401.headers['www-authenticate'], ['A realm="r", error="use_nonce"', 'B realm="r", error="use_nonce"'])
  const bare = send(err('credentials_missing'), [challenger('A'), challenger('B')])
  t.same(bare.headers['www-authenticate'], ['A realm="r"', 'B realm="r"'], 'no credentials: no error to carry')
})

t.test('statuses without an auth error and not 401 carry no challenge', async (t) => {
  for (const code of ['bad_request', 'path_rejected', 'rate_limited', 'internal_error', 'upstream_unavailable', 'replay_store_unavailable', 'headers_too_large'] as const) {
    const a = challenger('A')
    const r = send(err(code), [a], 'A')
    t.equal(r.headers['www-authenticate'], undefined, code)
    t.same(a.calls, [], `${code}: not asked`)
    t.equal(r.body.nonce, undefined)
  }
})

t.test('challenge headers and body members are merged into the response', async (t) => {
  const r = send(err('credentials_missing'), [challenger('A', 'na'), challenger('B', 'nb')])
  t.equal(r.headers['a-nonce'], 'na', 'header names lowercased')
  t.equal(r.headers['b-nonce'], 'nb')
  t.equal(r.body.nonce, 'nb', 'one nonce member in the body')
  t.equal(r.body.code, 'credentials_missing', 'the problem members stay')
  t.equal(r.headers['content-length'], Buffer.byteLength(r.text), 'the length counts the merged members')
})

t.test('Retry-After on 429 and 503', async (t) => {
  t.equal(send(err('rate_limited', { retryAfterSec: 42 })).headers['retry-after'], 42)
  t.equal(send(err('replay_store_unavailable', { retryAfterSec: 7 })).headers['retry-after'], 7)
  t.equal(send(err('replay_store_unavailable')).headers['retry-after'], 1, '503 without a value: 1 second')
  t.equal(send(err('proof_typ_invalid')).headers['retry-after'], undefined)
  t.equal(send(err('upstream_unavailable')).headers['retry-after'], undefined)
})

t.test('a response already under way is cut, not written again', async (t) => {
  const { res, sent } = fakeResponse(true)
  const a = challenger('A')
  const e = err('upstream_unavailable')
  sendProblem(res, e, [a], 'A')
  t.equal(sent.destroyed, e, 'destroyed with the error')
  t.equal(sent.status, undefined, 'no second head')
  t.equal(sent.body, undefined, 'no body')
  t.same(a.calls, [], 'no challenge issued (no nonce spent)')
})

/** rawProblem's text, written to a bare socket, read back by Node's HTTP client. */
async function parseRaw(text: string): Promise<http.IncomingMessage & { text: string }> {
  const server = net.createServer((s) => { s.end(text) })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  try {
    const port = (server.address() as AddressInfo).port
    const req = http.get({ host: '127.0.0.1', port, path: '/', agent: false })
    const [res] = (await once(req, 'response')) as [http.IncomingMessage]
    let body = ''
    res.setEncoding('utf8')
    for await (const chunk of res) body += chunk
    return Object.assign(res, { text: body })
  } finally {
    server.close()
  }
}

t.test('rawProblem: a whole HTTP/1.1 response, one line per WWW-Authenticate value', async (t) => {
  const text = rawProblem(err('proof_typ_invalid'), [challenger('A'), challenger('B')], 'A')
  t.match(text, /^HTTP\/1\.1 401 Unauthorized\r\n/)
  t.equal(text.split('\r\n').filter((l) => /^www-authenticate:/i.test(l)).length, 2)
  const res = await parseRaw(text)
  t.equal(res.statusCode, 401)
  t.equal(res.statusMessage, 'Unauthorized')
  t.equal(res.headers.connection, 'close')
  t.same(res.headersDistinct['www-authenticate'], ['A realm="r", error="invalid_proof"', 'B realm="r"'])
  t.equal(res.headers['content-type'], 'application/problem+json')
  t.equal(Number(res.headers['content-length']), Buffer.byteLength(res.text))
  t.match(JSON.parse(res.text), { code: 'proof_typ_invalid', status: 401, nonce: 'nonce-B' })

  const plain = await parseRaw(rawProblem(err('bad_request')))
  t.equal(plain.statusCode, 400)
  t.equal(plain.headers['www-authenticate'], undefined)
  t.same(JSON.parse(plain.text), { type: PROBLEM_TYPE_PREFIX + 'bad_request', title: 'Bad Request', status: 400, code: 'bad_request', detail: 'Bad Request' })

  const busy = await parseRaw(rawProblem(err('rate_limited', { retryAfterSec: 3 })))
  t.equal(busy.statusCode, 429)
  t.equal(busy.headers['retry-after'], '3')
})

t.test('toGatewayError: GatewayErrors pass through; anything else is internal_error that echoes nothing', async (t) => {
  const g = err('forbidden')
  t.equal(toGatewayError(g), g)
  const secret = new Error('token eyJhbGciOiJFUzI1NiJ9.secret leaked')
  for (const thrown of [secret, new TypeError('x'), 'a string', undefined, null, { code: 'forbidden', status: 403 }]) {
    const e = toGatewayError(thrown)
    t.ok(e instanceof GatewayError)
    t.equal(e.code, 'internal_error')
    t.equal(e.status, 500)
    t.equal(e.cause, thrown, 'the original is kept for the log')
    t.equal(e.detail, 'internal error')
  }
  const r = send(toGatewayError(secret), [challenger('A')])
  t.notMatch(r.text, 'eyJ', 'the message is not in the response')
  t.notMatch(r.text, 'leaked')
  t.equal(r.headers['www-authenticate'], undefined)
})
