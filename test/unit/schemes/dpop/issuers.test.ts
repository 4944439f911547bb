// createIssuerKeys (schemes/dpop/issuers.ts) with a fake fetch: RFC 8414
// discovery with path insertion and the OpenID fallback, the issuer and
// jwks_uri checks, pinned issuers, and key rotation with a cooldown.

import t from 'tap'
import { GatewayError } from '../../../../src/errors.js'
import { createIssuerKeys, metadataUrls } from '../../../../src/schemes/dpop/issuers.js'
import { readIssuerUrl, type AccessToken } from '../../../../src/proofs/access-token.js'
import { parseJwks, type FetchOne } from '../../../../src/keys/index.js'
import type { Identity } from '../../../../src/identity/domain.js'
import { keysConfig } from '../../../helpers/key-host.js'
import { newKey } from '../../../helpers/dpop.js'

function fakeFetch(routes: Map<string, unknown>) {
  const seen: string[] = []
  const fetch: FetchOne = async (req) => {
    seen.push(req.url.href)
    const body = routes.get(req.url.href)
    if (body === undefined) throw new GatewayError('key_fetch_status', 'key host answered 404, expected 200')
    return { status: 200, headers: { 'content-type': 'application/json' }, body: Buffer.from(JSON.stringify(body)) }
  }
  return { fetch, seen }
}

const tokenFor = (issuer: string, kid = 'k1'): AccessToken => ({
  identity: new URL(issuer).hostname as Identity, issuer, pinned: false, issuerUrl: readIssuerUrl(issuer, 'any'), alg: 'ES256', kid, x5tS256: undefined, jkt: 'x'.repeat(43),
  sub: undefined, clientId: undefined, scopes: [], signingInput: '', signature: Buffer.alloc(0),
})

const code = async (p: Promise<unknown>) => { try { await p; return 'ok' } catch (err) { return err instanceof GatewayError ? err.code : String(err) } }

t.test('metadata URLs: only at the origin root of a path-less issuer (issue 19); never under a path the token chose', async (t) => {
  t.strictSame(metadataUrls(new URL('https://as.alice.test')).map(String), ['https://as.alice.test/.well-known/oauth-authorization-server', 'https://as.alice.test/.well-known/openid-configuration'])
  t.throws(() => metadataUrls(new URL('https://alice.test/tenant/a')), { code: 'token_issuer_not_allowed' })
  t.throws(() => metadataUrls(new URL('https://alice.test/u/mallory/')), { code: 'token_issuer_not_allowed' })
})

t.test('an issuer with a path is never discovered, even if parse were bypassed', async (t) => {
  const { fetch, seen } = fakeFetch(new Map())
  const keys = createIssuerKeys(keysConfig(), { fetch })
  t.teardown(() => keys.close())
  t.equal(await code(keys.keyFor(tokenFor('https://alice.test/u/mallory'), undefined)), 'token_issuer_not_allowed')
  t.strictSame(seen, [], 'nothing fetched')
})

t.test('the metadata issuer is compared in canonical form: a trailing slash on a path-less issuer is the same issuer', async (t) => {
  const key = await newKey('ES256', 'k1')
  const { fetch } = fakeFetch(new Map<string, unknown>([
    ['https://alice.test/.well-known/oauth-authorization-server', { issuer: 'https://alice.test/', jwks_uri: 'https://alice.test/jwks' }],
    ['https://alice.test/jwks', { keys: [key.jwk] }],
    ['https://bob.test/.well-known/oauth-authorization-server', { issuer: 'https://bob.test/as', jwks_uri: 'https://bob.test/jwks' }],
  ]))
  const keys = createIssuerKeys(keysConfig(), { fetch })
  t.teardown(() => keys.close())
  t.equal(await code(keys.keyFor(tokenFor('https://alice.test'), undefined)), 'ok')
  t.equal(await code(keys.keyFor(tokenFor('https://bob.test'), undefined)), 'issuer_metadata_invalid', 'another issuer of the same host is another issuer')
})

t.test('discovery, checks and fallback', async (t) => {
  const key = await newKey('ES256', 'k1')
  const jwks = { keys: [key.jwk] }
  let now = 1_000_000
  const routes = new Map<string, unknown>([
    ['https://alice.test/.well-known/oauth-authorization-server', { issuer: 'https://alice.test', jwks_uri: 'https://alice.test/jwks' }],
    ['https://alice.test/jwks', jwks],
    ['https://bob.test/.well-known/openid-configuration', { issuer: 'https://bob.test', jwks_uri: 'https://bob.test/keys' }],
    ['https://bob.test/keys', jwks],
    ['https://evil.test/.well-known/oauth-authorization-server', { issuer: 'https://alice.test', jwks_uri: 'https://evil.test/jwks' }],
    ['https://carol.test/.well-known/oauth-authorization-server', { issuer: 'https://carol.test', jwks_uri: 'https://elsewhere.test/jwks' }],
    ['https://elsewhere.test/jwks', jwks],
  ])
  const { fetch, seen } = fakeFetch(routes)
  const keys = createIssuerKeys(keysConfig(), { fetch, now: () => now })
  t.teardown(() => keys.close())

  const k = await keys.keyFor(tokenFor('https://alice.test'), undefined)
  t.equal(k.kid, 'k1')
  t.equal(await code(keys.keyFor(tokenFor('https://bob.test'), undefined)), 'ok', 'falls back to openid-configuration on a 404')
  t.equal(await code(keys.keyFor(tokenFor('https://evil.test'), undefined)), 'issuer_metadata_invalid', 'metadata whose issuer differs from iss')
  seen.length = 0
  t.equal(await code(keys.keyFor(tokenFor('https://carol.test'), undefined)), 'issuer_metadata_invalid', 'jwks_uri on another host for an issuer not pinned')
  t.notOk(seen.includes('https://elsewhere.test/jwks'), 'the foreign jwks_uri is never fetched')
  t.equal(await code(keys.keyFor(tokenFor('https://carol.test'), { jwksUri: new URL('https://elsewhere.test/jwks') })), 'ok', 'a pinned jwksUri may live elsewhere')

  // Key rotation: an unknown kid refetches the set once, then not again within the cooldown.
  seen.length = 0
  now += keysConfig().refetchCooldownMs // the set is older than the cooldown (the cache's TTL is longer)
  t.equal(await code(keys.keyFor(tokenFor('https://alice.test', 'k2'), undefined)), 'key_not_found', 'a key not in the issuer set')
  t.equal(seen.filter((u) => u === 'https://alice.test/jwks').length, 1, 'one refetch')
  t.equal(await code(keys.keyFor(tokenFor('https://alice.test', 'k2'), undefined)), 'key_not_found')
  t.equal(seen.filter((u) => u === 'https://alice.test/jwks').length, 1, 'no second refetch within the cooldown')
  const rotated = await newKey('ES256', 'k2')
  routes.set('https://alice.test/jwks', { keys: [key.jwk, rotated.jwk] })
  now += keysConfig().refetchCooldownMs
  t.equal((await keys.keyFor(tokenFor('https://alice.test', 'k2'), undefined)).kid, 'k2', 'after the cooldown the rotated key is found')
})

t.test('a pinned JWK Set on disk: no fetch at all', async (t) => {
  const key = await newKey('ES256', 'k1')
  const { fetch, seen } = fakeFetch(new Map())
  const keys = createIssuerKeys(keysConfig(), { fetch })
  t.teardown(() => keys.close())
  const set = parseJwks(JSON.stringify({ keys: [key.jwk] }))
  t.equal((await keys.keyFor(tokenFor('https://alice.test'), { jwks: set })).kid, 'k1')
  t.equal(await code(keys.keyFor(tokenFor('https://alice.test', 'nope'), { jwks: set })), 'key_not_found')
  t.strictSame(seen, [])
})
