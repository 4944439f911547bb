// The DPoP verified-token cache (schemes/dpop/token-cache.ts), alone and
// through the scheme: a token's signature is checked once while its issuer's
// key stays the same — counted with a spy on the signature check, never
// timed — the proof is checked every time, the entry is gone at `exp`, and a
// key removed from the issuer's set refuses a cached token once the set is
// refreshed (the real issuer-key source over a fake fetch and clock).

import t from 'tap'
import { GatewayError } from '../../../../src/errors.js'
import { createDpopScheme, type DpopClaim } from '../../../../src/schemes/dpop/index.js'
import { createTokenCache, tokenHash } from '../../../../src/schemes/dpop/token-cache.js'
import { createIssuerKeys } from '../../../../src/schemes/dpop/issuers.js'
import { verifySignature } from '../../../../src/proofs/signature.js'
import { createMemoryReplayStore } from '../../../../src/replay/memory.js'
import { createNonceIssuer } from '../../../../src/secrets/nonce.js'
import type { FetchOne, JwksKey } from '../../../../src/keys/index.js'
import type { ReplayStore } from '../../../../src/replay/types.js'
import type { AccessToken } from '../../../../src/proofs/access-token.js'
import type { Scheme } from '../../../../src/schemes/types.js'
import { fakeView } from '../../../helpers/request-view.js'
import type { Rule } from '../../../../src/acl/index.js'
import { keysConfig } from '../../../helpers/key-host.js'
import { mintProof, mintToken, newKey, type SigningKey } from '../../../helpers/dpop.js'
import { randomBytes } from 'node:crypto'
import { openKeyTrust } from '../../../helpers/key-trust.js'

const ORIGIN = 'https://gw.test'
const ISS = 'https://as.alice.test'
const JWKS_URI = 'https://keys.alice.test/jwks'
const T0 = 1_750_000_000_000
/** The scheme's namespaced replay (schemes/module.ts SchemeReplay) over a store, for the proof window. */
const schemeReplay = (store: ReplayStore) => ({ firstUse: (key: string) => store.firstUse(key, 71_000) })
const RULE = {} as Rule

/** A scheme over the real issuer-key source, a routable fake fetch and a movable clock; token signature checks counted. */
async function setup() {
  const k1 = await newKey('ES256', 'k1')
  const k2 = await newKey('ES256', 'k2')
  const client = await newKey('ES256')
  const clock = { now: T0 }
  let jwks: unknown = { keys: [k1.jwk, k2.jwk] }
  const fetch: FetchOne = async () => ({ status: 200, headers: { 'content-type': 'application/json' }, body: Buffer.from(JSON.stringify(jwks)) })
  const issuerKeys = createIssuerKeys(keysConfig(), { fetch, now: () => clock.now })
  t.teardown(() => issuerKeys.close())
  const cache = createTokenCache()
  const checks = { token: 0, proof: 0 }
  const scheme = createDpopScheme({ keyTrust: openKeyTrust(),
    publicOrigin: ORIGIN,
    dpop: { enabled: true, audience: undefined, algorithms: ['ES256'], requireNonce: false, issuers: { [ISS]: { jwksUri: JWKS_URI, jwksFile: undefined, audience: undefined, algorithms: undefined } } },
    pinned: new Map([[ISS, { jwksUri: new URL(JWKS_URI) }]]),
    proof: { maxAgeMs: 60_000, clockSkewMs: 5_000, maxBytes: 8192 },
    allowPorts: 'any',
    issuerKeys,
    replay: schemeReplay(createMemoryReplayStore({ maxEntries: 1000, now: () => clock.now })),
    nonces: createNonceIssuer([{ id: 'n1', key: randomBytes(32) }], { ttlMs: 300_000, clockSkewMs: 5_000 }),
    now: () => clock.now,
    tokenCache: cache,
    verifySignature: (alg, key, input, sig) => {
      if (input.split('.').length === 2 && Buffer.from(input.split('.')[0]!, 'base64url').toString().includes('dpop+jwt')) checks.proof++
      else checks.token++
      return verifySignature(alg, key, input, sig)
    },
  })
  const token = (key: SigningKey, expSec: number) =>
    mintToken(key, { issuer: ISS, audience: ORIGIN, client, nowSec: clock.now / 1000, header: { kid: key.jwk.kid }, claims: { exp: expSec } })
  /** One request at the clock's time with a fresh proof: 'ok' or the GatewayError code. */
  async function request(tok: string, s: Scheme<DpopClaim> = scheme): Promise<string> {
    const ctx = fakeView({ method: 'GET', path: '/foo', nowMs: clock.now })
    const proof = mintProof(client, { token: tok, htm: 'GET', htu: `${ORIGIN}/foo`, nowSec: Math.floor(clock.now / 1000) })
    try {
      const claim = s.parse({ authorization: `DPoP ${tok}`, fields: new Map([['dpop', proof]]) }, ctx)
      await s.verify(claim, ctx, RULE)
      return 'ok'
    } catch (err) {
      return err instanceof GatewayError ? err.code : `raw ${String(err)}`
    }
  }
  const setJwks = (keys: readonly SigningKey[]) => { jwks = { keys: keys.map((k) => k.jwk) } }
  return { scheme, cache, checks, clock, k1, k2, token, request, setJwks }
}

t.test('a token is verified once: a second request with a new proof checks the proof, not the token signature', async (t) => {
  const { cache, checks, clock, k1, token, request } = await setup()
  const tok = token(k1, T0 / 1000 + 300)
  t.equal(await request(tok), 'ok')
  t.strictSame(checks, { token: 1, proof: 1 })
  t.equal(cache.size, 1)
  t.ok(cache.get(tokenHash(tok), clock.now), 'keyed by the token\'s SHA-256')
  clock.now += 1_000
  t.equal(await request(tok), 'ok')
  t.equal(await request(tok), 'ok')
  t.strictSame(checks, { token: 1, proof: 3 }, 'three proofs verified, one token signature')
})

t.test('a cached token is no excuse for a proof made with another key', async (t) => {
  const { scheme, checks, clock, k1, token, request } = await setup()
  const tok = token(k1, T0 / 1000 + 300)
  t.equal(await request(tok), 'ok')
  const ctx = fakeView({ method: 'GET', path: '/foo', nowMs: clock.now })
  // The binding is to the token's cnf, read from the cached token as from a fresh one.
  const foreign = mintProof(await newKey('ES256'), { token: tok, htm: 'GET', htu: `${ORIGIN}/foo`, nowSec: clock.now / 1000 })
  t.throws(() => scheme.parse({ authorization: `DPoP ${tok}`, fields: new Map([['dpop', foreign]]) }, ctx), { code: 'dpop_proof_mismatch' })
  t.equal(checks.token, 1)
})

t.test('a replayed proof is refused for a cached token', async (t) => {
  const k1 = await newKey('ES256', 'k1')
  const client = await newKey('ES256')
  const set = (await import('../../../../src/keys/index.js')).parseJwks(JSON.stringify({ keys: [k1.jwk] }))
  const scheme = createDpopScheme({ keyTrust: openKeyTrust(),
    publicOrigin: ORIGIN,
    dpop: { enabled: true, audience: undefined, algorithms: ['ES256'], requireNonce: false, issuers: {} },
    pinned: new Map(),
    proof: { maxAgeMs: 60_000, clockSkewMs: 5_000, maxBytes: 8192 },
    allowPorts: 'any',
    issuerKeys: { keyFor: async () => set.keys[0]!, markProven: () => {}, close: async () => {} },
    replay: schemeReplay(createMemoryReplayStore({ maxEntries: 100, now: () => T0 })),
    nonces: createNonceIssuer([{ id: 'n1', key: randomBytes(32) }], { ttlMs: 300_000, clockSkewMs: 5_000 }),
    now: () => T0,
  })
  const ctx = fakeView({ method: 'GET', path: '/foo', nowMs: T0 })
  const tok = mintToken(k1, { issuer: ISS, audience: ORIGIN, client, nowSec: T0 / 1000 })
  const proof = () => mintProof(client, { token: tok, htm: 'GET', htu: `${ORIGIN}/foo`, nowSec: T0 / 1000 })
  const creds = (p: string) => ({ authorization: `DPoP ${tok}`, fields: new Map([['dpop', p]]) })
  await scheme.verify(scheme.parse(creds(proof()), ctx), ctx, RULE)
  const again = proof()
  const claim = scheme.parse(creds(again), ctx)
  t.ok(claim.cached, 'the token came from the cache')
  await scheme.verify(claim, ctx, RULE)
  await t.rejects(scheme.verify(scheme.parse(creds(again), ctx), ctx, RULE), { code: 'dpop_proof_replayed' }, 'jti single use holds for a cached token')
  // A forged proof signature is still caught.
  const parts = proof().split('.')
  const forged = `${parts[0]}.${parts[1]}.${Buffer.alloc(64, 1).toString('base64url')}`
  await t.rejects(scheme.verify(scheme.parse(creds(forged), ctx), ctx, RULE), { code: 'dpop_proof_signature_invalid' })
})

t.test('eviction at exp: the next request takes the full path', async (t) => {
  const { cache, checks, clock, k1, token, request } = await setup()
  const exp = T0 / 1000 + 50 // inside the key set's 60 s TTL, so only exp can end the entry
  const tok = token(k1, exp)
  t.equal(await request(tok), 'ok')
  clock.now = exp * 1000 - 1
  t.equal(await request(tok), 'ok')
  t.equal(checks.token, 1, 'cached up to exp')
  clock.now = exp * 1000
  t.equal(cache.get(tokenHash(tok), clock.now), undefined, 'gone at exp')
  t.equal(cache.size, 0)
  // Within the clock skew the token is still valid: verified again, and not cached past its exp.
  t.equal(await request(tok), 'ok')
  t.equal(checks.token, 2, 'a token past exp is checked again')
  t.equal(cache.size, 0, 'and not kept')
  clock.now = exp * 1000 + 5_000
  t.equal(await request(tok), 'token_expired')
})

t.test('a key removed from the issuer set refuses a cached token after the next refresh', async (t) => {
  const { checks, clock, k1, k2, token, request, setJwks } = await setup()
  const tok = token(k1, T0 / 1000 + 3600)
  t.equal(await request(tok), 'ok')
  // The issuer drops k1; until the set is refetched the gateway does not know (as before the cache).
  setJwks([k2])
  clock.now += 1_000
  t.equal(await request(tok), 'ok')
  t.equal(checks.token, 1)
  // Past the set's TTL (keysConfig: 60 s) it is refetched: k1 is gone, the cached token is refused.
  clock.now += 61_000
  t.equal(await request(tok), 'key_not_found')
  clock.now += 1_000
  t.equal(await request(tok), 'key_not_found', 'and stays refused')
})

t.test('a refreshed set that still holds the key: the token is verified once more, then cached again', async (t) => {
  const { checks, clock, k1, k2, token, request, setJwks } = await setup()
  const tok = token(k1, T0 / 1000 + 3600)
  t.equal(await request(tok), 'ok')
  setJwks([k1, k2])
  clock.now += 61_000
  t.equal(await request(tok), 'ok')
  t.equal(checks.token, 2, 'a new set: its key object is new, so the signature is checked against it')
  clock.now += 1_000
  t.equal(await request(tok), 'ok')
  t.equal(checks.token, 2)
})

t.test('a key replaced under the same kid: the cached token is checked against the new key and refused', async (t) => {
  const { clock, k1, token, request, setJwks } = await setup()
  const tok = token(k1, T0 / 1000 + 3600)
  t.equal(await request(tok), 'ok')
  const impostor = await newKey('ES256', 'k1')
  setJwks([impostor])
  clock.now += 61_000
  t.equal(await request(tok), 'token_signature_invalid')
})

t.test('bounds: entries and bytes, least recently used first out', async (t) => {
  const key = { keyObject: {} } as JwksKey
  const fake = (n: number, exp = T0 / 1000 + 60): AccessToken => {
    const payload = Buffer.from(JSON.stringify({ exp, n })).toString('base64url')
    return { identity: 'a.test', issuer: ISS, issuerUrl: new URL(ISS), alg: 'ES256', kid: undefined, jkt: 'x'.repeat(43), sub: undefined, clientId: undefined, scopes: [], signingInput: `e30.${payload}`, signature: Buffer.alloc(64) } as unknown as AccessToken
  }
  const byCount = createTokenCache({ maxEntries: 2, maxBytes: 1 << 20 })
  byCount.set('a', fake(1), key, T0)
  byCount.set('b', fake(2), key, T0)
  t.ok(byCount.get('a', T0), 'a touched')
  byCount.set('c', fake(3), key, T0)
  t.equal(byCount.size, 2)
  t.equal(byCount.get('b', T0), undefined, 'the least recently used went')
  t.ok(byCount.get('a', T0))
  t.ok(byCount.get('c', T0))

  const one = createTokenCache({ maxEntries: 100, maxBytes: 1 << 20 })
  one.set('a', fake(1), key, T0)
  const size = one.bytes
  const byBytes = createTokenCache({ maxEntries: 100, maxBytes: 2 * size + 10 })
  for (const h of ['a', 'b', 'c', 'd']) byBytes.set(h, fake(1), key, T0)
  t.equal(byBytes.size, 2, 'bytes bound the cache')
  t.ok(byBytes.bytes <= 2 * size + 10)
  t.ok(byBytes.get('d', T0))
  t.equal(byBytes.get('a', T0), undefined)
  byBytes.delete('d')
  t.equal(byBytes.size, 1)
  t.equal(byBytes.bytes, size, 'bytes follow deletes')

  const expired = createTokenCache()
  expired.set('x', fake(1, T0 / 1000), key, T0)
  t.equal(expired.size, 0, 'a token at its exp is not kept')
  t.throws(() => createTokenCache({ maxEntries: 0, maxBytes: 1 }), RangeError)
})
