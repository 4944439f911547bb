// An introspection endpoint that misbehaves, or an answer that must not be
// believed (issue 24, "Bad input"): each is a 401 invalid_token with its
// documented code, never a 5xx, and the gateway keeps serving. The endpoint
// is a scripted HTTPS stand-in for alice.test (test CA) that checks the
// gateway's client_secret_basic credentials; tokens are random opaque strings
// and proofs are minted in the test.

import t from 'tap'
import { randomBytes } from 'node:crypto'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { DEFAULT_ACL, rawRequest, startTestGateway, startUpstream } from '../helpers/harness.js'
import { keysConfig } from '../helpers/identity.js'
import { startKeyHost } from '../helpers/key-host.js'
import { mintProof, newKey } from '../helpers/dpop.js'

const ORIGIN = 'https://gw.test'
const ACL = DEFAULT_ACL + `  - id: bob-only
    path: /bob
    read: [bob.test]
`
const SECRET = 'gw-secret-0123456789'
const BASIC = 'Basic ' + Buffer.from(`popgate:${SECRET}`).toString('base64')

type Answer = (body: URLSearchParams, req: IncomingMessage, res: ServerResponse) => void

async function setup(t: { teardown(fn: () => unknown): void }, endpointPort?: number) {
  const up = await startUpstream()
  const as = await startKeyHost()
  const issuer = `https://alice.test:${as.port}`
  let answer: Answer = (_b, _q, res) => { res.writeHead(500).end() }
  as.route('/introspect', (req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      if (req.method !== 'POST' || req.headers.authorization !== BASIC) return void res.writeHead(401, { 'content-type': 'application/json' }).end('{"error":"invalid_client"}')
      answer(new URLSearchParams(Buffer.concat(chunks).toString()), req, res)
    })
  })
  const endpoint = `https://alice.test:${endpointPort ?? as.port}/introspect`
  const gw = await startTestGateway({
    upstream: up.url, publicOrigin: ORIGIN, acl: ACL,
    extraConfig: keysConfig() + '\n  timeout: 500ms\ndpop:\n  enabled: true\n  issuers:\n' +
      `    "${issuer}":\n      introspection:\n        endpoint: ${endpoint}\n        clientId: popgate\n        clientSecret: ${SECRET}\n`,
  })
  const client = await newKey('ES256')
  const nowSec = () => Math.floor(Date.now() / 1000)
  const nonce = (await rawRequest(gw.url, { path: '/foo' })).headers['dpop-nonce'] as string
  /** A fresh opaque token (so no cache answers), presented with a valid proof by `client`. */
  const send = (path = '/foo', token = randomBytes(32).toString('base64url')) => rawRequest(gw.url, {
    path, headers: [['Authorization', `DPoP ${token}`], ['DPoP', mintProof(client, { token, htm: 'GET', htu: ORIGIN + path, nowSec: nowSec(), nonce })]],
  })
  const ok = (extra: Record<string, unknown> = {}): Answer => (body, _req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({
      active: true, iss: issuer, aud: ORIGIN, client_id: 'svc', token_type: 'DPoP', cnf: { jkt: client.jkt }, exp: nowSec() + 300, sub: body.get('token')!.slice(0, 8), ...extra,
    }))
  }
  t.teardown(async () => { await gw.close(); await as.close(); await up.close() })
  return { up, as, gw, issuer, client, send, ok, setAnswer: (a: Answer) => { answer = a } }
}

const code = (body: string) => (JSON.parse(body) as { code?: string }).code

t.test('every bad endpoint or answer is a 401 with its code; the gateway keeps serving', async (t) => {
  const s = await setup(t)
  const anotherJkt = (await newKey('ES256')).jkt
  const cases: [string, Answer, string][] = [
    ['inactive', (_b, _q, res) => { res.writeHead(200, { 'content-type': 'application/json' }).end('{"active":false}') }, 'token_inactive'],
    ['an answer without cnf (a bearer token)', s.ok({ cnf: undefined }), 'token_unbound'],
    ['token_type Bearer', s.ok({ token_type: 'Bearer', cnf: undefined }), 'token_unbound'],
    ['another cnf.jkt', s.ok({ cnf: { jkt: anotherJkt } }), 'dpop_proof_mismatch'],
    ['an answer naming another issuer (another domain)', s.ok({ iss: 'https://evil.test' }), 'introspection_identity_mismatch'],
    ['a token for another resource server', s.ok({ aud: 'https://other.test' }), 'token_audience_mismatch'],
    ['an expired token', s.ok({ exp: Math.floor(Date.now() / 1000) - 600 }), 'token_expired'],
    ['500', (_b, _q, res) => { res.writeHead(500, { 'content-type': 'application/json' }).end('{}') }, 'introspection_failed'],
    ['a redirect', (_b, _q, res) => { res.writeHead(302, { location: 'https://evil.test/introspect' }).end() }, 'introspection_failed'],
    ['a huge body', (_b, _q, res) => { res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ active: true, pad: 'x'.repeat(1 << 20) })) }, 'introspection_failed'],
    ['a huge body without Content-Length', (_b, _q, res) => { res.writeHead(200, { 'content-type': 'application/json' }); res.write('{"active":true,"pad":"'); res.end('x'.repeat(1 << 20) + '"}') }, 'introspection_failed'],
    ['not JSON', (_b, _q, res) => { res.writeHead(200, { 'content-type': 'application/json' }).end('<html>') }, 'introspection_failed'],
    ['text/html', (_b, _q, res) => { res.writeHead(200, { 'content-type': 'text/html' }).end('{"active":true}') }, 'introspection_failed'],
    ['an endpoint that hangs', () => { /* never answers */ }, 'introspection_failed'],
  ]
  for (const [name, answer, expected] of cases) {
    s.setAnswer(answer)
    const res = await s.send()
    t.equal(res.status, 401, `${name}: 401`)
    t.equal(code(res.body), expected, `${name}: ${expected}`)
    t.match(String(res.headers['www-authenticate']), /DPoP .*error="invalid_token"|DPoP .*error="invalid_dpop_proof"/, `${name}: a DPoP challenge`)
  }
  t.equal(s.up.seen.length, 0, 'nothing reached the upstream')
  t.equal(s.as.count('/introspect'), cases.length, 'one call each: nothing retried, no redirect followed')
  t.notOk(s.as.requests.some((r) => r.host?.startsWith('evil.test')), 'the redirect was not followed')

  s.setAnswer(s.ok())
  const good = await s.send()
  t.equal(good.status, 200, 'the gateway is healthy: a good token still passes')
  t.equal(s.up.seen[0]!.headers['x-pop-identity'], 'alice.test')
  t.ok(await s.gw.metrics.value('popgate_introspection_requests_total', { outcome: 'failed' }) >= 7)
})

t.test('the identity never comes from the answer: a sub naming another domain is only a subject', async (t) => {
  const s = await setup(t)
  s.setAnswer(s.ok({ sub: 'bob.test', client_id: 'bob.test' }))
  const res = await s.send()
  t.equal(res.status, 200)
  t.equal(s.up.seen[0]!.headers['x-pop-identity'], 'alice.test', 'the configured issuer\'s host, as the ACL authorized')
  t.equal(s.up.seen[0]!.headers['x-pop-subject'], 'bob.test')
  // And bob.test's rule does not open for it: the ACL decided on alice.test before the call.
  const bob = await s.send('/bob')
  t.equal(bob.status, 403)
})

t.test('authorize before fetch: a path the ACL refuses costs no introspection', async (t) => {
  const s = await setup(t)
  s.setAnswer(s.ok())
  for (let i = 0; i < 5; i++) t.equal((await s.send('/bob')).status, 403)
  t.equal(s.as.count('/introspect'), 0)
})

t.test('an unreachable endpoint: 401 introspection_failed, and the gateway stays healthy', async (t) => {
  // A port nothing listens on: a listener opened and closed.
  const closed = await startKeyHost()
  const port = closed.port
  await closed.close()
  const s = await setup(t, port)
  const res = await s.send()
  t.equal(res.status, 401)
  t.equal(code(res.body), 'introspection_failed')
  const again = await s.send()
  t.equal(again.status, 401, 'asked again (a failure is not cached) and refused again')
  const pub = await rawRequest(s.gw.url, { path: '/public/x' })
  t.equal(pub.status, 200, 'the gateway answers other requests')
})
