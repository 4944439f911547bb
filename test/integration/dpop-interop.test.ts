// DPoP interop with real peers (issue 13): oidc-provider 8 as alice.test's
// authorization server over HTTPS on loopback (test CA), issuing DPoP-bound
// JWT access tokens by client credentials, and oauth4webapi as the client
// presenting them at the gateway. The gateway finds the issuer's keys the way
// it would in production: RFC 8414 metadata (absent here: oidc-provider 8
// serves only OpenID discovery), then openid-configuration, then jwks_uri.

import t from 'tap'
import { decodeJwt, decodeProtectedHeader } from 'jose'
import { DEFAULT_ACL, rawRequest, startTestGateway, startUpstream } from '../helpers/harness.js'
import { keysConfig } from '../helpers/identity.js'
import { CLIENT_ID, startAuthorizationServer, startPeerClient, type AccessTokenAlg, type Outcome } from '../helpers/oidc-peer.js'

const ORIGIN = 'https://gw.test'
const ACL = DEFAULT_ACL + `  - id: scoped
    path: /scoped
    read: [alice.test]
    scopes: [api:write]
  - id: bob-only
    path: /bob
    read: [bob.test]
`

/** The parameters of the DPoP challenge oauth4webapi parsed (the gateway also offers DomainPoP's). */
const dpop = (o: Outcome) => o.challenges.find((c) => c.scheme === 'dpop')?.parameters ?? {}

async function setup(t: { teardown(fn: () => unknown): void }, alg: AccessTokenAlg, resource = ORIGIN) {
  const up = await startUpstream()
  const as = await startAuthorizationServer({ host: 'alice.test', resource, alg })
  const gw = await startTestGateway({ upstream: up.url, publicOrigin: ORIGIN, acl: ACL, extraConfig: keysConfig() + '\ndpop:\n  enabled: true\n' })
  const client = await startPeerClient({ issuer: as.issuer, hosts: ['alice.test'], resource, gatewayOrigin: ORIGIN, gatewayUrl: gw.url })
  t.teardown(async () => { await client.close(); await gw.close(); await as.close(); await up.close() })
  return { up, as, gw, client }
}

for (const alg of ['RS256', 'ES256'] as const) {
  t.test(`oidc-provider token signed with ${alg}, presented by oauth4webapi`, async (t) => {
    const { up, as, gw, client } = await setup(t, alg)

    const tr = await client.token()
    t.equal(tr.token_type, 'dpop', 'a DPoP-bound token')
    t.equal(client.sent.filter((s) => s.url.endsWith('/token')).length, 2, 'the AS asked for its nonce first')
    const header = decodeProtectedHeader(tr.access_token)
    const claims = decodeJwt(tr.access_token)
    t.match(header, { alg, typ: 'at+jwt' })
    t.match(claims, { iss: as.issuer, aud: ORIGIN, client_id: CLIENT_ID, sub: CLIENT_ID, scope: 'api:read', cnf: { jkt: String } })

    const first = await client.get(tr.access_token, '/foo')
    t.equal(first.status, 200, 'the gateway accepts the real token')
    t.ok(first.retried, 'the gateway asked for its own nonce first (use_dpop_nonce), oauth4webapi retried')
    t.equal(await first.response.text(), 'upstream ok')
    t.equal(up.seen.length, 1)
    const h = up.seen[0]!.headers
    t.equal(h['x-pop-identity'], 'alice.test')
    t.equal(h['x-pop-subject'], CLIENT_ID)
    t.equal(h['x-pop-client-id'], CLIENT_ID)
    t.equal(h['x-pop-auth-method'], 'dpop')
    t.equal(h['x-pop-scope'], 'api:read')
    t.equal(h.authorization, undefined, 'Authorization not forwarded')
    t.equal(h.dpop, undefined, 'DPoP not forwarded')
    t.ok(as.requests.includes('GET /.well-known/openid-configuration'), 'the gateway discovered the issuer')

    // A second request: the cached nonce is reused with a fresh proof, no new challenge.
    const second = await client.get(tr.access_token, '/foo?page=2')
    t.equal(second.status, 200)
    t.notOk(second.retried, 'no second nonce round trip')
    t.equal(up.seen.length, 2)
    t.equal(up.seen[1]!.url, '/foo?page=2')
    t.equal(up.seen[1]!.headers['x-pop-identity'], 'alice.test')

    // The same proof again (what oauth4webapi sent for the second request): refused.
    const last = client.sent.at(-1)!
    t.equal(last.status, 200)
    const replay = await rawRequest(gw.url, { path: '/foo?page=2', headers: [['Authorization', last.headers.get('authorization')!], ['DPoP', last.headers.get('dpop')!]] })
    t.equal(replay.status, 401)
    t.match(replay.body, /"code":"dpop_proof_replayed"/)
    t.match(String(replay.headers['www-authenticate']), /DPoP .*error="invalid_dpop_proof"/)
    t.equal(up.seen.length, 2, 'the replay did not reach the upstream')

    // The ACL and the token's scope still decide, after the real token verifies.
    const scoped = await client.get(tr.access_token, '/scoped')
    t.equal(scoped.status, 403)
    t.match(dpop(scoped), { error: 'insufficient_scope', scope: 'api:write' })
    const bob = await client.get(tr.access_token, '/bob')
    t.equal(bob.status, 403)
    t.equal(up.seen.length, 2, 'neither reached the upstream')
  })
}

t.test('a real token for another audience is refused (token_audience_mismatch)', async (t) => {
  const { up, client } = await setup(t, 'ES256', 'https://other.test')
  const tr = await client.token()
  t.equal(decodeJwt(tr.access_token).aud, 'https://other.test')
  const res = await client.get(tr.access_token, '/foo')
  t.equal(res.status, 401)
  t.match(dpop(res), { error: 'invalid_token' })
  t.match(await res.response.text(), /"code":"token_audience_mismatch"/)
  t.equal(up.seen.length, 0)
})
