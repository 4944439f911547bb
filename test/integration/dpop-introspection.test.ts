// Opaque DPoP-bound access tokens by RFC 7662 introspection (issue 24), with
// real peers: oidc-provider 8 as alice.test's authorization server issuing
// opaque tokens (the resource's accessTokenFormat 'opaque') and answering at
// its real introspection endpoint, oauth4webapi (or test-minted proofs) as
// the client. The gateway pins alice.test's issuer with `introspection:`;
// introspection calls are counted at the endpoint itself.

import t from 'tap'
import { webcrypto } from 'node:crypto'
import { mkdtemp, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { DEFAULT_ACL, rawRequest, startTestGateway, startUpstream } from '../helpers/harness.js'
import { keysConfig } from '../helpers/identity.js'
import { mintProof, newKey, type SigningKey } from '../helpers/dpop.js'
import {
  CLIENT_ID, GATEWAY_CLIENT_ID, GATEWAY_CLIENT_SECRET, GATEWAY_JWT_CLIENT_ID, INTROSPECTION_PATH,
  startAuthorizationServer, startPeerClient, type AuthorizationServer,
} from '../helpers/oidc-peer.js'

const ORIGIN = 'https://gw.test'
const ACL = DEFAULT_ACL + `  - id: scoped
    path: /scoped
    read: [alice.test]
    scopes: [api:write]
  - id: bob-only
    path: /bob
    read: [bob.test]
`

const calls = (as: AuthorizationServer) => as.requests.filter((r) => r === `POST ${INTROSPECTION_PATH}`).length

function introspectionConfig(issuer: string, auth: string, extra = ''): string {
  return [
    keysConfig(),
    'dpop:',
    '  enabled: true',
    '  issuers:',
    `    "${issuer}":`,
    '      introspection:',
    `        endpoint: ${issuer}${INTROSPECTION_PATH}`,
    auth,
    '        cacheTtl: 10s',
    '        negativeTtl: 2s',
    extra,
  ].join('\n')
}
const basicAuth = `        clientId: ${GATEWAY_CLIENT_ID}\n        clientSecret: ${GATEWAY_CLIENT_SECRET}`

/** A node:crypto test key as the WebCrypto pair oauth4webapi signs with, so a test can also mint proofs with it. */
async function asCryptoKeyPair(k: SigningKey): Promise<CryptoKeyPair> {
  const alg = { name: 'ECDSA', namedCurve: 'P-256' }
  const priv = k.privateKey.export({ format: 'jwk' })
  return {
    privateKey: await webcrypto.subtle.importKey('jwk', priv, alg, false, ['sign']) as CryptoKey,
    publicKey: await webcrypto.subtle.importKey('jwk', { kty: priv.kty, crv: priv.crv, x: priv.x, y: priv.y }, alg, true, ['verify']) as CryptoKey,
  }
}

interface SetupOptions { auth?: string; gatewayJwk?: Record<string, unknown>; beforeHandle?: Parameters<typeof startAuthorizationServer>[0]['beforeHandle']; now?: () => number }

async function setup(t: { teardown(fn: () => unknown): void }, o: SetupOptions = {}) {
  const up = await startUpstream()
  const as = await startAuthorizationServer({ host: 'alice.test', resource: ORIGIN, alg: 'ES256', accessTokenFormat: 'opaque', gatewayJwk: o.gatewayJwk, beforeHandle: o.beforeHandle })
  const gw = await startTestGateway({ upstream: up.url, publicOrigin: ORIGIN, acl: ACL, now: o.now, extraConfig: introspectionConfig(as.issuer, o.auth ?? basicAuth) })
  const key = await newKey('ES256')
  const client = await startPeerClient({ issuer: as.issuer, hosts: ['alice.test'], resource: ORIGIN, gatewayOrigin: ORIGIN, gatewayUrl: gw.url, keys: await asCryptoKeyPair(key) })
  t.teardown(async () => { await client.close(); await gw.close(); await as.close(); await up.close() })
  return { up, as, gw, client, key }
}

t.test('a real opaque DPoP-bound token, introspected at oidc-provider; one call for a hundred requests', async (t) => {
  const { up, as, gw, client } = await setup(t)
  const tr = await client.token()
  t.equal(tr.token_type, 'dpop')
  t.notMatch(tr.access_token, /\./, 'an opaque token, not a JWT')

  const first = await client.get(tr.access_token, '/foo')
  t.equal(first.status, 200)
  t.equal(calls(as), 1, 'introspected once')
  const h = up.seen[0]!.headers
  t.equal(h['x-pop-identity'], 'alice.test', 'the identity is the configured issuer\'s host')
  t.equal(h['x-pop-auth-method'], 'dpop')
  t.equal(h['x-pop-client-id'], CLIENT_ID)
  t.equal(h['x-pop-scope'], 'api:read')
  t.equal(h.authorization, undefined)

  for (let i = 0; i < 99; i++) {
    const res = await client.get(tr.access_token, `/foo?i=${i}`)
    if (res.status !== 200) t.fail(`request ${i}: ${res.status}`)
  }
  t.equal(up.seen.length, 100)
  t.equal(calls(as), 1, 'one introspection call for a hundred requests within the TTL')
  t.ok(await gw.metrics.value('popgate_introspection_cache_total', { result: 'hit' }) >= 99)
  t.equal(await gw.metrics.value('popgate_introspection_requests_total', { outcome: 'active' }), 1)

  // The scope and the ACL still decide, from the introspected facts; the ACL before any call.
  const scoped = await client.get(tr.access_token, '/scoped')
  t.equal(scoped.status, 403)
  const bob = await client.get(tr.access_token, '/bob')
  t.equal(bob.status, 403)
  t.equal(calls(as), 1)

  // Another client's token is refused before the gateway asks anyone: the ACL says no to the identity first.
  const fresh = await client.token()
  const denied = await client.get(fresh.access_token, '/bob')
  t.equal(denied.status, 403)
  t.equal(calls(as), 1, 'authorize before fetch: a forbidden path costs no introspection')
})

t.test('a revoked token: 401 token_inactive when first seen; works at most cacheTtl when already cached', async (t) => {
  let skewMs = 0
  const { as, client } = await setup(t, { now: () => Date.now() + skewMs })
  const revoked = await client.token()
  await client.revoke(revoked.access_token)
  const res = await client.get(revoked.access_token, '/foo')
  t.equal(res.status, 401)
  t.match(await res.response.text(), /"code":"token_inactive"/)
  t.match(res.challenges.find((c) => c.scheme === 'dpop')?.parameters, { error: 'invalid_token' })

  const cached = await client.token()
  t.equal((await client.get(cached.access_token, '/foo')).status, 200)
  await client.revoke(cached.access_token)
  t.equal((await client.get(cached.access_token, '/foo')).status, 200, 'within cacheTtl the cached answer stands (docs/introspection.md)')
  const before = calls(as)
  skewMs = 10_001 // past cacheTtl (10s) on the gateway's clock; proofs stay in their window
  const after = await client.get(cached.access_token, '/foo')
  t.equal(after.status, 401, 'past cacheTtl the issuer is asked again and says inactive')
  t.match(await after.response.text(), /"code":"token_inactive"/)
  t.equal(calls(as), before + 1)
})

t.test('coalescing: 50 concurrent first requests with one token cost one call', async (t) => {
  let release!: () => void
  const released = new Promise<void>((r) => { release = r })
  let held = 0
  const ctx = await setup(t, {
    beforeHandle: async (req) => {
      if (req.url !== INTROSPECTION_PATH) return
      held++
      // Hold the first call until the other 49 joined it (or a second call arrived: coalescing broken).
      if (held > 1) return release()
      await released
    },
  })
  const { as, gw, client, key } = ctx
  const tr = await client.token()
  const nonce = (await rawRequest(gw.url, { path: '/foo' })).headers['dpop-nonce'] as string
  const send = (i: number) => rawRequest(gw.url, {
    path: `/foo?n=${i}`,
    headers: [['Authorization', `DPoP ${tr.access_token}`], ['DPoP', mintProof(key, { token: tr.access_token, htm: 'GET', htu: `${ORIGIN}/foo`, nowSec: Math.floor(Date.now() / 1000), nonce })]],
  })
  const all = Promise.all(Array.from({ length: 50 }, (_, i) => send(i)))
  const watch = setInterval(() => {
    void gw.metrics.value('popgate_introspection_cache_total', { result: 'coalesced' }).then((n) => { if (n >= 49) release() })
  }, 5)
  const results = await all
  clearInterval(watch)
  t.same(results.map((r) => r.status), Array(50).fill(200), JSON.stringify(results.filter((r) => r.status !== 200).slice(0, 2).map((r) => r.body)))
  t.equal(calls(as), 1, 'one introspection call for 50 concurrent first requests')
  t.equal(await gw.metrics.value('popgate_introspection_cache_total', { result: 'coalesced' }), 49)
})

t.test('private_key_jwt at oidc-provider\'s introspection endpoint', async (t) => {
  const gwKey = await newKey('ES256')
  const dir = await mkdtemp(join(tmpdir(), 'popgate-introspect-'))
  const keyFile = join(dir, 'client.pem')
  await writeFile(keyFile, gwKey.privateKey.export({ format: 'pem', type: 'pkcs8' }) as string)
  const { as, client } = await setup(t, {
    gatewayJwk: { ...gwKey.jwk, alg: 'ES256', use: 'sig' },
    auth: `        clientId: ${GATEWAY_JWT_CLIENT_ID}\n        privateKeyJwt:\n          keyFile: ${keyFile}\n          alg: ES256`,
  })
  const tr = await client.token()
  const res = await client.get(tr.access_token, '/foo')
  t.equal(res.status, 200)
  t.equal(calls(as), 1)
})

t.test('a wrong client secret at the endpoint: 401 introspection_failed, never 5xx', async (t) => {
  const { client } = await setup(t, { auth: `        clientId: ${GATEWAY_CLIENT_ID}\n        clientSecret: not-the-secret` })
  const tr = await client.token()
  const res = await client.get(tr.access_token, '/foo')
  t.equal(res.status, 401)
  t.match(await res.response.text(), /"code":"introspection_failed"/)
})
