// identity/issuer.ts: what a token issuer may speak for (issue 19). One
// canonical form; an issuer with a path only when pinned; a host with a
// pinned issuer accepts only its pinned issuers; discovery only at the origin
// root of a path-less issuer.

import t from 'tap'
import { canonicalIssuer, compileIssuerRule, discoveryUrls, isSameIssuer, readIssuer } from '../../../src/identity/issuer.js'

const url = (s: string): URL => { const u = readIssuer(s); if (typeof u === 'string') throw new Error(u); return u }
const admit = (pinned: string[], iss: string): string => {
  try {
    const a = compileIssuerRule(pinned).admit(url(iss))
    return `${a.pinned ? 'pinned' : 'discover'} ${a.issuer}`
  } catch (err) {
    return (err as { code: string }).code
  }
}

t.test('one canonical form: a path-less issuer with or without its slash is one issuer; paths are exact', async (t) => {
  t.equal(canonicalIssuer(url('https://alice.test')), 'https://alice.test')
  t.equal(canonicalIssuer(url('https://alice.test/')), 'https://alice.test')
  t.equal(canonicalIssuer(url('https://alice.test:8443/')), 'https://alice.test:8443')
  t.equal(canonicalIssuer(url('https://alice.test/as')), 'https://alice.test/as')
  t.equal(canonicalIssuer(url('https://alice.test/as/')), 'https://alice.test/as/')
  t.ok(isSameIssuer('https://alice.test/', 'https://alice.test'))
  t.notOk(isSameIssuer('https://alice.test/as', 'https://alice.test'))
  t.notOk(isSameIssuer('https://ALICE.test', 'https://alice.test'), 'not canonical: never the same')
  t.notOk(isSameIssuer(42, 'https://alice.test'))
  for (const bad of ['http://alice.test', 'https://alice.test?x', 'https://alice.test/#f', 'https://u@alice.test', 'https://alice.test/a/../b', 'https://alice.test/%2e', 'https://127.0.0.1', 'https://alice.test:443']) {
    t.type(readIssuer(bad), 'string', `${bad} is not an issuer`)
  }
})

t.test('nothing pinned: path-less issuers are discovered; an issuer with a path is refused (the upload-area takeover)', async (t) => {
  t.equal(admit([], 'https://alice.test'), 'discover https://alice.test')
  t.equal(admit([], 'https://alice.test/'), 'discover https://alice.test')
  t.equal(admit([], 'https://alice.test/u/mallory/'), 'token_issuer_not_allowed')
  t.equal(admit([], 'https://alice.test/u/mallory'), 'token_issuer_not_allowed')
})

t.test('a pinned issuer: it alone speaks for its host, in either spelling', async (t) => {
  const pinned = ['https://alice.test/as']
  t.equal(admit(pinned, 'https://alice.test/as'), 'pinned https://alice.test/as')
  t.equal(admit(pinned, 'https://alice.test/u/mallory/'), 'token_issuer_not_allowed', 'another path of a pinned host')
  t.equal(admit(pinned, 'https://alice.test'), 'token_issuer_not_allowed', 'the bare origin of a pinned host is not discovered either')
  t.equal(admit(pinned, 'https://alice.test:8443'), 'token_issuer_not_allowed', 'another port of the pinned host')
  t.equal(admit(pinned, 'https://alice.test/as/'), 'token_issuer_not_allowed', 'a path issuer is exact')
  t.equal(admit(pinned, 'https://bob.test'), 'discover https://bob.test', 'other hosts are not affected')
  t.equal(admit(['https://alice.test'], 'https://alice.test/'), 'pinned https://alice.test', 'pinned https://alice.test and a token\'s https://alice.test/ are one issuer, never "unpinned"')
  t.equal(admit(['https://alice.test/'], 'https://alice.test'), 'pinned https://alice.test')
  t.equal(admit(['https://alice.test'], 'https://alice.test/u/mallory/'), 'token_issuer_not_allowed')
})

t.test('discovery only at the root of a path-less issuer', async (t) => {
  t.strictSame(discoveryUrls(url('https://alice.test/')).map(String), ['https://alice.test/.well-known/oauth-authorization-server', 'https://alice.test/.well-known/openid-configuration'])
  t.throws(() => discoveryUrls(url('https://alice.test/u/mallory/')), { code: 'token_issuer_not_allowed' })
})
