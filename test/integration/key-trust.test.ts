// Key trust over real sockets (issue 25): the ACL's identities: settings
// enforced at the one control point (src/keys/trust.ts) for DomainPoP key
// documents and a DPoP issuer's JWKS; key_first_seen once per new key;
// newKeys: hold until `keys approve` through the admin listener; a key host
// outage (connection refused, 503) served from a verified key within
// keys.staleIfError and not after (injected clock, no sleeping); a key the
// domain removed refused on the next refetch; a hanging webhook costing
// requests nothing.

import t, { type Test } from 'tap'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { DEFAULT_ACL, rawRequest, startTestGateway, startUpstream, waitFor } from '../helpers/harness.js'
import { keysConfig } from '../helpers/identity.js'
import { json, startKeyHost, type KeyHost } from '../helpers/key-host.js'
import { mintProof, mintToken, newKey } from '../helpers/dpop.js'
import { signDomainPopProof } from '../../src/client/proof.js'
import { generateClientKey, type ClientKey } from '../../src/client/keys.js'

const ORIGIN = 'https://gw.test'
const KEY_PATH = (kid: string) => `/.well-known/domainpop/keys/${kid}`

const identitiesAcl = (block: string) => `${DEFAULT_ACL}identities:\n${block}`

interface Setup {
  readonly gw: Awaited<ReturnType<typeof startTestGateway>>
  readonly kh: KeyHost
  readonly adminUrl: string
  clock: number
  /** One proof for /foo as alice.test with `key` (served at its own URL), with a fresh nonce. */
  call(key: ClientKey, path?: string): Promise<{ status: number; code: string | undefined }>
  publish(key: ClientKey, opts?: { status?: number; maxAge?: number; keys?: ClientKey[] }): void
}

async function setup(t: Test, opts: { acl?: string; extraKeys?: string; extraConfig?: string; resolve?: string[] } = {}): Promise<Setup> {
  const up = await startUpstream()
  const kh = await startKeyHost()
  const s = { clock: Date.now() } as Setup
  const gw = await startTestGateway({
    upstream: up.url, publicOrigin: ORIGIN, acl: opts.acl ?? DEFAULT_ACL, now: () => s.clock,
    extraConfig: [keysConfig(['alice.test', ...(opts.resolve ?? [])]) + (opts.extraKeys ?? ''), 'admin: { listen: 127.0.0.1:0 }', opts.extraConfig ?? ''].join('\n'),
  })
  t.teardown(async () => { await gw.close(); await kh.close(); await up.close() })
  const publish: Setup['publish'] = (key, o = {}) => {
    kh.route(KEY_PATH(key.kid), json({ keys: (o.keys ?? [key]).map((k) => ({ ...k.publicJwk, use: 'sig' })) }, { status: o.status, headers: { 'cache-control': `max-age=${o.maxAge ?? 60}` } }))
  }
  const call: Setup['call'] = async (key, path = '/foo') => {
    const nonce = (await rawRequest(gw.url, { path })).headers['domainpop-nonce'] as string
    const proof = signDomainPopProof(key, { identity: 'alice.test', keyUrl: kh.url('alice.test', KEY_PATH(key.kid)), audience: ORIGIN, method: 'GET', path, nonce, iatSec: Math.floor(s.clock / 1000) })
    const res = await rawRequest(gw.url, { path, headers: [['Authorization', `DomainPoP ${proof}`]] })
    return { status: res.status, code: res.status === 200 ? undefined : (JSON.parse(res.body) as { code: string }).code }
  }
  return Object.assign(s, { gw, kh, adminUrl: `http://127.0.0.1:${gw.gw.admin!.port}`, call, publish })
}

const firstSeenLines = (s: Setup) => s.gw.log.lines.filter((l) => l.msg === 'key_first_seen')

t.test('DomainPoP: a pinned identity passes with its pinned key and is refused with another key its domain serves, which is never fetched', async (t) => {
  const [k1, k2] = await Promise.all([generateClientKey('ES256'), generateClientKey('ES256')])
  const s = await setup(t, { acl: identitiesAcl(`  alice.test:\n    keys: [${k1.kid}]\n`) })
  s.publish(k1)
  s.publish(k2)
  t.same(await s.call(k1), { status: 200, code: undefined }, 'the pinned key')
  t.same(await s.call(k2), { status: 401, code: 'key_not_pinned' }, 'a key alice.test really serves, not pinned')
  t.equal(s.kh.count(KEY_PATH(k2.kid)), 0, 'refused before anything was fetched')
  t.equal(await s.gw.metrics.value('popgate_key_pin_refusals_total', { scheme: 'domainpop' }), 1)
  // One document holding both keys: the unpinned one is not imported, so the pinned kid is all it has.
  const both = await generateClientKey('ES256')
  s.publish(both, { keys: [k2, both] })
  t.same(await s.call(both), { status: 401, code: 'key_not_pinned' }, 'a third key, in a document with k2')
})

t.test('DPoP: a pinned identity passes with its pinned issuer key and is refused with another key of its issuer\'s JWKS', async (t) => {
  const up = await startUpstream()
  const as = await startKeyHost()
  const [rs1, rs2, client] = await Promise.all([newKey('RS256', 'rs1'), newKey('RS256', 'rs2'), newKey('ES256')])
  as.route('/.well-known/oauth-authorization-server', (req, res) => {
    json({ issuer: `https://alice.test:${as.port}`, jwks_uri: `https://alice.test:${as.port}/jwks` }, { contentType: 'application/json' })(req, res)
  })
  as.route('/jwks', json({ keys: [rs1.jwk, rs2.jwk] }, { contentType: 'application/json' }))
  const gw = await startTestGateway({
    upstream: up.url, publicOrigin: ORIGIN, acl: identitiesAcl(`  alice.test:\n    keys: [${rs1.jkt}]\n`),
    extraConfig: keysConfig() + '\ndpop:\n  enabled: true\n  requireNonce: false\n',
  })
  t.teardown(async () => { await gw.close(); await as.close(); await up.close() })
  const nowSec = () => Math.floor(Date.now() / 1000)
  const get = (key: typeof rs1) => {
    const tok = mintToken(key, { issuer: `https://alice.test:${as.port}`, audience: ORIGIN, client, nowSec: nowSec() })
    return rawRequest(gw.url, { path: '/foo', headers: [['Authorization', `DPoP ${tok}`], ['DPoP', mintProof(client, { token: tok, htm: 'GET', htu: ORIGIN + '/foo', nowSec: nowSec() })]] })
  }
  const ok = await get(rs1)
  t.equal(ok.status, 200, ok.body)
  const refused = await get(rs2)
  t.equal(refused.status, 401)
  t.match(JSON.parse(refused.body), { code: 'key_not_pinned' })
  t.match(refused.headers['www-authenticate'], /error="invalid_token"/, 'in DPoP\'s words (RFC 9449 §7.1)')
  t.equal(await gw.metrics.value('popgate_key_pin_refusals_total', { scheme: 'dpop' }), 1, 'withheld at import, counted all the same')
  t.equal(as.count('/jwks'), 1, 'the set was fetched once; the refusal cost no refetch')
})

t.test('a new key for an identity that had one: exactly one key_first_seen line and one counter step', async (t) => {
  const [k1, k2] = await Promise.all([generateClientKey('ES256'), generateClientKey('ES256')])
  const s = await setup(t)
  s.publish(k1)
  s.publish(k2)
  t.equal((await s.call(k1)).status, 200)
  t.equal(firstSeenLines(s).length, 0, 'an identity\'s first key is no event')
  for (let i = 0; i < 3; i++) t.equal((await s.call(k2)).status, 200)
  const lines = firstSeenLines(s)
  t.equal(lines.length, 1, 'one line for three uses')
  t.match(lines[0], { event: 'key_first_seen', identity: 'alice.test', thumbprint: k2.kid, alg: 'ES256', scheme: 'domainpop', url: s.kh.url('alice.test', KEY_PATH(k2.kid)), otherKeys: 1 })
  t.equal(await s.gw.metrics.value('popgate_keys_first_seen_total', { identity: 'alice.test' }), 1)
})

t.test('newKeys: hold refuses a new key (one event however often it is retried) until keys approve, then accepts it', async (t) => {
  const [k1, k2] = await Promise.all([generateClientKey('ES256'), generateClientKey('ES256')])
  const s = await setup(t, { acl: identitiesAcl('  alice.test:\n    newKeys: hold\n') })
  s.publish(k1)
  s.publish(k2)
  t.equal((await s.call(k1)).status, 200, 'the first key is trusted on first use')
  for (let i = 0; i < 25; i++) t.same(await s.call(k2), { status: 401, code: 'key_held' })
  t.equal(firstSeenLines(s).length, 1, 'one event for 25 tries')
  t.match(firstSeenLines(s)[0], { state: 'held' })
  t.equal(await s.gw.metrics.value('popgate_key_held_refusals_total', { scheme: 'domainpop' }), 25)
  const list = await (await fetch(`${s.adminUrl}/keys/alice.test`)).json() as { keys: { thumbprint: string; state: string }[] }
  t.same(list.keys.map((k) => [k.thumbprint, k.state]).sort(), [[k1.kid, 'accepted'], [k2.kid, 'held']].sort())
  const approved = await fetch(`${s.adminUrl}/keys/approve/alice.test/${k2.kid}`, { method: 'POST' })
  t.equal(approved.status, 200)
  t.same(await s.call(k2), { status: 200, code: undefined }, 'accepted after approval')
  t.equal(firstSeenLines(s).length, 1)
  // Bad approvals say why.
  t.equal((await fetch(`${s.adminUrl}/keys/approve/bob.test/${k2.kid}`, { method: 'POST' })).status, 404, 'an identity identities: does not name')
  t.equal((await fetch(`${s.adminUrl}/keys/approve/alice.test/short`, { method: 'POST' })).status, 400, 'a malformed thumbprint')
  t.equal((await fetch(`${s.adminUrl}/keys/approve/alice..test/${k2.kid}`, { method: 'POST' })).status, 400, 'a malformed identity')
})

for (const outage of ['connection refused', '503'] as const) {
  t.test(`key host down (${outage}): a verified key serves within keys.staleIfError and not after`, async (t) => {
    const k1 = await generateClientKey('ES256')
    const s = await setup(t, { extraKeys: '\n  staleIfError: 5m\n  negativeTtl: 10s' })
    s.publish(k1, { maxAge: 60 })
    t.equal((await s.call(k1)).status, 200, 'verified once')
    if (outage === '503') s.publish(k1, { status: 503 })
    else await s.kh.close()
    s.clock += 61_000 // the document expired: the next use refetches
    t.same(await s.call(k1), { status: 200, code: undefined }, 'stale, within the window')
    s.clock += 20_000 // past negativeTtl: refetched again, still down
    t.same(await s.call(k1), { status: 200, code: undefined })
    t.ok(await s.gw.metrics.value('popgate_keys_stale_served_total', { cache: 'key' }) >= 2, 'counted')
    t.equal(s.gw.log.lines.filter((l) => typeof l.msg === 'string' && l.msg.includes('serving the key that verified before')).length, 1, 'logged once')
    s.clock += 5 * 60_000 // past expiry + staleIfError
    const after = await s.call(k1)
    t.equal(after.status, 401, 'not after it')
    t.equal(after.code, outage === '503' ? 'key_fetch_status' : 'key_fetch_failed')
  })
}

t.test('a 404 is an answer, not an outage: the verified key is not served stale', async (t) => {
  const k1 = await generateClientKey('ES256')
  const s = await setup(t, { extraKeys: '\n  staleIfError: 5m' })
  s.publish(k1)
  t.equal((await s.call(k1)).status, 200)
  s.publish(k1, { status: 404 })
  s.clock += 61_000
  t.same(await s.call(k1), { status: 401, code: 'key_fetch_status' })
})

t.test('a key removed from the domain\'s document (a 200 without it) is refused on the next refetch, staleIfError or not', async (t) => {
  const [k1, other] = await Promise.all([generateClientKey('ES256'), generateClientKey('ES256')])
  const s = await setup(t, { extraKeys: '\n  staleIfError: 5m' })
  s.publish(k1)
  t.equal((await s.call(k1)).status, 200)
  s.publish(k1, { keys: [other] })
  t.equal((await s.call(k1)).status, 200, 'still fresh in the cache')
  s.clock += 61_000
  t.same(await s.call(k1), { status: 401, code: 'key_not_found' }, 'dropped at once')
})

t.test('a webhook that hangs leaves requests unaffected; the event still reaches it', async (t) => {
  const posts: string[] = []
  const hook = http.createServer((req) => { let b = ''; req.on('data', (c) => { b += c }); req.on('end', () => posts.push(b)) }) // never answers
  await new Promise<void>((r) => hook.listen(0, '127.0.0.1', r))
  t.teardown(() => new Promise<void>((r) => { hook.closeAllConnections(); hook.close(() => r()) }))
  const port = (hook.address() as AddressInfo).port
  const [k1, k2] = await Promise.all([generateClientKey('ES256'), generateClientKey('ES256')])
  const s = await setup(t, { resolve: ['hook.test'], extraKeys: `\n  webhook: http://hook.test:${port}/popgate\n  allowHttp: [hook.test]\n  timeout: 30s` })
  s.publish(k1)
  s.publish(k2)
  t.equal((await s.call(k1)).status, 200)
  t.equal((await s.call(k2)).status, 200, 'answered while the webhook hangs')
  t.equal((await s.call(k2)).status, 200)
  await waitFor(() => posts.length === 1)
  t.match(JSON.parse(posts[0]!), { event: 'key_first_seen', identity: 'alice.test', thumbprint: k2.kid })
})
