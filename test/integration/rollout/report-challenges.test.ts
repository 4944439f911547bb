// Report mode that clients can authenticate under (issue 28): the forwarded
// response of a report-only rule carries the challenges and nonces the
// refusal would have carried (RFC 9110 §11.6.1 allows WWW-Authenticate on any
// response), so a client that waits for a challenge before signing (the
// project's own createDomainPopFetch) sends a proof on its next request, and
// the shadow decision is about the identity that will use the path. And
// `unmatched: report`: a request no rule matches is forwarded and counted.

import t, { type Test } from 'tap'
import { startUpstream, startTestGateway, rawRequest } from '../../helpers/harness.js'
import { startKeyHost, keysConfig } from '../../helpers/identity.js'
import { createDomainPopFetch } from '../../../src/client/fetch.js'

const ORIGIN = 'https://gw.test'
const ACL = `version: 1
rules:
  - id: legacy
    path: /legacy/**
    mode: report
    read: [alice.test]
  - id: closed
    path: /closed/**
    mode: report
    read: [bob.test]
`

async function setup(t: Test, acl = ACL) {
  const up = await startUpstream()
  const kh = await startKeyHost()
  const gw = await startTestGateway({ upstream: up.url, publicOrigin: ORIGIN, acl, extraConfig: keysConfig() })
  t.teardown(async () => { await gw.close(); await up.close(); await kh.close() })
  const access = (path: string) => gw.log.lines.filter((l) => l.msg === 'access' && l.path === path)
  return { up, kh, gw, access }
}

t.test('a report-only path challenges on the forwarded response; the next request authenticates', async (t) => {
  const { up, kh, gw, access } = await setup(t)
  const anon = await rawRequest(gw.url, { path: '/legacy/a' })
  t.equal(anon.status, 200, 'still forwarded')
  t.match(String(anon.headers['www-authenticate']), /^DomainPoP realm="https:\/\/gw\.test", nonce="[\w-]+"/, 'the challenge a 401 would carry')
  t.match(anon.headers['domainpop-nonce'], /^[\w-]{20,}$/, 'and the nonce header')
  t.match(access('/legacy/a')[0], { decision: 'would_deny', reason: 'unauthenticated', status: 200 })

  // The project's own client: it signs only once it holds a nonce from the gateway.
  const alice = await kh.publish('alice.test')
  const client = createDomainPopFetch({ identity: 'alice.test', keyUrl: alice.keyUrl, privateKey: alice.key, audience: ORIGIN, fetch: (u, init) => fetch(String(u).replace(ORIGIN, gw.url), init) })
  const first = await client(`${ORIGIN}/legacy/b`)
  t.equal(first.status, 200)
  t.match(access('/legacy/b')[0], { decision: 'would_deny', reason: 'unauthenticated' }, 'no nonce yet: sent nothing')
  const second = await client(`${ORIGIN}/legacy/c`)
  t.equal(second.status, 200)
  t.match(access('/legacy/c')[0], { decision: 'allow', identity: 'alice.test' }, 'with the nonce from the report-mode response it authenticated')
  t.equal(up.seen.at(-1)!.headers['x-pop-identity'], 'alice.test')
})

t.test('a failed credential, or an identity the rule does not list, gets what the refusal would carry', async (t) => {
  const { gw, kh } = await setup(t)
  const bad = await rawRequest(gw.url, { path: '/legacy/x', headers: [['Authorization', 'DomainPoP not.a.jws!']] })
  t.equal(bad.status, 200)
  t.match(String(bad.headers['www-authenticate']), /DomainPoP .*error="invalid_request"/)
  // alice on a rule that lists only bob: the 403's insufficient_scope challenge, as in enforce (protocol.md §1).
  const alice = await kh.publish('alice.test')
  const nonce = (await rawRequest(gw.url, { path: '/legacy/n' })).headers['domainpop-nonce'] as string
  const { signDomainPopProof } = await import('../../../src/client/proof.js')
  const proof = signDomainPopProof(alice.key, { identity: 'alice.test', keyUrl: alice.keyUrl, audience: ORIGIN, method: 'GET', path: '/closed/y', nonce })
  const refused = await rawRequest(gw.url, { path: '/closed/y', headers: [['Authorization', `DomainPoP ${proof}`]] })
  t.equal(refused.status, 200)
  t.match(String(refused.headers['www-authenticate']), /^DomainPoP .*error="insufficient_scope"/, 'identity_not_listed: the failed scheme\'s challenge only')
  t.notMatch(String(refused.headers['www-authenticate']), /DPoP/)
})

t.test('unmatched: report forwards what no rule matches, counted under (unmatched); absent, it is refused', async (t) => {
  const { up, gw, access } = await setup(t, 'version: 1\nunmatched: report\nrules:\n  - id: app\n    path: /app/**\n    read: [alice.test]\n')
  const res = await rawRequest(gw.url, { path: '/elsewhere', headers: [['X-PoP-Identity', 'alice.test']] })
  t.equal(res.status, 200)
  t.equal(up.seen.at(-1)!.url, '/elsewhere')
  t.equal(up.seen.at(-1)!.headers['x-pop-identity'], undefined, 'no identity')
  t.match(access('/elsewhere')[0], { decision: 'would_deny', reason: 'no_rule' })
  t.notOk('rule' in access('/elsewhere')[0]!)
  t.equal(await gw.metrics.value('popgate_shadow_denials_total', { rule: '(unmatched)', reason: 'no_rule' }), 1)
  t.equal((await rawRequest(gw.url, { path: '/app/x' })).status, 401, 'a rule that matches still enforces')
  t.equal((await rawRequest(gw.url, { path: '/a/%2e%2e/%2fx' })).status, 400, 'a rejected path is never waived')

  const strict = await setup(t, 'version: 1\nrules:\n  - id: app\n    path: /app/**\n    read: [alice.test]\n')
  t.equal((await rawRequest(strict.gw.url, { path: '/elsewhere' })).status, 401, 'the default: challenged, then 403')
  t.equal(strict.up.seen.length, 0)
})

t.test('with DPoP enabled too: one challenge per enabled scheme, each with its nonce', async (t) => {
  const up = await startUpstream()
  const gw = await startTestGateway({ upstream: up.url, publicOrigin: ORIGIN, acl: ACL, extraConfig: keysConfig() + '\ndpop:\n  enabled: true\n' })
  t.teardown(async () => { await gw.close(); await up.close() })
  const res = await rawRequest(gw.url, { path: '/legacy/a' })
  t.equal(res.status, 200)
  const fields = res.rawHeaders.filter((_, i) => i % 2 === 0 && /^www-authenticate$/i.test(res.rawHeaders[i]!)).length
  t.equal(fields, 2, 'two WWW-Authenticate fields (RFC 9110 §11.6.1)')
  t.match(String(res.headers['www-authenticate']), /DomainPoP realm=/)
  t.match(String(res.headers['www-authenticate']), /DPoP algs=/)
  t.match(res.headers['domainpop-nonce'], /^[\w-]{20,}$/)
  t.match(res.headers['dpop-nonce'], /^[\w-]{20,}$/)
  // A DPoP token whose proof lacks the nonce: the use_dpop_nonce challenge rides on the forwarded response.
  const bad = await rawRequest(gw.url, { path: '/legacy/b', headers: [['Authorization', 'DPoP a.b.c'], ['DPoP', 'x.y.z']] })
  t.equal(bad.status, 200)
  t.match(String(bad.headers['www-authenticate']), /DPoP .*error="/)
})
