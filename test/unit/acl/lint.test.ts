import t from 'tap'
import { compileAcl, formatFinding, lint } from '../../../src/acl/index.js'
import { isNote } from '../../../src/acl/lint.js'
import { parseDomainPattern, type DomainPattern } from '../../../src/identity/domain.js'
import { mustParse } from '../../fixtures/acl/build.js'

const kinds = (yaml: string): string[] => lint(mustParse(`version: 1\nrules:\n${yaml}`)).map((f) => `${f.ruleId} ${f.kind}`)
const grant = (...patterns: string[]): ReadonlyMap<string, readonly DomainPattern[]> =>
  new Map([['read', patterns.map((p) => parseDomainPattern(p) as DomainPattern)]])

t.test('a rule whose every request an earlier rule takes is shadowed', async (t) => {
  t.same(kinds(`
  - {id: all, path: /reports/**, read: [a.example]}
  - {id: q3, path: /reports/q3, read: [b.example]}
  - {id: again, path: /reports/**, read: [b.example]}
  - {id: root, path: /reports, read: [b.example]}
  - {id: slash, path: /reports/, read: [b.example]}
  - {id: deep, path: /reports/*/x/**, read: [b.example]}
`), ['q3 shadowed', 'again shadowed', 'root shadowed', 'slash shadowed', 'deep shadowed'])
  t.same(kinds(`
  - {id: one, path: /a/*, read: [a.example]}
  - {id: lit, path: /a/b, read: [a.example]}
  - {id: star, path: /a/*, read: [a.example]}
  - {id: empty, path: /a/, read: [a.example]}
  - {id: two, path: /a/b/c, read: [a.example]}
  - {id: rest, path: /a/**, read: [a.example]}
`), ['lit shadowed', 'star shadowed'], '"*" covers one non-empty segment, nothing more')
  t.same(kinds(`
  - {id: late, path: /x/y, read: [a.example]}
  - {id: broad, path: /x/**, read: [a.example]}
`), [], 'a later broad rule shadows nothing')
})

t.test('methods filters: shadowed only when earlier filters take every method', async (t) => {
  t.same(kinds(`
  - {id: get, path: /a, methods: [GET], read: [a.example]}
  - {id: any, path: /a, read: [a.example]}
  - {id: get2, path: /a, methods: [GET], read: [a.example]}
  - {id: post, path: /a/**, methods: [POST], write: [a.example]}
  - {id: both, path: /a, methods: [GET, POST], read: [a.example], write: [a.example]}
`), ['get2 shadowed', 'both shadowed'])
  t.same(kinds(`
  - {id: get, path: /a, methods: [GET], read: [a.example]}
  - {id: post, path: /**, methods: [POST], write: [a.example]}
  - {id: both, path: /a, methods: [GET, POST, PUT], read: [a.example], write: [a.example]}
`), [], 'PUT still reaches the third rule')
  const acl = mustParse(`version: 1
rules:
  - {id: get, path: /a, methods: [GET], read: [a.example]}
  - {id: post, path: /**, methods: [POST], write: [a.example]}
  - {id: both, path: /a, methods: [GET, POST], read: [a.example], write: [a.example]}
`)
  t.same(lint(acl).map((f) => formatFinding(f, acl.file)), [
    'acl.yaml:5:5: rules[2] (both): never decides: rules[0] (get) at line 3 and rules[1] (post) at line 4 match every request it could match',
  ])
})

t.test('rules that can never allow anything are unreachable', async (t) => {
  t.same(kinds(`
  - {id: nothing, path: /a}
  - {id: false-public, path: /b, public: false}
  - {id: filtered, path: /c, methods: [POST, DELETE], read: [a.example]}
  - {id: fine, path: /d, methods: [GET, POST], read: [a.example]}
  - {id: public-trace, path: /e, methods: [TRACE], public: true}
`), ['nothing unreachable', 'false-public unreachable', 'filtered unreachable', 'public-trace unreachable'])
  const acl = mustParse('version: 1\nrules:\n  - {id: filtered, path: /c, methods: [POST, DELETE], read: [a.example]}\n  - {path: /d}\n')
  t.same(lint(acl).map((f) => formatFinding(f, 'acl.yaml')), [
    'acl.yaml:3:5: rules[0] (filtered): none of its methods (POST, DELETE) maps to a verb it grants (read): every request it matches is denied',
    'acl.yaml:4:5: rules[1] (rule-2): grants no verb: every request it matches is denied',
  ])
})

t.test('a filter method that maps to no verb is flagged', async (t) => {
  const acl = mustParse('version: 1\nrules:\n  - {id: x, path: /a, methods: [GET, PROPFIND], read: [a.example]}\n')
  t.same(lint(acl).map((f) => formatFinding(f, 'acl.yaml')), ['acl.yaml:3:5: rules[0] (x): method PROPFIND maps to no verb: requests with it are always denied'])
})

t.test('duplicate ids, in ACLs built in code (parse refuses them outright)', async (t) => {
  const acl = compileAcl({
    file: 'built',
    rules: [
      { id: 'same', path: '/a', grants: grant('a.example'), pos: { line: 1, col: 1 } },
      { id: 'same', path: '/b', grants: grant('a.example'), pos: { line: 2, col: 1 } },
      { path: '/c', grants: grant('a.example'), pos: { line: 3, col: 1 } },
      { id: 'rule-3', path: '/d', grants: grant('a.example'), pos: { line: 4, col: 1 } },
    ],
  })
  t.same(lint(acl).filter((f) => f.kind === 'duplicate_id').map((f) => [f.index, f.message]), [
    [1, 'id "same" is also the id of rules[0] (same) at line 1'],
    [3, 'id "rule-3" is also the id of rules[2] (rule-3) at line 3'],
  ])
})

t.test('a sensible ACL lints clean', async (t) => {
  t.same(kinds(`
  - {path: /healthz, public: true}
  - {path: /reports/admin/**, read: [a.example], write: [a.example]}
  - {path: /reports/**, read: ["*"]}
  - {path: /users/*/profile, methods: [GET, PUT], read: ["*"], write: [a.example]}
  - {path: /users/**, read: [a.example]}
`), [])
})

t.test('a rule that needs or forwards a client certificate gets a note (lint sees no config; check warns when it has no source)', async (t) => {
  const acl = mustParse(`version: 1
rules:
  - {id: cc, path: /cc/**, read: [a.example], clientCertificate: required}
  - {id: mtls, path: /mtls/**, read: [a.example], require: [mtls]}
  - {id: bound, path: /bound/**, read: [a.example], require: [certificate-bound, mtls]}
  - {id: fwd, path: /fwd/**, read: [a.example], forwardClientCert: true}
  - {id: either, path: /either/**, read: [a.example], require: [mtls, dpop]}
  - {id: optional, path: /optional/**, read: [a.example], clientCertificate: optional}
`)
  const notes = lint(acl).filter((f) => f.kind === 'client_certificate')
  t.same(notes.map((f) => f.ruleId), ['cc', 'mtls', 'bound', 'fwd'], 'a require with a non-certificate alternative, or an optional certificate, needs none')
  t.match(notes.map((f) => f.message), [
    /^clientCertificate: required: met only when the gateway has a certificate source: tls\.clientCertificates request or require, or forwardedClientCert/,
    /^require: \[mtls\]: met only/,
    /^require: \[certificate-bound, mtls\]: met only/,
    /^forwardClientCert: true: met only/,
  ])
  t.ok(notes.every(isNote), 'a note: it does not fail lint')
})
