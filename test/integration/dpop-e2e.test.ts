// DPoP end to end over real sockets: a gateway with dpop.enabled, an HTTPS
// authorization-server stand-in (test CA, RFC 8414 metadata + JWKS) on
// loopback for alice.test and evil.test, and a recording upstream. Tokens and
// proofs are minted in the test (test/helpers/dpop.ts).

import t from 'tap'
import { DEFAULT_ACL, rawRequest, startTestGateway, startUpstream } from '../helpers/harness.js'
import { keysConfig } from '../helpers/identity.js'
import { json, startKeyHost } from '../helpers/key-host.js'
import { mintProof, mintToken, newKey } from '../helpers/dpop.js'

const ORIGIN = 'https://gw.test'
const ACL = DEFAULT_ACL + `  - id: scoped
    path: /scoped
    read: [alice.test]
    scopes: [api:write]
  - id: passthrough
    path: /pass
    read: [alice.test]
    forwardToken: true
`

/** The DPoP challenge among the response's WWW-Authenticate fields. */
const dpopChallenge = (res: { rawHeaders: string[] }): string => {
  for (let i = 0; i < res.rawHeaders.length; i += 2) {
    if (res.rawHeaders[i]!.toLowerCase() === 'www-authenticate' && res.rawHeaders[i + 1]!.startsWith('DPoP')) return res.rawHeaders[i + 1]!
  }
  return 'none'
}

async function setup(t: { teardown(fn: () => unknown): void }, extraConfig = '') {
  const up = await startUpstream()
  const as = await startKeyHost()
  const issuerKey = await newKey('RS256', 'rs1')
  const client = await newKey('ES256')
  // One stand-in answers for every host it is reached as (alice.test, evil.test), as its own issuer.
  as.route('/.well-known/oauth-authorization-server', (req, res) => {
    const h = (req.headers.host ?? '').split(':')[0]
    json({ issuer: `https://${h}:${as.port}`, jwks_uri: `https://${h}:${as.port}/jwks` }, { contentType: 'application/json' })(req, res)
  })
  as.route('/jwks', json({ keys: [issuerKey.jwk] }, { contentType: 'application/json' }))
  const gw = await startTestGateway({ upstream: up.url, publicOrigin: ORIGIN, acl: ACL, extraConfig: keysConfig() + '\ndpop:\n  enabled: true\n' + extraConfig })
  t.teardown(async () => { await gw.close(); await as.close(); await up.close() })
  const nowSec = () => Math.floor(Date.now() / 1000)
  const token = (host = 'alice.test', claims: Record<string, unknown> = {}) =>
    mintToken(issuerKey, { issuer: `https://${host}:${as.port}`, audience: ORIGIN, client, nowSec: nowSec(), claims })
  const proof = (tok: string, path: string, nonce?: string) => mintProof(client, { token: tok, htm: 'GET', htu: ORIGIN + path, nowSec: nowSec(), nonce })
  const get = (path: string, headers: [string, string][]) => rawRequest(gw.url, { path, headers })
  return { gw, up, as, client, token, proof, get }
}


t.test('nonce, then 200 with the identity headers; the replayed proof is refused', async (t) => {
  const { gw, up, as, token, proof, get } = await setup(t)
  const tok = token()
  const first = await get('/foo', [['Authorization', `DPoP ${tok}`], ['DPoP', proof(tok, '/foo')]])
  t.equal(first.status, 401)
  t.match(dpopChallenge(first), /^DPoP .*error="use_dpop_nonce"/)
  t.match(dpopChallenge(first), /resource_metadata="https:\/\/gw\.test\/\.well-known\/oauth-protected-resource"/)
  const nonce = first.headers['dpop-nonce'] as string
  t.ok(nonce, 'DPoP-Nonce sent')
  t.equal(as.count(), 0, 'nothing fetched for a proof without a nonce')

  const p = proof(tok, '/foo', nonce)
  const ok = await get('/foo', [['Authorization', `DPoP ${tok}`], ['DPoP', p]])
  t.equal(ok.status, 200, ok.body)
  const h = up.seen.at(-1)!.headers
  t.equal(h['x-pop-identity'], 'alice.test')
  t.equal(h['x-pop-auth-method'], 'dpop')
  t.equal(h['x-pop-subject'], 'svc-a')
  t.equal(h['x-pop-client-id'], 'svc-a')
  t.equal(h['x-pop-scope'], 'api:read')
  t.equal(h.authorization, undefined, 'Authorization not forwarded')
  t.equal(h.dpop, undefined, 'DPoP not forwarded')

  const replay = await get('/foo', [['Authorization', `DPoP ${tok}`], ['DPoP', p]])
  t.equal(replay.status, 401)
  t.match(replay.body, /"code":"dpop_proof_replayed"/)
  t.match(dpopChallenge(replay), /error="invalid_dpop_proof"/)

  // The nonce round trip is a challenge, like DomainPoP's first 401 (issue 28); the replay is an error.
  const lines = gw.log.lines.filter((l) => l.msg === 'access')
  t.match(lines.map((l) => [l.decision, l.code ?? 'ok']), [['challenge', 'dpop_nonce_required'], ['allow', 'ok'], ['error', 'dpop_proof_replayed']])
  t.equal(await gw.metrics.value('popgate_requests_total', { decision: 'challenge', code: 'dpop_nonce_required' }), 1)
  t.equal(await gw.metrics.value('popgate_requests_total', { decision: 'error', code: 'dpop_nonce_required' }), 0)
})

t.test('an issuer on a domain the ACL does not name: 403, no metadata fetched', async (t) => {
  const { as, token, proof, get } = await setup(t)
  const nonce = (await get('/foo', [])).headers['dpop-nonce'] as string
  const tok = token('evil.test')
  const res = await get('/foo', [['Authorization', `DPoP ${tok}`], ['DPoP', proof(tok, '/foo', nonce)]])
  t.equal(res.status, 403)
  t.match(dpopChallenge(res), /^DPoP .*error="insufficient_scope"/)
  t.equal(as.count(), 0, 'zero requests to the authorization server')
})

t.test('Bearer downgrade, two DPoP headers, two Authorization headers', async (t) => {
  const { up, token, proof, get } = await setup(t)
  const nonce = (await get('/foo', [])).headers['dpop-nonce'] as string
  const tok = token()
  const bearer = await get('/foo', [['Authorization', `Bearer ${tok}`], ['DPoP', proof(tok, '/foo', nonce)]])
  t.equal(bearer.status, 401)
  t.match(bearer.body, /"code":"token_bearer_refused"/)
  t.match(dpopChallenge(bearer), /error="invalid_token"/)
  const twoProofs = await get('/foo', [['Authorization', `DPoP ${tok}`], ['DPoP', proof(tok, '/foo', nonce)], ['DPoP', proof(tok, '/foo', nonce)]])
  t.equal(twoProofs.status, 400)
  t.match(dpopChallenge(twoProofs), /error="invalid_request"/)
  const twoAuth = await get('/foo', [['Authorization', `DPoP ${tok}`], ['Authorization', `DPoP ${tok}`], ['DPoP', proof(tok, '/foo', nonce)]])
  t.equal(twoAuth.status, 400)
  t.equal(up.seen.length, 0)
})

t.test('a rule with scopes: 403 insufficient_scope naming the scope; RFC 9728 metadata is served', async (t) => {
  const { token, proof, get, gw } = await setup(t)
  const nonce = (await get('/foo', [])).headers['dpop-nonce'] as string
  const tok = token()
  const res = await get('/scoped', [['Authorization', `DPoP ${tok}`], ['DPoP', proof(tok, '/scoped', nonce)]])
  t.equal(res.status, 403)
  t.match(res.body, /"code":"insufficient_scope"/)
  t.match(dpopChallenge(res), /error="insufficient_scope".*scope="api:write"/)
  const wide = token('alice.test', { scope: 'api:read api:write' })
  t.equal((await get('/scoped', [['Authorization', `DPoP ${wide}`], ['DPoP', proof(wide, '/scoped', nonce)]])).status, 200)
  const meta = await rawRequest(gw.url, { path: '/.well-known/oauth-protected-resource' })
  t.equal(meta.status, 200)
  t.match(JSON.parse(meta.body), { resource: ORIGIN, dpop_bound_access_tokens_required: true, dpop_signing_alg_values_supported: ['ES256', 'ES384', 'EdDSA', 'Ed25519', 'PS256', 'RS256'] })
})

t.test('a rule with forwardToken passes Authorization and DPoP on to the upstream; others never do', async (t) => {
  const { up, token, proof, get } = await setup(t)
  const tok = token()
  const nonce = (await get('/pass', [])).headers['dpop-nonce'] as string
  const ok = await get('/pass', [['Authorization', `DPoP ${tok}`], ['DPoP', proof(tok, '/pass', nonce)]])
  t.equal(ok.status, 200, ok.body)
  const h = up.seen.at(-1)!.headers
  t.equal(h.authorization, `DPoP ${tok}`, 'the token, for an upstream that reads it itself')
  t.ok(h.dpop, 'the proof too')
  t.equal(h['x-pop-identity'], 'alice.test', 'beside the identity headers')
  const other = await get('/foo', [['Authorization', `DPoP ${tok}`], ['DPoP', proof(tok, '/foo', nonce)]])
  t.equal(other.status, 200, other.body)
  t.equal(up.seen.at(-1)!.headers.authorization, undefined, 'a rule without forwardToken removes it')
})

t.test('sessions: a DPoP proof with epk gets a ticket; the next request is a session', async (t) => {
  const { createDpopFetch } = await import('../../src/client/dpop.js')
  const { gw, up, client, token } = await setup(t, 'sessions:\n  tickets: { enabled: true }\n')
  const statuses: number[] = []
  const f = createDpopFetch({ accessToken: await token(), privateKey: client.privateKey, audience: ORIGIN, session: 'ticket',
    fetch: async (u, i) => { const r = await fetch(u, i); statuses.push(r.status); return r } })
  t.equal((await f(`${gw.url}/foo`)).status, 200)
  t.equal(up.seen.at(-1)!.headers['x-pop-auth-method'], 'dpop')
  t.equal((await f(`${gw.url}/foo`)).status, 200)
  t.equal(up.seen.at(-1)!.headers['x-pop-auth-method'], 'session', 'the ticket minted after the DPoP proof')
  t.equal(up.seen.at(-1)!.headers['x-pop-key-thumbprint'], client.jkt, 'bound to the DPoP key')
  t.same(statuses, [401, 200, 200])
})

t.test('sessions: a DPoP proof with ses: "cookie" (an extra claim) gets the session cookie; the cookie then authenticates alone', async (t) => {
  const { up, token, proof, get, client } = await setup(t, 'sessions:\n  cookie: { enabled: true }\n')
  const { mintProof } = await import('../helpers/dpop.js')
  const tok = token()
  const nonce = (await get('/foo', [['Authorization', `DPoP ${tok}`], ['DPoP', proof(tok, '/foo')]])).headers['dpop-nonce'] as string
  const withSes = mintProof(client, { token: tok, htm: 'GET', htu: ORIGIN + '/foo', nowSec: Math.floor(Date.now() / 1000), nonce, claims: { ses: 'cookie' } })
  const r = await get('/foo', [['Authorization', `DPoP ${tok}`], ['DPoP', withSes]])
  t.equal(r.status, 200, r.body)
  const set = String(r.headers['set-cookie'])
  t.match(set, /^__Host-popgate=[A-Za-z0-9_.-]+; Path=\/; Secure; HttpOnly; SameSite=Lax; Max-Age=3600$/)
  const cookie = set.split(';')[0]!
  const next = await get('/foo', [['Cookie', cookie]])
  t.equal(next.status, 200, next.body)
  t.equal(up.seen.at(-1)!.headers['x-pop-auth-method'], 'cookie')
  t.equal(up.seen.at(-1)!.headers['x-pop-key-thumbprint'], client.jkt, 'the DPoP key that minted it')
})
