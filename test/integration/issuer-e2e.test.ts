// The seed's alternative flow without a browser (issue 24): a service of
// alice.test asks its own domain's reference issuer (popgate keyhost with the
// issuer on) for a token binding its public key (cnf.jwk), then calls the
// gateway with that token and a DPoP proof per request. Real sockets: the
// issuer over HTTPS (test CA) as alice.test on loopback, a gateway with
// dpop.enabled that discovers the issuer like any authorization server.

import t from 'tap'
import https from 'node:https'
import type { AddressInfo } from 'node:net'
import { Agent, fetch as undiciFetch } from 'undici'
import { DEFAULT_ACL, startTestGateway, startUpstream } from '../helpers/harness.js'
import { keysConfig } from '../helpers/identity.js'
import { tlsFixtures } from '../helpers/tls-fixtures.js'
import { createKeyHostHandler } from '../../src/keyhost/server.js'
import { createIssuer } from '../../src/keyhost/issuer.js'
import { createMemoryKeyStore } from '../../src/keyhost/store.js'
import { createDpopFetch, createIssuerFetch, generateClientKey, requestIssuerToken, IssuerError } from '../../src/client/index.js'

const GATEWAY = 'https://gw.test'
const CREDENTIAL = 'alice-services-credential-0123456789'

/** fetch that reaches *.test on 127.0.0.1 and trusts the test CA (the client's view of the world). */
const agent = new Agent({ connect: { ca: tlsFixtures.caPem, lookup: (_h, _o, cb) => cb(null, [{ address: '127.0.0.1', family: 4 }]) } })
const testFetch = ((input: string | URL, init?: RequestInit) => undiciFetch(input as string, { ...(init as object), dispatcher: agent })) as unknown as typeof fetch

async function setup(t: { teardown(fn: () => unknown): void }, issuerOpts: { now?: () => number; tokenTtlSec?: number } = {}) {
  const up = await startUpstream()
  let handler: ReturnType<typeof createKeyHostHandler> = () => {}
  let tokenRequests = 0
  const server = https.createServer({ cert: tlsFixtures.certPem, key: tlsFixtures.keyPem }, (req, res) => {
    if (req.url?.endsWith('/issuer/token')) tokenRequests++
    handler(req, res)
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  const port = (server.address() as AddressInfo).port
  const origin = `https://alice.test:${port}`
  const authorize = (req: { headers: { authorization?: string } }) => req.headers.authorization === `Bearer ${CREDENTIAL}`
  const issuer = createIssuer({ publicOrigin: origin, authorize, pathPrefix: '/.well-known/domainpop/', ...issuerOpts })
  handler = createKeyHostHandler({ identity: 'alice.test', store: createMemoryKeyStore(), authorize, publicOrigin: origin, issuer })
  const gw = await startTestGateway({ upstream: up.url, publicOrigin: GATEWAY, acl: DEFAULT_ACL, extraConfig: keysConfig() + '\ndpop:\n  enabled: true\n' })
  t.teardown(async () => { await gw.close(); server.closeAllConnections(); server.close(); await up.close() })
  return { up, gw, origin, issuer, tokenRequests: () => tokenRequests }
}

t.test('client key → the domain issuer signs a cnf.jwk token → the gateway lets the DPoP request in', async (t) => {
  const { up, gw, origin } = await setup(t)
  const key = await generateClientKey('ES256')
  const call = createIssuerFetch({ issuer: origin, credential: CREDENTIAL, privateKey: key, audience: GATEWAY, sub: 'billing', fetch: testFetch })
  const res = await call(`${gw.url}/foo`)
  t.equal(res.status, 200, await res.text())
  const h = up.seen.at(-1)!.headers
  t.equal(h['x-pop-identity'], 'alice.test', 'the identity is the issuer host')
  t.equal(h['x-pop-auth-method'], 'dpop')
  t.equal(h['x-pop-subject'], 'billing')
  t.equal(h['x-pop-key-thumbprint'], key.kid, 'bound to the caller key, not the issuer key')

  const denied = await call(`${gw.url}/reports/x`, { method: 'POST' })
  t.equal(denied.status, 200, 'write on /reports is granted to alice.test')
  const other = await call(`${gw.url}/nothing-here`)
  t.equal(other.status, 403, 'the ACL still decides')
})

t.test('the token is bound: a proof by another key is refused, and the token is reused until renewal', async (t) => {
  const { gw, origin, tokenRequests } = await setup(t)
  const key = await generateClientKey('ES256')
  const { accessToken } = await requestIssuerToken({ issuer: origin, credential: CREDENTIAL, publicJwk: key.publicJwk, audience: GATEWAY, fetch: testFetch })
  const thief = await generateClientKey('ES256')
  const stolen = await createDpopFetch({ accessToken, privateKey: thief, audience: GATEWAY, fetch: testFetch })(`${gw.url}/foo`)
  t.equal(stolen.status, 401, 'a stolen token with the thief own proof key')
  const why = await stolen.text()
  t.match(why, /"code":"dpop_proof_mismatch"/)

  const call = createIssuerFetch({ issuer: origin, credential: CREDENTIAL, privateKey: key, audience: GATEWAY, fetch: testFetch })
  const before = tokenRequests()
  for (let i = 0; i < 3; i++) t.equal((await call(`${gw.url}/foo`)).status, 200)
  t.equal(tokenRequests() - before, 1, 'one token for three requests')
  const renewing = createIssuerFetch({ issuer: origin, credential: CREDENTIAL, privateKey: key, audience: GATEWAY, fetch: testFetch, renewBeforeMs: 3600_000 })
  for (let i = 0; i < 2; i++) t.equal((await renewing(`${gw.url}/foo`)).status, 200)
  t.equal(tokenRequests() - before, 3, 'a token inside the renewal window is replaced before use')
})

t.test('the token endpoint: only the domain own services, only public keys, only a gateway origin', async (t) => {
  const { origin } = await setup(t)
  const key = await generateClientKey('ES256')
  const ask = (over: Record<string, unknown>, credential = CREDENTIAL) => testFetch(`${origin}/.well-known/domainpop/issuer/token`, {
    method: 'POST', headers: { authorization: `Bearer ${credential}`, 'content-type': 'application/json' },
    body: JSON.stringify({ jwk: key.publicJwk, aud: GATEWAY, ...over }),
  })
  const cases: [string, Response, number, RegExp][] = [
    ['wrong credential', await ask({}, 'nope'), 401, /invalid_client/],
    ['a private key', await ask({ jwk: key.privateKey.export({ format: 'jwk' }) }), 400, /private member \\"d\\"/],
    ['a symmetric key', await ask({ jwk: { kty: 'oct', k: 'AAAA' } }), 400, /private member \\"k\\"/],
    ['aud with a path', await ask({ aud: `${GATEWAY}/api` }), 400, /aud must be the gateway origin/],
    ['aud not a URL', await ask({ aud: 'gw.test' }), 400, /aud must be the gateway origin/],
    ['sub with a newline', await ask({ sub: 'a\nb' }), 400, /sub must be/],
  ]
  for (const [name, res, status, body] of cases) {
    t.equal(res.status, status, name)
    t.match(await res.text(), body, name)
    t.equal(res.headers.get('cache-control'), 'no-store', `${name}: never cached`)
  }
  const get = await testFetch(`${origin}/.well-known/domainpop/issuer/token`)
  t.equal(get.status, 405)
  await t.rejects(requestIssuerToken({ issuer: origin, credential: 'nope', publicJwk: key.publicJwk, audience: GATEWAY, fetch: testFetch }), IssuerError)
  await t.rejects(requestIssuerToken({ issuer: `${origin}/u/mallory`, credential: CREDENTIAL, publicJwk: key.publicJwk, audience: GATEWAY, fetch: testFetch }), /without a path/)
})

t.test('metadata names the issuer; signing keys rotate and a retired key is served until its tokens expire', async (t) => {
  let nowMs = Date.now()
  const { origin, issuer } = await setup(t, { now: () => nowMs, tokenTtlSec: 300 })
  const meta = await (await testFetch(`${origin}/.well-known/oauth-authorization-server`)).json() as Record<string, string>
  t.equal(meta.issuer, origin)
  t.equal(meta.jwks_uri, `${origin}/.well-known/domainpop/issuer/jwks.json`)
  const jwks = async () => ((await (await testFetch(meta.jwks_uri!)).json()) as { keys: { kid: string; d?: string }[] }).keys
  const first = await jwks()
  t.equal(first.length, 1)
  t.notOk(first[0]!.d, 'no private member served')
  nowMs += 24 * 3600_000 + 1
  const rotated = await jwks()
  t.same(rotated.map((k) => k.kid), [first[0]!.kid, rotated[1]?.kid], 'the old key is still served beside the new one')
  t.not(rotated[1]?.kid, first[0]!.kid)
  nowMs += 301_000
  t.same((await jwks()).map((k) => k.kid), [rotated[1]!.kid], 'dropped once its last token has expired')
  t.equal(issuer.publicKeys().length, 1)
})
