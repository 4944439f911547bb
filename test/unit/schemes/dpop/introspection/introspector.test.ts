import t from 'tap'
import { GatewayError } from '../../../../../src/errors.js'
import { createIntrospector } from '../../../../../src/schemes/dpop/introspection/introspector.js'
import { basicAuthorization, clientAuthenticator } from '../../../../../src/schemes/dpop/introspection/client-auth.js'
import type { IntrospectionConfig } from '../../../../../src/schemes/dpop/introspection/config.js'
import type { CachedAnswer } from '../../../../../src/schemes/dpop/introspection/cache.js'
import type { SharedAnswers } from '../../../../../src/schemes/dpop/introspection/shared-cache.js'
import type { FetchRequest } from '../../../../../src/keys/index.js'

const JKT = 'NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs'
const CFG: IntrospectionConfig = { endpoint: 'https://alice.test/introspect', clientId: 'gw', auth: { method: 'client_secret_basic', clientSecret: 's3cret' }, cacheTtlMs: 60_000, negativeTtlMs: 5_000 }

function setup(answer: () => unknown, opts: { shared?: SharedAnswers; fail?: () => GatewayError } = {}) {
  let now = 1_000_000
  const sent: FetchRequest[] = []
  let gate: Promise<void> = Promise.resolve()
  const counts: Record<string, number> = {}
  const intro = createIntrospector({
    cfg: CFG, issuer: 'https://alice.test', audience: 'https://gw.test', clockSkewMs: 0,
    authenticate: clientAuthenticator(CFG, 'https://alice.test', undefined),
    now: () => now,
    shared: opts.shared,
    onCache: (r) => { counts[r] = (counts[r] ?? 0) + 1 },
    fetch: async (req) => {
      sent.push(req)
      await gate
      if (opts.fail) throw opts.fail()
      return { status: 200, headers: { 'content-type': 'application/json' }, body: Buffer.from(JSON.stringify(answer())) }
    },
  })
  return {
    intro, sent, counts,
    advance: (ms: number) => { now += ms },
    hold: () => { let open!: () => void; gate = new Promise((r) => { open = r }); return () => open() },
  }
}

const active = () => ({ active: true, iss: 'https://alice.test', exp: 1_000 + 3600, cnf: { jkt: JKT }, token_type: 'DPoP' })

t.test('an authenticated POST of the token, as RFC 7662 §2.1 says', async (t) => {
  const s = setup(active)
  t.same((await s.intro.introspect('opaque-1', 'h1', 1_000_000)).jkt, JKT)
  const req = s.sent[0]!
  t.equal(req.method, 'POST')
  t.equal(req.url.href, 'https://alice.test/introspect')
  t.equal(req.body!.contentType, 'application/x-www-form-urlencoded')
  t.same(Object.fromEntries(new URLSearchParams(String(req.body!.bytes))), { token: 'opaque-1', token_type_hint: 'access_token' })
  t.equal(req.authorization, 'Basic ' + Buffer.from('gw:s3cret').toString('base64'))
  t.equal(basicAuthorization('a b', 'c:d'), 'Basic ' + Buffer.from('a+b:c%3Ad').toString('base64'), 'RFC 6749 §2.3.1: form-encoded first')
})

t.test('cached within the TTL: one call for a hundred lookups, then asked again', async (t) => {
  const s = setup(active)
  for (let i = 0; i < 100; i++) await s.intro.introspect('opaque-1', 'h1', 1_000_000)
  t.equal(s.sent.length, 1)
  t.equal(s.counts.hit, 99)
  s.advance(60_000)
  await s.intro.introspect('opaque-1', 'h1', 1_060_000)
  t.equal(s.sent.length, 2, 'past cacheTtl: asked again (a revoked token stops working here)')
})

t.test('50 concurrent first lookups cost one call', async (t) => {
  const s = setup(active)
  const open = s.hold()
  const all = Array.from({ length: 50 }, () => s.intro.introspect('opaque-1', 'h1', 1_000_000))
  await new Promise((r) => setImmediate(r))
  open()
  await Promise.all(all)
  t.equal(s.sent.length, 1)
  t.equal(s.counts.coalesced, 49)
})

t.test('an inactive answer is cached for negativeTtl only', async (t) => {
  const s = setup(() => ({ active: false }))
  await t.rejects(s.intro.introspect('dead', 'h', 1_000_000), { code: 'token_inactive' })
  await t.rejects(s.intro.introspect('dead', 'h', 1_000_000), { code: 'token_inactive' })
  t.equal(s.sent.length, 1)
  t.equal(s.counts.negative_hit, 1)
  s.advance(5_000)
  await t.rejects(s.intro.introspect('dead', 'h', 1_005_000), { code: 'token_inactive' })
  t.equal(s.sent.length, 2)
})

t.test('a transport failure is introspection_failed and not cached', async (t) => {
  const s = setup(active, { fail: () => new GatewayError('key_fetch_timeout', 'key host did not answer within 3000 ms') })
  const err = await s.intro.introspect('opaque-1', 'h1', 1_000_000).catch((e: unknown) => e)
  t.match(err, { code: 'introspection_failed', status: 401, authError: 'invalid_token', detail: /did not answer in time/ })
  await t.rejects(s.intro.introspect('opaque-1', 'h1', 1_000_000), { code: 'introspection_failed' })
  t.equal(s.sent.length, 2, 'asked again: a failure to ask is not the issuer\'s answer')
})

t.test('the shared cache is read before asking, and written after', async (t) => {
  const store = new Map<string, CachedAnswer>()
  const shared: SharedAnswers = { get: async (h) => store.get(h), set: async (h, e) => { store.set(h, e) }, close: async () => {} }
  const a = setup(active, { shared })
  await a.intro.introspect('opaque-1', 'h1', 1_000_000)
  t.equal(a.sent.length, 1)
  t.ok(store.get('h1')?.active, 'written for the other replicas')
  const b = setup(active, { shared })
  t.equal((await b.intro.introspect('opaque-1', 'h1', 1_000_000)).jkt, JKT)
  t.equal(b.sent.length, 0, 'another replica asks no one')
  t.equal(b.counts.shared_hit, 1)
})
