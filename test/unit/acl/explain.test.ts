import t from 'tap'
import { decide, explain, formatExplanation } from '../../../src/acl/index.js'
import { id, mustParse } from '../../fixtures/acl/build.js'

const acl = mustParse(`version: 1
rules:
  - id: health
    path: /healthz
    public: true
  - id: admin
    path: /reports/**
    methods: [POST]
    write: [root.example]
  - id: reports
    path: /reports/**
    read: ["*.partner.example", alice.example]
    write: [alice.example]
`, 'acl.yaml')

t.test('explain names the deciding rule, the verb, and every rule passed over with why', async (t) => {
  const e = explain(acl, id('a.partner.example'), 'GET', '/reports/q3')
  t.equal(e.verb, 'read')
  t.same(e.passed.map((p) => [p.rule.id, p.why]), [['health', 'path'], ['admin', 'method']])
  t.equal(e.decision.allow, true)
  t.equal(e.decision.rule?.id, 'reports')
  t.equal(e.pattern?.source, '*.partner.example')
  t.equal(formatExplanation(e), [
    'GET /reports/q3 as a.partner.example',
    '  GET is verb "read"',
    '  passed over rules[0] (health) /healthz at acl.yaml:3:5: path does not match',
    '  passed over rules[1] (admin) /reports/** methods POST at acl.yaml:6:5: its methods filter leaves out GET',
    'ALLOW by rules[2] (reports) /reports/** at acl.yaml:10:5: "read" is granted to a.partner.example by pattern "*.partner.example"',
  ].join('\n'))
})

t.test('each kind of denial reads plainly', async (t) => {
  const last = (who: string | undefined, method: string, path: string): string =>
    formatExplanation(explain(acl, who === undefined ? undefined : id(who), method, path)).split('\n').pop()!
  t.equal(last('alice.example', 'POST', '/reports/q3'),
    'DENY (identity_not_listed) by rules[1] (admin) /reports/** methods POST at acl.yaml:6:5: alice.example is not among "write": root.example')
  t.equal(last('alice.example', 'GET', '/elsewhere'), 'DENY (no_rule): no rule matches this request, so it is denied')
  t.equal(last('alice.example', 'TRACE', '/reports/q3'), 'DENY (method_not_granted) by rules[2] (reports) /reports/** at acl.yaml:10:5: TRACE maps to no verb')
  t.equal(last(undefined, 'GET', '/reports'), 'DENY (unauthenticated) by rules[2] (reports) /reports/** at acl.yaml:10:5: "read" needs an authenticated identity and none was given')
  t.equal(last(undefined, 'HEAD', '/healthz'), 'ALLOW by rules[0] (health) /healthz at acl.yaml:3:5: public, no authentication needed')
  const readOnly = mustParse('version: 1\nrules:\n  - path: /a\n    read: [alice.example]\n  - path: /b\n')
  const lastOf = (path: string) => formatExplanation(explain(readOnly, id('alice.example'), 'PUT', path)).split('\n').pop()
  t.equal(lastOf('/a'), 'DENY (method_not_granted) by rules[0] (rule-1) /a at acl.yaml:3:5: the rule does not grant "write" (it grants read)')
  t.equal(lastOf('/b'), 'DENY (method_not_granted) by rules[1] (rule-2) /b at acl.yaml:5:5: the rule does not grant "write" (it grants nothing)')
})

t.test('no identity and unmapped methods are said up front', async (t) => {
  const lines = formatExplanation(explain(acl, undefined, 'TRACE', '/x')).split('\n')
  t.same(lines.slice(0, 2), ['TRACE /x as (no identity)', '  TRACE maps to no verb: it is denied on every path'])
  t.equal(lines.length, 2 + 3 + 1, 'all three rules passed over, then the verdict')
})

t.test('explain decides exactly as decide does', async (t) => {
  for (const who of [undefined, 'alice.example', 'root.example', 'x.partner.example', 'partner.example']) {
    for (const method of ['GET', 'POST', 'DELETE', 'TRACE']) {
      for (const path of ['/healthz', '/reports', '/reports/', '/reports/a/b', '/report', '/']) {
        const identity = who === undefined ? undefined : id(who)
        t.same(explain(acl, identity, method, path).decision, decide(acl, identity, method, path), `${who} ${method} ${path}`)
      }
    }
  }
})

t.test('explain prints a rule\'s clientCertificate: required and forwardClientCert: true beside its require', async (t) => {
  const certs = mustParse(`version: 1
rules:
  - id: both
    path: /both/**
    read: [alice.example]
    require: [mtls]
    clientCertificate: required
    forwardClientCert: true
  - id: plain
    path: /plain/**
    read: [alice.example]
`, 'acl.yaml')
  const last = (path: string) => formatExplanation(explain(certs, id('alice.example'), 'GET', path)).split('\n').pop()!
  t.equal(last('/both/x'), 'ALLOW by rules[0] (both) /both/** at acl.yaml:3:5: "read" is granted to alice.example by pattern "alice.example"' +
    '; the credential must also be: mtls' +
    '; the connection must also present a client certificate that chains to the CA (clientCertificate: required)' +
    '; the client certificate is forwarded upstream as Client-Cert, RFC 9440 (forwardClientCert: true)')
  t.notMatch(last('/plain/x'), /clientCertificate|forwardClientCert|Client-Cert/, 'a rule without them says nothing about certificates')
})
