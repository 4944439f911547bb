// Per-request header tests in proxy/headers.ts: which field names a
// Connection header makes hop-by-hop (RFC 9110 §7.6.1, connectionTokens),
// and the identity-prefix test (underIdentityPrefix). The end-to-end drops
// are in gateway-core.test.ts.

import t from 'tap'
import { connectionTokens, headerKey, underIdentityPrefix, HOP_BY_HOP } from '../../../src/proxy/headers.js'

const tokens = (v: string | string[] | undefined) => {
  const s = connectionTokens(v)
  return s === undefined ? undefined : [...s].sort()
}

t.test('usual values', async (t) => {
  t.equal(tokens(undefined), undefined)
  t.equal(tokens(''), undefined)
  t.equal(tokens('keep-alive'), undefined, 'keep-alive names only a field that is hop-by-hop anyway')
  t.ok(HOP_BY_HOP.has('keep-alive'))
  t.equal(tokens('Keep-Alive'), undefined)
  t.same(tokens('close'), ['close'])
  t.same(tokens('CLOSE'), ['close'])
})

t.test('listed field names, any case and spacing, single or repeated headers', async (t) => {
  t.same(tokens('keep-alive, X-Secret'), ['keep-alive', 'x-secret'])
  t.same(tokens('close,X-Foo ,  x-bar'), ['close', 'x-bar', 'x-foo'])
  t.same(tokens(['X-A', 'x-b, keep-alive']), ['keep-alive', 'x-a', 'x-b'], 'a repeated Connection header lists all its values')
})

t.test('underIdentityPrefix agrees with headerKey(name).startsWith(prefix) on tricky names', async (t) => {
  const prefixKey = headerKey('X-PoP-')
  const names = ['x-pop-identity', 'X_PoP_Identity', 'x_pop-identity', 'x-pop-', 'x-pop', 'x-po', 'x-popidentity', 'xx-pop-identity', 'x-pop_identity',
    'x-forwarded-for', 'host', '', 'x—pop-identity', 'x-pop-\u0130', '_-pop-a', 'x-pop-identity\u0000']
  for (const name of names) {
    const lower = name.toLowerCase()
    t.equal(underIdentityPrefix(lower, prefixKey), headerKey(lower).startsWith(prefixKey), JSON.stringify(name))
  }
  t.ok(underIdentityPrefix('x_pop_identity', prefixKey), 'underscores are read as hyphens')
})
