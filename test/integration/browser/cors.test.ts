// CORS through a real gateway (http/cors.ts, docs/browser.md): preflights
// answered by the gateway without credentials and never forwarded; a listed
// origin reads a 401's challenge and nonce, the upstream's answer and a 403's
// problem+json; the upstream's own CORS fields are replaced, not doubled;
// a preflight and a credentialed request from an unlisted origin are refused
// before anything is verified; a rule's own list replaces the global one;
// without any list the gateway stays out of CORS.

import t from 'tap'
import { startUpstream, startTestGateway, rawRequest } from '../../helpers/harness.js'
import { startKeyHost, keysConfig } from '../../helpers/identity.js'
import { signDomainPopProof } from '../../../src/client/proof.js'

const ORIGIN = 'https://gw.test'
const PAGE = 'https://app.alice.test'
const ACL = `version: 1
rules:
  - path: /public/**
    public: true
  - id: api
    path: /api/**
    read: [alice.test]
    write: [alice.test]
  - id: partner
    path: /partner/**
    read: [alice.test]
    cors: { origins: [https://partner.test] }
  - id: closed
    path: /closed/**
    read: [alice.test]
    cors: { origins: [] }
`

const vary = (h: Record<string, unknown>) => String(h.vary ?? '')

t.test('CORS on', async (t) => {
  const up = await startUpstream()
  const kh = await startKeyHost()
  const gw = await startTestGateway({ upstream: up.url, publicOrigin: ORIGIN, acl: ACL, extraConfig: `${keysConfig()}\ncors:\n  origins: [${PAGE}]\n` })
  t.teardown(async () => { await gw.close(); await up.close(); await kh.close() })
  const alice = await kh.publish('alice.test')
  const evil = await kh.publish('evil.test')
  const nonce = async () => (await rawRequest(gw.url, { path: '/api/x' })).headers['domainpop-nonce'] as string
  const proof = async (k: typeof alice, identity: string, method: string, path: string) =>
    `DomainPoP ${signDomainPopProof(k.key, { identity, keyUrl: k.keyUrl, audience: ORIGIN, method, path, nonce: await nonce() })}`

  t.test('a preflight from a listed origin is answered by the gateway: 204, never forwarded, no credentials needed', async (t) => {
    const before = up.seen.length
    const r = await rawRequest(gw.url, { method: 'OPTIONS', path: '/api/x', headers: [['Origin', PAGE], ['Access-Control-Request-Method', 'POST'], ['Access-Control-Request-Headers', 'authorization,content-type']] })
    t.equal(r.status, 204)
    t.equal(r.headers['access-control-allow-origin'], PAGE)
    t.equal(r.headers['access-control-allow-credentials'], 'true')
    t.match(r.headers['access-control-allow-headers'], /Authorization/)
    t.match(r.headers['access-control-allow-headers'], /DomainPoP-Proof/)
    t.match(r.headers['access-control-allow-headers'], /DPoP/)
    t.match(vary(r.headers), /Origin/)
    t.equal(up.seen.length, before, 'not forwarded')
  })

  t.test('a preflight from an unlisted origin is refused with cors_origin_refused and no CORS fields', async (t) => {
    const r = await rawRequest(gw.url, { method: 'OPTIONS', path: '/api/x', headers: [['Origin', 'https://evil.test'], ['Access-Control-Request-Method', 'POST']] })
    t.equal(r.status, 403)
    t.equal(r.headers['content-type'], 'application/problem+json')
    t.match(JSON.parse(r.body), { code: 'cors_origin_refused' })
    t.notOk(r.headers['access-control-allow-origin'])
  })

  t.test('the 401 challenge is readable by a listed page: Expose-Headers names the challenge and the nonce', async (t) => {
    const r = await rawRequest(gw.url, { path: '/api/x', headers: [['Origin', PAGE]] })
    t.equal(r.status, 401)
    t.equal(r.headers['access-control-allow-origin'], PAGE)
    for (const name of ['WWW-Authenticate', 'DomainPoP-Nonce', 'DomainPoP-Session', 'DPoP-Nonce']) t.match(r.headers['access-control-expose-headers'], name)
    t.match(vary(r.headers), /Origin/)
  })

  t.test('an allowed request: the upstream\'s own CORS fields are dropped, the gateway\'s sent once', async (t) => {
    up.handler = (_req, res) => { res.writeHead(200, { 'access-control-allow-origin': '*', 'access-control-expose-headers': 'X-Up', 'vary': 'Accept-Encoding' }); res.end('hi') }
    t.teardown(() => { up.handler = (_req, res) => { res.writeHead(200); res.end('upstream ok') } })
    const r = await rawRequest(gw.url, { path: '/api/x', headers: [['Origin', PAGE], ['Authorization', await proof(alice, 'alice.test', 'GET', '/api/x')]] })
    t.equal(r.status, 200)
    const acao = r.rawHeaders.filter((_, i) => i % 2 === 0 && r.rawHeaders[i]!.toLowerCase() === 'access-control-allow-origin')
    t.equal(acao.length, 1, 'one Access-Control-Allow-Origin')
    t.equal(r.headers['access-control-allow-origin'], PAGE, 'the origin, not the upstream\'s *')
    t.notMatch(r.headers['access-control-expose-headers'], /X-Up/)
    t.match(vary(r.headers), /Accept-Encoding/, 'the upstream\'s Vary stays')
    t.match(vary(r.headers), /Origin/)
  })

  t.test('a 403 from the gateway reaches a listed page as problem+json with CORS fields', async (t) => {
    const r = await rawRequest(gw.url, { path: '/api/x', headers: [['Origin', PAGE], ['Authorization', await proof(evil, 'evil.test', 'GET', '/api/x')]] })
    t.equal(r.status, 403)
    t.equal(r.headers['access-control-allow-origin'], PAGE)
    t.match(JSON.parse(r.body), { code: 'forbidden' })
  })

  t.test('credentials from an unlisted origin are refused before anything is fetched', async (t) => {
    const fetched = kh.requests.length
    const before = up.seen.length
    const r = await rawRequest(gw.url, { path: '/api/x', headers: [['Origin', 'https://evil.test'], ['Authorization', await proof(alice, 'alice.test', 'GET', '/api/x')]] })
    t.equal(r.status, 403)
    t.match(JSON.parse(r.body), { code: 'cors_origin_refused' })
    t.notOk(r.headers['access-control-allow-origin'])
    t.equal(kh.requests.length, fetched, 'no key fetched')
    t.equal(up.seen.length, before, 'nothing forwarded')
    // Without credentials the same origin gets the ordinary challenge (and no CORS fields).
    const bare = await rawRequest(gw.url, { path: '/api/x', headers: [['Origin', 'https://evil.test']] })
    t.equal(bare.status, 401)
    t.notOk(bare.headers['access-control-allow-origin'])
    // The gateway's own origin is always accepted.
    const own = await rawRequest(gw.url, { path: '/api/x', headers: [['Origin', ORIGIN], ['Authorization', await proof(alice, 'alice.test', 'GET', '/api/x')]] })
    t.equal(own.status, 200)
  })

  t.test('a rule\'s own list replaces the global one; an empty one turns CORS off there', async (t) => {
    const p = await rawRequest(gw.url, { method: 'OPTIONS', path: '/partner/a', headers: [['Origin', 'https://partner.test'], ['Access-Control-Request-Method', 'GET']] })
    t.equal(p.status, 204)
    t.equal(p.headers['access-control-allow-origin'], 'https://partner.test')
    const g = await rawRequest(gw.url, { method: 'OPTIONS', path: '/partner/a', headers: [['Origin', PAGE], ['Access-Control-Request-Method', 'GET']] })
    t.equal(g.status, 403, 'the global origin is not listed on this rule')
    const r = await rawRequest(gw.url, { path: '/partner/a', headers: [['Origin', 'https://partner.test'], ['Authorization', await proof(alice, 'alice.test', 'GET', '/partner/a')]] })
    t.equal(r.status, 200)
    t.equal(r.headers['access-control-allow-origin'], 'https://partner.test')
    const closed = await rawRequest(gw.url, { method: 'OPTIONS', path: '/closed/a', headers: [['Origin', PAGE], ['Access-Control-Request-Method', 'GET']] })
    t.equal(closed.status, 401, 'not answered as a preflight: the ordinary path (a challenge)')
    t.notOk(closed.headers['access-control-allow-origin'])
  })
})

t.test('without cors.origins the gateway stays out of CORS: the upstream\'s fields pass, no refusal by Origin', async (t) => {
  const up = await startUpstream()
  const kh = await startKeyHost()
  const gw = await startTestGateway({ upstream: up.url, publicOrigin: ORIGIN, acl: ACL, extraConfig: keysConfig() })
  t.teardown(async () => { await gw.close(); await up.close(); await kh.close() })
  up.handler = (_req, res) => { res.writeHead(200, { 'access-control-allow-origin': '*' }); res.end('hi') }
  const pub = await rawRequest(gw.url, { path: '/public/a', headers: [['Origin', 'https://any.test']] })
  t.equal(pub.headers['access-control-allow-origin'], '*')
  t.notMatch(vary(pub.headers), /Origin/)
  const pre = await rawRequest(gw.url, { method: 'OPTIONS', path: '/public/a', headers: [['Origin', 'https://any.test'], ['Access-Control-Request-Method', 'GET']] })
  t.equal(pre.status, 200, 'the upstream answers the preflight of a public path')
})
