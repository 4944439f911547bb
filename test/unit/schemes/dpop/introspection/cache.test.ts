import t from 'tap'
import { activeUntilMs, createIntrospectionCache } from '../../../../../src/schemes/dpop/introspection/cache.js'
import type { IntrospectedToken } from '../../../../../src/schemes/dpop/introspection/answer.js'

const JKT = 'A'.repeat(43)
const tok = (expMs: number | undefined): IntrospectedToken => ({ jkt: JKT, sub: 's', clientId: 'c', scopes: ['a'], expMs })

t.test('an active answer lives until min(exp, now + cacheTtl)', async (t) => {
  t.equal(activeUntilMs(tok(10_000), 0, 60_000), 10_000, 'exp first: never past the token\'s life')
  t.equal(activeUntilMs(tok(600_000), 0, 60_000), 60_000, 'cacheTtl first: a revoked token works at most cacheTtl')
  t.equal(activeUntilMs(tok(undefined), 0, 60_000), 60_000, 'no exp: cacheTtl')

  const c = createIntrospectionCache({ cacheTtlMs: 60_000, negativeTtlMs: 5_000, maxEntries: 10 })
  c.setActive('h', tok(10_000), 0)
  t.ok(c.get('h', 9_999)?.active)
  t.equal(c.get('h', 10_000), undefined, 'gone at exp')
  c.setActive('h2', tok(600_000), 0)
  t.ok(c.get('h2', 59_999))
  t.equal(c.get('h2', 60_000), undefined, 'gone at cacheTtl')
})

t.test('a negative answer lives negativeTtl', async (t) => {
  const c = createIntrospectionCache({ cacheTtlMs: 60_000, negativeTtlMs: 5_000, maxEntries: 10 })
  c.setInactive('h', 'token_inactive', 'no', 1_000)
  t.match(c.get('h', 5_999), { active: false, code: 'token_inactive' })
  t.equal(c.get('h', 6_000), undefined)
})

t.test('cacheTtl 0 and an answer already expired are not kept', async (t) => {
  const off = createIntrospectionCache({ cacheTtlMs: 0, negativeTtlMs: 0, maxEntries: 10 })
  t.equal(off.setActive('h', tok(10_000), 0), undefined)
  t.equal(off.setInactive('n', 'token_inactive', 'no', 0), undefined)
  t.equal(off.size, 0)
  const c = createIntrospectionCache({ cacheTtlMs: 60_000, negativeTtlMs: 5_000, maxEntries: 10 })
  t.equal(c.setActive('h', tok(1_000), 2_000), undefined, 'exp already past')
})

t.test('bounded: the least recently used goes first', async (t) => {
  const c = createIntrospectionCache({ cacheTtlMs: 60_000, negativeTtlMs: 5_000, maxEntries: 2 })
  c.setActive('a', tok(undefined), 0)
  c.setActive('b', tok(undefined), 0)
  t.ok(c.get('a', 1), 'a touched')
  c.setActive('c', tok(undefined), 0)
  t.equal(c.size, 2)
  t.equal(c.get('b', 1), undefined, 'b was least recently used')
  t.ok(c.get('a', 1))
  t.ok(c.get('c', 1))
  t.throws(() => createIntrospectionCache({ cacheTtlMs: 1, negativeTtlMs: 1, maxEntries: 0 }))
})
