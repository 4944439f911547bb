// WWW-Authenticate / Authorization syntax (RFC 9110 §11): the serializer the
// gateway uses against the parser clients use, plus the RFC's own examples and
// the inputs a strict parser must refuse.

import t from 'tap'
import fc from 'fast-check'
import { deepStrictEqual } from 'node:assert'
import { parseAuthorization, parseChallenges, quote, serializeChallenge, type Challenge } from '../../../src/http/auth-header.js'

const TCHARS = "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
const token = fc.string({ unit: fc.constantFrom(...TCHARS), minLength: 1, maxLength: 12 })
/** Printable ASCII, with the characters a quoted-string must survive over-represented. */
const value = fc.string({ unit: fc.oneof(fc.constantFrom('"', '\\', ',', '=', ' ', '\t', ';'), fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 1 })), maxLength: 24 })
/** Param names unique case-insensitively (the parser lowercases them and refuses duplicates). */
const params = fc.uniqueArray(fc.tuple(token, value), { selector: ([name]) => name.toLowerCase(), maxLength: 6 })
const challenge = fc.tuple(token, params)

/** A challenge as plain sorted data, so the comparison does not depend on the params object's prototype. */
const plain = (c: Challenge) => ({ scheme: c.scheme, params: Object.entries(c.params).sort(), token68: c.token68 })
const expected = ([scheme, ps]: [string, [string, string][]]) => plain({ scheme, params: Object.fromEntries(ps.map(([k, v]) => [k.toLowerCase(), v])) })
const serialize = ([scheme, ps]: [string, [string, string][]]) => serializeChallenge(scheme, Object.fromEntries(ps))

t.test('property: parseChallenges(serializeChallenge(...)) round-trips', async (t) => {
  fc.assert(fc.property(challenge, (c) => {
    deepStrictEqual(parseChallenges(serialize(c)).map(plain), [expected(c)])
  }), { numRuns: 1000 })
  t.pass('1000 single challenges')
})

t.test('property: several challenges in one field (", ") and in several fields', async (t) => {
  fc.assert(fc.property(fc.array(challenge, { minLength: 1, maxLength: 5 }), (cs) => {
    const want = cs.map(expected)
    deepStrictEqual(parseChallenges(cs.map(serialize).join(', ')).map(plain), want)
    deepStrictEqual(parseChallenges(cs.map(serialize)).map(plain), want)
  }), { numRuns: 500 })
  t.pass('500 lists, joined in one field and as several fields')
})

t.test('what the gateway sends (PROTOCOL.md §1)', async (t) => {
  const field = serializeChallenge('DomainPoP', { realm: 'https://bob.example', nonce: 'AbC-_9', algs: 'ES256 ES384 EdDSA Ed25519 PS256' })
  t.equal(field, 'DomainPoP realm="https://bob.example", nonce="AbC-_9", algs="ES256 ES384 EdDSA Ed25519 PS256"')
  t.same(parseChallenges([field, 'DPoP algs="ES256 ES384 EdDSA Ed25519 PS256"']), [
    { scheme: 'DomainPoP', params: { realm: 'https://bob.example', nonce: 'AbC-_9', algs: 'ES256 ES384 EdDSA Ed25519 PS256' } },
    { scheme: 'DPoP', params: { algs: 'ES256 ES384 EdDSA Ed25519 PS256' } },
  ])
  t.equal(serializeChallenge('Negotiate', {}), 'Negotiate', 'no params: the bare scheme')
  t.equal(serializeChallenge('x', { error_description: 'say "hi" \\o/' }), 'x error_description="say \\"hi\\" \\\\o/"')
})

t.test('RFC 9110 examples', async (t) => {
  // §11.6.1: two challenges in one field (the RFC folds it over two lines for print), one with an escaped quote.
  t.same(parseChallenges('Newauth realm="apps", type=1, title="Login to \\"apps\\"", Basic realm="simple"'), [
    { scheme: 'Newauth', params: { realm: 'apps', type: '1', title: 'Login to "apps"' } },
    { scheme: 'Basic', params: { realm: 'simple' } },
  ])
  // §11.2: "the same" challenge with BWS, and empty list elements (§5.6.1).
  t.same(parseChallenges('Basic realm = "simple"'), [{ scheme: 'Basic', params: { realm: 'simple' } }])
  t.same(parseChallenges(' , Basic realm="a" ,, , Bearer error=invalid_token ,'), [
    { scheme: 'Basic', params: { realm: 'a' } },
    { scheme: 'Bearer', params: { error: 'invalid_token' } },
  ])
  // RFC 7617 §2.1
  t.same(parseChallenges('Basic realm="foo", charset="UTF-8"'), [{ scheme: 'Basic', params: { realm: 'foo', charset: 'UTF-8' } }])
  t.same(parseChallenges([]), [])
  t.same(parseChallenges(''), [])
})

t.test('commas and "=" inside quoted strings do not split', async (t) => {
  t.same(parseChallenges('DomainPoP a="x, Basic b=c", d="=,="'), [{ scheme: 'DomainPoP', params: { a: 'x, Basic b=c', d: '=,=' } }])
})

t.test('token68', async (t) => {
  t.same(parseChallenges('Bearer abc=='), [{ scheme: 'Bearer', params: {}, token68: 'abc==' }])
  t.same(parseChallenges('Negotiate a87421000492aa874209af8bc028, Basic realm="x"'), [
    { scheme: 'Negotiate', params: {}, token68: 'a87421000492aa874209af8bc028' },
    { scheme: 'Basic', params: { realm: 'x' } },
  ])
  t.same(parseChallenges('Bearer a-._~+/9='), [{ scheme: 'Bearer', params: {}, token68: 'a-._~+/9=' }])
  t.same(parseChallenges('Bearer a=b'), [{ scheme: 'Bearer', params: { a: 'b' } }], 'name=value is a param, not token68')
})

t.test('param names are case-insensitive; the scheme is kept as sent', async (t) => {
  t.same(parseChallenges('domainpop NONCE="n", Realm="r"'), [{ scheme: 'domainpop', params: { nonce: 'n', realm: 'r' } }])
})

t.test('a param named like an Object.prototype member is kept as data', async (t) => {
  const [c] = parseChallenges('DomainPoP constructor="c", toString="t", __proto__="p"')
  t.equal(c?.params.constructor, 'c')
  t.equal(c?.params.tostring, 't')
  t.ok(c && Object.hasOwn(c.params, '__proto__'), '__proto__ is a legal token and must not be dropped')
  t.equal(c && Object.getOwnPropertyDescriptor(c.params, '__proto__')?.value, 'p')
})

t.test('refused: duplicates, unterminated quotes, garbage', async (t) => {
  t.throws(() => parseChallenges('Basic realm="a", realm="b"'), TypeError, 'duplicate param')
  t.throws(() => parseChallenges('Basic realm="a", REALM="b"'), TypeError, 'duplicate param, other case')
  t.throws(() => parseChallenges('DomainPoP nonce="abc'), TypeError, 'unterminated quoted-string')
  t.throws(() => parseChallenges('DomainPoP nonce="abc\\"'), TypeError, 'the closing quote is escaped')
  t.throws(() => parseChallenges('DomainPoP nonce="abc\\'), TypeError, 'ends inside an escape')
  t.throws(() => parseChallenges('DomainPoP a="x" b="y"'), TypeError, 'params without a comma')
  t.same(parseChallenges('DomainPoP realm='), [{ scheme: 'DomainPoP', params: {}, token68: 'realm=' }], '"realm=" alone is a token68, not a param')
  t.throws(() => parseChallenges('DomainPoP realm="x", nonce='), TypeError, 'a param without a value')
  t.throws(() => parseChallenges('DomainPoP realm="x", nonce= , algs="y"'), TypeError, 'a param without a value, mid-list')
  t.throws(() => parseChallenges('"quoted"'), TypeError, 'a scheme must be a token')
  t.throws(() => parseChallenges('Basic realm="a"; x'), TypeError)
  t.throws(() => parseChallenges(['Basic realm="a"', 'Bearer x="']), TypeError, 'a bad second field')
})

t.test('quote() and serializeChallenge() refuse what a header cannot carry', async (t) => {
  t.equal(quote('a"b\\c'), '"a\\"b\\\\c"')
  t.equal(quote('tab\there'), '"tab\there"', 'HTAB is allowed in a quoted-string (RFC 9110 §5.6.4)')
  for (const c of ['\x00', '\x01', '\x08', '\n', '\r', '\x1f', '\x7f']) {
    t.throws(() => quote(`a${c}b`), TypeError, `control character ${JSON.stringify(c)}`)
    t.throws(() => serializeChallenge('DomainPoP', { nonce: `a${c}b` }), TypeError)
  }
  t.throws(() => serializeChallenge('Domain PoP', {}), TypeError, 'scheme must be a token')
  t.throws(() => serializeChallenge('', {}), TypeError)
  t.throws(() => serializeChallenge('DomainPoP', { 'bad name': 'x' }), TypeError, 'param name must be a token')
  t.throws(() => serializeChallenge('DomainPoP', { 'a=b': 'x' }), TypeError)
})

t.test('parseAuthorization: "<scheme> <token68>" only', async (t) => {
  t.same(parseAuthorization('DomainPoP aaa.bbb.ccc'), { scheme: 'DomainPoP', credentials: 'aaa.bbb.ccc' })
  t.same(parseAuthorization('Bearer abc=='), { scheme: 'Bearer', credentials: 'abc==' })
  for (const v of ['DomainPoP', 'DomainPoP ', 'DomainPoP a b', 'DomainPoP a,b', ' DomainPoP a', 'DomainPoP a ', 'DomainPoP\ta', 'DomainPoP a=b=', 'DomainPoP =a', 'DomainPoP a"b', '']) {
    t.equal(parseAuthorization(v), undefined, JSON.stringify(v))
  }
})
