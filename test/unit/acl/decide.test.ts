import t from 'tap'
import { authorize, decide, matchRule } from '../../../src/acl/index.js'
import { id, mustParse } from '../../fixtures/acl/build.js'

const acl = mustParse(`version: 1
rules:
  - path: /healthz
    public: true
  - id: status
    path: /status
    methods: [GET]
    public: true
  - id: foo
    path: /foo
    read: [alice.example]
  - id: reports
    path: /reports/**
    read: ["*.partner.example", alice.example]
    write: [alice.example]
  - id: anyone
    path: /board/**
    read: ["*"]
  - id: nothing
    path: /closed/**
`)

const who = (identity: string | undefined, method: string, path: string) => decide(acl, identity === undefined ? undefined : id(identity), method, path)
const summary = (identity: string | undefined, method: string, path: string): string => {
  const d = who(identity, method, path)
  return d.allow ? `allow ${d.rule.id} ${d.verb}` : `deny ${d.reason} ${d.rule?.id ?? '-'} ${d.verb ?? '-'}`
}

t.test('an exact domain pattern: that identity, for the verbs listed', async (t) => {
  t.equal(summary('alice.example', 'GET', '/foo'), 'allow foo read')
  t.equal(summary('alice.example', 'HEAD', '/foo'), 'allow foo read')
  t.equal(summary('alice.example', 'OPTIONS', '/foo'), 'allow foo read')
  t.equal(summary('alice.example', 'POST', '/foo'), 'deny method_not_granted foo write', 'read does not imply write')
  t.equal(summary('alice.example', 'DELETE', '/foo'), 'deny method_not_granted foo write')
  t.equal(summary('bob.example', 'GET', '/foo'), 'deny identity_not_listed foo read')
  t.equal(summary('www.alice.example', 'GET', '/foo'), 'deny identity_not_listed foo read', 'an exact pattern does not take subdomains')
  t.equal(summary('alice.example.evil.example', 'GET', '/foo'), 'deny identity_not_listed foo read')
  t.equal(summary('xalice.example', 'GET', '/foo'), 'deny identity_not_listed foo read')
})

t.test('"*.partner.example": strict subdomains at any depth, never the apex or look-alikes', async (t) => {
  t.equal(summary('a.partner.example', 'GET', '/reports/q3'), 'allow reports read')
  t.equal(summary('a.b.partner.example', 'GET', '/reports/q3'), 'allow reports read')
  t.equal(summary('partner.example', 'GET', '/reports/q3'), 'deny identity_not_listed reports read')
  t.equal(summary('evilpartner.example', 'GET', '/reports/q3'), 'deny identity_not_listed reports read')
  t.equal(summary('a.evilpartner.example', 'GET', '/reports/q3'), 'deny identity_not_listed reports read')
  t.equal(summary('a.partner.example.evil.example', 'GET', '/reports/q3'), 'deny identity_not_listed reports read')
  t.equal(summary('a.partner.examplex', 'GET', '/reports/q3'), 'deny identity_not_listed reports read')
  t.equal(summary('a.partner.example', 'POST', '/reports/q3'), 'deny identity_not_listed reports write', 'write is alice only')
  t.equal(summary('alice.example', 'POST', '/reports/q3'), 'allow reports write')
  t.equal(summary('alice.example', 'GET', '/reports'), 'allow reports read')
})

t.test('"*": any authenticated identity, but an identity is still needed', async (t) => {
  t.equal(summary('anyone.example', 'GET', '/board/x'), 'allow anyone read')
  t.equal(summary('xn--caf-dma.example', 'GET', '/board'), 'allow anyone read')
  t.equal(summary('anyone.example', 'PUT', '/board/x'), 'deny method_not_granted anyone write')
  t.equal(summary(undefined, 'GET', '/board/x'), 'deny unauthenticated anyone read')
})

t.test('a public rule lets anyone through, identity or not', async (t) => {
  t.equal(summary(undefined, 'GET', '/healthz'), 'allow rule-1 read')
  t.equal(summary(undefined, 'POST', '/healthz'), 'allow rule-1 write')
  t.equal(summary('bob.example', 'GET', '/healthz'), 'allow rule-1 read')
  t.equal(summary(undefined, 'GET', '/healthz/'), 'deny no_rule - -', 'only the path it names')
  t.equal(summary(undefined, 'GET', '/status'), 'allow status read')
  t.equal(summary(undefined, 'POST', '/status'), 'deny no_rule - -', 'its methods filter still applies')
})

t.test('a method that maps to no verb is denied everywhere, public rules included', async (t) => {
  for (const method of ['TRACE', 'CONNECT', 'PROPFIND', 'get', 'Get', 'XGET']) {
    t.equal(summary(undefined, method, '/healthz'), 'deny method_not_granted rule-1 -', method)
    t.equal(summary('alice.example', method, '/reports/q3'), 'deny method_not_granted reports -', method)
    t.equal(summary('alice.example', method, '/board'), 'deny method_not_granted anyone -', method)
  }
})

t.test('no matching rule: no_rule, whoever asks', async (t) => {
  t.equal(summary('alice.example', 'GET', '/elsewhere'), 'deny no_rule - -')
  t.equal(summary(undefined, 'GET', '/elsewhere'), 'deny no_rule - -')
  t.equal(summary('alice.example', 'GET', '/foo/'), 'deny no_rule - -')
  t.equal(summary('alice.example', 'GET', '/Foo'), 'deny no_rule - -')
})

t.test('a rule that grants nothing denies every request it matches', async (t) => {
  t.equal(summary('alice.example', 'GET', '/closed/x'), 'deny method_not_granted nothing read')
  t.equal(summary(undefined, 'GET', '/closed/x'), 'deny method_not_granted nothing read', 'no challenge where no identity could pass')
})

t.test('the method is checked before asking for an identity', async (t) => {
  t.equal(summary(undefined, 'POST', '/foo'), 'deny method_not_granted foo write')
  t.equal(summary(undefined, 'GET', '/foo'), 'deny unauthenticated foo read')
})

t.test('decide is authorize over matchRule', async (t) => {
  const alice = id('alice.example')
  for (const [method, path] of [['GET', '/foo'], ['POST', '/reports/a'], ['GET', '/nowhere'], ['TRACE', '/healthz']] as const) {
    t.same(decide(acl, alice, method, path), authorize(acl, matchRule(acl, method, path), alice, method))
  }
  t.same(authorize(acl, undefined, alice, 'GET'), { allow: false, rule: undefined, verb: undefined, reason: 'no_rule' })
})

t.test('custom verbs', async (t) => {
  const custom = mustParse(`version: 1
verbs:
  view: [GET]
  purge: [PURGE]
rules:
  - path: /cache/**
    view: ["*"]
    purge: [ops.example]
`)
  const d = (who: string, method: string) => {
    const r = decide(custom, id(who), method, '/cache/x')
    return r.allow ? `allow ${r.verb}` : `deny ${r.reason} ${r.verb ?? '-'}`
  }
  t.equal(d('ops.example', 'PURGE'), 'allow purge')
  t.equal(d('bob.example', 'PURGE'), 'deny identity_not_listed purge')
  t.equal(d('bob.example', 'GET'), 'allow view')
  t.equal(d('bob.example', 'HEAD'), 'deny method_not_granted -', 'HEAD is not a default here: verbs replaced the defaults')
  t.equal(d('ops.example', 'POST'), 'deny method_not_granted -')
})

t.test('a rule that requires scopes is never satisfied by a hosted-key proof (fail closed)', async (t) => {
  const { parseAcl, decide } = await import('../../../src/acl/index.js')
  const { acl } = parseAcl('version: 1\nrules:\n  - path: /admin\n    read: [alice.example]\n    scopes: [admin]\n', 'scopes.yaml')
  const d = decide(acl!, 'alice.example' as import('../../../src/identity/domain.js').Identity, 'GET', '/admin')
  t.equal(d.allow, false)
  t.match(d, { reason: 'scope_missing' })
})
