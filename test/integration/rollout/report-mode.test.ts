// Report mode over real sockets (issue 15, done-when 1): a report-only rule
// forwards what it would refuse, without identity headers, and counts it; a
// forged proof on it is verified, fails, and is forwarded without an
// identity (would_deny, never `identity`); switching the rule to enforce by
// hot reload refuses the same requests. What report mode never waives:
// malformed requests, no rule at all, and public rules' refusals.

import t, { type Test } from 'tap'
import { writeFile } from 'node:fs/promises'
import { startUpstream, startTestGateway, rawRequest } from '../../helpers/harness.js'
import { startKeyHost, keysConfig } from '../../helpers/identity.js'
import { proofParts, editParts, signParts } from '../../helpers/forge.js'
import { signDomainPopProof } from '../../../src/client/proof.js'
import { generateClientKey } from '../../../src/client/keys.js'

const ORIGIN = 'https://gw.test'
const acl = (mode: 'report' | 'enforce') => `version: 1
rules:
  - path: /healthz
    public: true
  - id: legacy
    path: /legacy/**
    mode: ${mode}
    read: [alice.test]
  - id: reports
    path: /reports/**
    read: [alice.test]
`

async function setup(t: Test) {
  const up = await startUpstream()
  const kh = await startKeyHost()
  const gw = await startTestGateway({ upstream: up.url, publicOrigin: ORIGIN, acl: acl('report'), extraConfig: keysConfig() + '\nadmin:\n  listen: 127.0.0.1:0\n' })
  t.teardown(async () => { await gw.close(); await up.close(); await kh.close() })
  const alice = await kh.publish('alice.test')
  const bob = await kh.publish('bob.test')
  kh.requests.length = 0
  /** A fresh nonce, from a challenge on an enforcing rule (a report-mode rule forwards instead of challenging). */
  const nonce = async () => (await rawRequest(gw.url, { path: '/reports/x' })).headers['domainpop-nonce'] as string
  const proof = async (who: typeof alice, identity: string, path: string, method = 'GET') =>
    signDomainPopProof(who.key, { identity, keyUrl: who.keyUrl, audience: ORIGIN, method, path, nonce: await nonce() })
  /** Signed by a key alice never published, naming alice's published key. */
  const forged = async (path: string) => {
    const attacker = await generateClientKey('ES256')
    const parts = editParts(proofParts(attacker, { identity: 'alice.test', keyUrl: alice.keyUrl, audience: ORIGIN, method: 'GET', path, nonce: await nonce() }), { header: { kid: alice.key.kid } })
    return signParts(attacker, parts)
  }
  const access = (path: string) => gw.log.lines.filter((l) => l.msg === 'access' && l.path === path)
  const shadow = (reason: string) => gw.metrics.value('popgate_shadow_denials_total', { rule: 'legacy', reason })
  return { up, kh, gw, alice, bob, proof, forged, access, shadow }
}

const identityHeaders = (h: Record<string, unknown>) => Object.keys(h).filter((k) => k.startsWith('x-pop-'))

t.test('report mode forwards what it would deny, without identity headers, and counts it', async (t) => {
  const { up, kh, gw, alice, bob, proof, access, shadow } = await setup(t)

  // Anonymous, with a client-sent identity header that must not survive.
  const anon = await rawRequest(gw.url, { path: '/legacy/a', headers: [['X-PoP-Identity', 'alice.test']] })
  t.equal(anon.status, 200, 'forwarded, not challenged')
  t.equal(up.seen.at(-1)!.url, '/legacy/a')
  t.same(identityHeaders(up.seen.at(-1)!.headers), [], 'no identity headers upstream, the client-sent one stripped')
  t.equal(await shadow('unauthenticated'), 1)
  t.match(access('/legacy/a')[0], { decision: 'would_deny', reason: 'unauthenticated', rule: 'legacy', status: 200 })
  t.notOk('identity' in access('/legacy/a')[0]!)

  // A method the rule grants no one.
  const post = await rawRequest(gw.url, { method: 'POST', path: '/legacy/b', body: 'x' })
  t.equal(post.status, 200)
  t.equal(await shadow('method_not_granted'), 1)

  // bob proves who he is, but the rule does not list him: forwarded without his identity, and nothing fetched for him.
  const bobRes = await rawRequest(gw.url, { path: '/legacy/c', headers: [['Authorization', `DomainPoP ${await proof(bob, 'bob.test', '/legacy/c')}`]] })
  t.equal(bobRes.status, 200)
  t.same(identityHeaders(up.seen.at(-1)!.headers), [])
  t.notOk(up.seen.at(-1)!.headers.authorization, 'the credential is not forwarded')
  t.equal(await shadow('identity_not_listed'), 1)
  t.match(access('/legacy/c')[0], { decision: 'would_deny', reason: 'identity_not_listed', claimed: 'bob.test' })
  t.notOk('identity' in access('/legacy/c')[0]!, 'a claim the ACL refused is never logged as an identity')
  t.equal(kh.requests.length, 0, 'authorize before any fetch, in report mode too')

  // alice is allowed: an ordinary allow, with her identity.
  const ok = await rawRequest(gw.url, { path: '/legacy/d', headers: [['Authorization', `DomainPoP ${await proof(alice, 'alice.test', '/legacy/d')}`]] })
  t.equal(ok.status, 200)
  t.equal(up.seen.at(-1)!.headers['x-pop-identity'], 'alice.test')
  t.match(access('/legacy/d')[0], { decision: 'allow', identity: 'alice.test' })
  t.equal(await gw.metrics.value('popgate_requests_total', { decision: 'would_deny', code: 'ok' }), 3)

  // Readiness is not affected by report mode.
  t.equal((await fetch(`http://127.0.0.1:${gw.gw.admin!.port}/readyz`)).status, 200)
  t.match(await (await fetch(`http://127.0.0.1:${gw.gw.admin!.port}/metrics`)).text(), /popgate_shadow_denials_total\{rule="legacy",reason="unauthenticated"\} 1/)
})

t.test('a forged proof on a report-only rule is verified, fails, and is forwarded as would_deny without an identity', async (t) => {
  const { up, gw, forged, access, shadow } = await setup(t)
  const res = await rawRequest(gw.url, { path: '/legacy/f', headers: [['Authorization', `DomainPoP ${await forged('/legacy/f')}`]] })
  t.equal(res.status, 200, 'forwarded: report mode')
  t.same(identityHeaders(up.seen.at(-1)!.headers), [], 'never reported upstream as alice')
  t.equal(await shadow('proof_signature_invalid'), 1, 'counted under the verification failure')
  const line = access('/legacy/f')[0]!
  t.match(line, { decision: 'would_deny', reason: 'proof_signature_invalid', claimed: 'alice.test' })
  t.notOk('identity' in line, 'the access line never names the forged identity as proven')
  // The same forgery on an enforcing rule is refused.
  t.equal((await rawRequest(gw.url, { path: '/reports/f', headers: [['Authorization', `DomainPoP ${await forged('/reports/f')}`]] })).status, 401)
})

t.test('switching the rule to enforce by hot reload refuses the same requests', async (t) => {
  const { up, gw, bob, proof, forged, shadow } = await setup(t)
  t.equal((await rawRequest(gw.url, { path: '/legacy/a' })).status, 200)
  await writeFile(gw.aclFile, acl('enforce'))
  t.same(await gw.gw.reload('test'), [])
  const seen = up.seen.length
  t.equal((await rawRequest(gw.url, { path: '/legacy/a' })).status, 401, 'anonymous: challenged')
  t.equal((await rawRequest(gw.url, { method: 'POST', path: '/legacy/b', body: 'x' })).status, 403, 'method not granted')
  t.equal((await rawRequest(gw.url, { path: '/legacy/c', headers: [['Authorization', `DomainPoP ${await proof(bob, 'bob.test', '/legacy/c')}`]] })).status, 403, 'identity not listed')
  t.equal((await rawRequest(gw.url, { path: '/legacy/f', headers: [['Authorization', `DomainPoP ${await forged('/legacy/f')}`]] })).status, 401, 'forged proof')
  t.equal(up.seen.length, seen, 'nothing forwarded')
  t.equal(await shadow('unauthenticated'), 1, 'no new shadow denials')
})

t.test('never waived: malformed requests, no rule, public rules; the top-level mode is the default', async (t) => {
  const up = await startUpstream()
  const gw = await startTestGateway({ upstream: up.url, acl: 'version: 1\nmode: report\nrules:\n  - path: /healthz\n    public: true\n  - id: app\n    path: /app/**\n    read: [alice.test]\n' })
  t.teardown(async () => { await gw.close(); await up.close() })
  t.equal(gw.gw.holder.current.acl.rules[1]!.mode, 'report', 'a rule without mode takes the top-level one')
  t.equal((await rawRequest(gw.url, { path: '/app/x' })).status, 200, 'the default applies')
  t.equal((await rawRequest(gw.url, { path: '/app/%2e%2e/%2fsecret' })).status, 400, 'a rejected path is never waived')
  t.equal((await rawRequest(gw.url, { path: '/app/x', headers: [['Host', 'a'], ['Host', 'b']] })).status, 400, 'two Host fields are never waived')
  t.equal((await rawRequest(gw.url, { path: '/other' })).status, 401, 'no rule matches: not waived (challenged, then 403)')
  t.equal((await rawRequest(gw.url, { method: 'TRACE', path: '/healthz' })).status, 403, 'a public rule stays enforcing')
  t.equal(up.seen.length, 1)
})
