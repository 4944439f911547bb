import { readFileSync } from 'node:fs'
import t from 'tap'
import { loadAclFile, parseAcl } from '../../../src/acl/index.js'
import { formatProblem } from '../../../src/config/yaml-source.js'
import { mustParse, problemsOf, repoFile } from '../../fixtures/acl/build.js'

t.test('every mistake in a file is reported at once, each with its position', async (t) => {
  const file = 'many-mistakes.yaml'
  const problems = problemsOf(readFileSync(repoFile(`test/fixtures/acl/${file}`), 'utf8'), file)
  t.same(problems, [
    'many-mistakes.yaml:1:10: version: must be 1, the only ACL format version; got 2',
    'many-mistakes.yaml:4:17: verbs.write[1]: HEAD already belongs to verb "read"; a method maps to one verb only',
    'many-mistakes.yaml:5:11: verbs.admin[0]: must be uppercase (methods are case-sensitive): GET',
    'many-mistakes.yaml:9:11: rules[0].read: a public rule lets everyone in without authentication; it cannot also grant verbs',
    'many-mistakes.yaml:10:21: rules[0].channelBinding: means nothing on a public rule: nobody authenticates there',
    'many-mistakes.yaml:11:11: rules[1].path: must start with "/"',
    'many-mistakes.yaml:12:12: rules[1].read[0]: must be lowercase',
    'many-mistakes.yaml:12:27: rules[1].read[1]: "*." must be followed by a domain that must not be empty',
    'many-mistakes.yaml:12:33: rules[1].read[2]: "*" may only be the whole pattern or a leading "*."',
    'many-mistakes.yaml:12:50: rules[1].read[3]: must not end with a dot',
    'many-mistakes.yaml:16:5: rules[2].colour: unknown key',
    'many-mistakes.yaml:14:11: rules[2].path: "**" may only be the last segment',
    'many-mistakes.yaml:18:11: rules[3].path: "*" and "**" must be a whole segment',
    'many-mistakes.yaml:19:20: rules[3].methods[1]: duplicate of an earlier item ("GET")',
    'many-mistakes.yaml:20:21: rules[3].channelBinding: must be one of required, optional; got "sometimes"',
    'many-mistakes.yaml:21:15: rules[3].sessions: must be true or false (YAML 1.2: "yes" is a string)',
    'many-mistakes.yaml:22:14: rules[3].scopes[0]: must be an OAuth scope token (RFC 6749 §3.3); got "has space"',
    'many-mistakes.yaml:23:5: rules[4]: must be a map with the keys id, path, methods, public, channelBinding, sessions, scopes, mode, bodyOnGet, forwardToken, require, httpSignature, clientCertificate, forwardClientCert, cors, read, write; got "rule-1"',
    'many-mistakes.yaml:26:5: rules[5].wrtie: unknown key; did you mean "write"?',
    'many-mistakes.yaml:25:11: rules[5].read: must not be empty',
    'many-mistakes.yaml:17:9: rules[3].id: duplicate id "dup": rules[2] has it already',
  ])
})

t.test('the issue\'s own example: position of a bad domain pattern', async (t) => {
  const text = [
    'version: 1',
    'rules:',
    '  - path: /healthz',
    '    public: true',
    '  - path: /foo',
    '    read:',
    '      - Alice.example',
  ].join('\n')
  t.same(problemsOf(text), ['acl.yaml:7:9: rules[1].read[0]: must be lowercase'])
})

t.test('defaults', async (t) => {
  const acl = mustParse('version: 1\nrules:\n  - path: /foo\n    read: [alice.example]\n')
  t.same([...acl.verbs], [['read', ['GET', 'HEAD', 'OPTIONS']], ['write', ['POST', 'PUT', 'PATCH', 'DELETE']]])
  t.same([...acl.verbOf], [['GET', 'read'], ['HEAD', 'read'], ['OPTIONS', 'read'], ['POST', 'write'], ['PUT', 'write'], ['PATCH', 'write'], ['DELETE', 'write']])
  const [rule] = acl.rules
  t.equal(rule!.index, 0)
  t.equal(rule!.id, 'rule-1')
  t.equal(rule!.methods, undefined)
  t.equal(rule!.public, false)
  t.equal(rule!.channelBinding, 'optional')
  t.equal(rule!.sessions, true)
  t.same(rule!.scopes, [])
  t.same([...rule!.grants.keys()], ['read'])
  t.same(rule!.grants.get('read')!.map((p) => p.source), ['alice.example'])
  t.same(rule!.pos, { line: 3, col: 5 })
  t.equal(acl.file, 'acl.yaml')
})

t.test('explicit fields are stored', async (t) => {
  const acl = mustParse(`version: 1
rules:
  - path: /x
    public: false
  - id: strict
    path: /reports/**
    methods: [GET, POST]
    read: ["*.partner.example", "*"]
    write: [alice.example]
    channelBinding: required
    sessions: false
    scopes: [reports.read, "openid"]
`)
  const [first, strict] = acl.rules
  t.equal(first!.id, 'rule-1')
  t.equal(strict!.id, 'strict')
  t.equal(strict!.index, 1)
  t.same([...strict!.methods!], ['GET', 'POST'])
  t.same(strict!.grants.get('read')!.map((p) => p.kind), ['suffix', 'any'])
  t.equal(strict!.channelBinding, 'required')
  t.equal(strict!.sessions, false)
  t.same(strict!.scopes, ['reports.read', 'openid'])
})

t.test('declared verbs replace the defaults, and only declared verbs are rule keys', async (t) => {
  const text = `version: 1
verbs:
  view: [GET, HEAD]
  admin: [POST, DELETE, PURGE]
rules:
  - path: /a
    view: [alice.example]
    admin: [bob.example]
`
  const acl = mustParse(text)
  t.same([...acl.verbOf], [['GET', 'view'], ['HEAD', 'view'], ['POST', 'admin'], ['DELETE', 'admin'], ['PURGE', 'admin']])
  t.same([...acl.rules[0]!.grants.keys()], ['view', 'admin'])
  t.same(problemsOf(text + '    read: [alice.example]\n'), ['acl.yaml:9:5: rules[0].read: unknown key'])
})

t.test('verb declarations are checked', async (t) => {
  t.same(problemsOf('version: 1\nverbs: {}\nrules: []\n'), ['acl.yaml:2:8: verbs: must declare at least one verb (or leave "verbs" out for read and write)'])
  t.same(problemsOf('version: 1\nverbs: [GET]\nrules: []\n'), ['acl.yaml:2:8: verbs: must be a map of verb → methods; got a list'])
  t.same(problemsOf('version: 1\nverbs:\n  Read: [GET]\n  path: [POST]\n  see: []\n  go: GET\nrules: []\n'), [
    'acl.yaml:3:3: verbs.Read: a verb name must be 1-32 lowercase letters, digits, "_" or "-", starting with a letter',
    'acl.yaml:4:3: verbs.path: "path" is a rule field and cannot name a verb',
    'acl.yaml:5:8: verbs.see: must not be empty',
    'acl.yaml:6:7: verbs.go: must be a list; got "GET"',
  ])
  t.same(problemsOf('version: 1\nverbs:\n  a: [GET, "M SEARCH", 7]\nrules: []\n'), [
    'acl.yaml:3:12: verbs.a[1]: must be an HTTP method name like GET; got "M SEARCH"',
    'acl.yaml:3:24: verbs.a[2]: must be a method name; got 7',
  ])
})

t.test('the top level is checked', async (t) => {
  t.same(problemsOf(''), ['acl.yaml:1:1: (root): is empty: an ACL needs at least "version: 1" and "rules"'])
  t.same(problemsOf('- a\n'), ['acl.yaml:1:1: (root): must be a map with the keys version, mode, unmatched, verbs, groups, identities, rules, revoke; got a list'])
  t.same(problemsOf('rules: []\n'), ['acl.yaml:1:1: version: is required'])
  t.same(problemsOf('version: "1"\nrules: []\n'), ['acl.yaml:1:10: version: must be 1, the only ACL format version; got "1"'])
  t.same(problemsOf('version: 1\n'), ['acl.yaml:1:1: rules: is required'])
  t.same(problemsOf('version: 1\nrules: {path: /}\n'), ['acl.yaml:2:8: rules: must be a list of rules; got a map'])
  t.same(problemsOf('version: 1\nrule: []\nrules: []\n'), ['acl.yaml:2:1: rule: unknown key; did you mean "rules"?'])
  t.same(problemsOf('version: 1\nunmatched: shadow\nrules: []\n'), ['acl.yaml:2:12: unmatched: must be one of enforce, report; got "shadow"'])
  // YAML-level errors come from readYaml, with a position too.
  t.match(problemsOf('version: 1\nrules: [\n'), [/^acl\.yaml:\d+:\d+: \(root\): /])
  t.match(problemsOf('version: 1\nversion: 1\nrules: []\n'), [/^acl\.yaml:2:1: \(root\): .*unique/i])
})

t.test('an empty rule list is a valid (deny-all) ACL', async (t) => {
  t.same(mustParse('version: 1\nrules: []\n').rules, [])
})

t.test('a rule needs a path; a public rule takes no verbs and no authentication settings', async (t) => {
  t.same(problemsOf('version: 1\nrules:\n  - read: [alice.example]\n'), ['acl.yaml:3:5: rules[0].path: is required'])
  t.same(problemsOf('version: 1\nrules:\n  - path: /a\n    public: true\n    write: [alice.example]\n    sessions: false\n    scopes: [x]\n'), [
    'acl.yaml:5:12: rules[0].write: a public rule lets everyone in without authentication; it cannot also grant verbs',
    'acl.yaml:6:15: rules[0].sessions: means nothing on a public rule: nobody authenticates there',
    'acl.yaml:7:13: rules[0].scopes: means nothing on a public rule: nobody authenticates there',
  ])
  t.same(problemsOf('version: 1\nrules:\n  - path: /a\n    public: "true"\n'), ['acl.yaml:4:13: rules[0].public: must be true or false (YAML 1.2: "true" is a string)'])
  t.same(problemsOf('version: 1\nrules:\n  - path: /a\n    read: alice.example\n'), ['acl.yaml:4:11: rules[0].read: must be a list; got "alice.example"'])
})

t.test('an unquoted "*" pattern (a YAML alias) gets a hint, not "must be a string"', async (t) => {
  t.same(problemsOf('version: 1\nrules:\n  - path: /a\n    read: [*.partner.example]\n  - path: /b\n    read:\n      -\n'), [
    'acl.yaml:4:12: rules[0].read[0]: is empty; quote patterns that start with "*" ("*.partner.example", "*"): YAML reads an unquoted * as an alias',
    'acl.yaml:7:8: rules[1].read[0]: is empty; quote patterns that start with "*" ("*.partner.example", "*"): YAML reads an unquoted * as an alias',
  ])
})

t.test('ids are unique, default ids included', async (t) => {
  t.same(problemsOf('version: 1\nrules:\n  - path: /a\n  - id: rule-1\n    path: /b\n'), [
    'acl.yaml:4:9: rules[1].id: duplicate id "rule-1": rules[0] (its default id) has it already',
  ])
  t.same(problemsOf('version: 1\nrules:\n  - id: rule-2\n    path: /a\n  - path: /b\n'), [
    'acl.yaml:5:5: rules[1].id: its default id "rule-2" is already taken by rules[0]; give one of them another id',
  ])
  t.same(problemsOf('version: 1\nrules:\n  - id: "bad id"\n    path: /a\n  - id: 3\n    path: /b\n'), [
    'acl.yaml:3:9: rules[0].id: must be 1-64 letters, digits, ".", "_", ":" or "-", starting with a letter or digit',
    'acl.yaml:5:9: rules[1].id: must be a string; got 3',
  ])
})

t.test('path patterns are checked', async (t) => {
  const bad: [string, string][] = [
    ['', 'must not be empty'],
    ['foo', 'must start with "/"'],
    ['/a?b=1', 'must not contain "?" or "#": rules match the path only, never the query'],
    ['/a#x', 'must not contain "?" or "#": rules match the path only, never the query'],
    ['/a//b', 'must not contain "//": normalized paths never do'],
    ['//', 'must not contain "//": normalized paths never do'],
    ['/a/../b', 'must not contain "." or ".." segments: normalized paths never do'],
    ['/./a', 'must not contain "." or ".." segments: normalized paths never do'],
    ['/**/a', '"**" may only be the last segment'],
    ['/a/**/', '"**" may only be the last segment'],
    ['/a*', '"*" and "**" must be a whole segment'],
    ['/***', '"*" and "**" must be a whole segment'],
    ['/a b', 'character " " is not allowed in a path (percent-encode it)'],
    ['/caf\u00e9', 'character "é" is not allowed in a path (percent-encode it)'],
    ['/a\\b', 'character "\\\\" is not allowed in a path (percent-encode it)'],
    ['/%zz', '"%" at offset 1 must start a percent-encoding like %20'],
    ['/a%2', '"%" at offset 2 must start a percent-encoding like %20'],
    ['/%c3%a9', 'write %c3 with uppercase hex digits (%C3): paths are compared after normalization'],
    ['/%41', 'write %41 as "A": normalization decodes it, so the encoded form never matches'],
    ['/a%2Fb', '%2F can never match: the gateway rejects paths that contain it'],
    ['/a%5Cb', '%5C can never match: the gateway rejects paths that contain it'],
    ['/a%00', '%00 can never match: the gateway rejects paths that contain it'],
  ]
  for (const [pattern, message] of bad) {
    t.same(problemsOf(`version: 1\nrules:\n  - path: ${JSON.stringify(pattern)}\n`), [`acl.yaml:3:11: rules[0].path: ${message}`], pattern)
  }
  const good = ['/', '/a', '/a/', '/*', '/**', '/a/*/b', '/a/*/**', "/~u/%C3%A9/a:b@c!$&'()+,;=", '/-._~']
  for (const pattern of good) t.equal(mustParse(`version: 1\nrules:\n  - path: ${JSON.stringify(pattern)}\n`).rules[0]!.path, pattern, pattern)
})

t.test('methods filters are uppercase, unique, non-empty', async (t) => {
  t.same(problemsOf('version: 1\nrules:\n  - path: /a\n    methods: [get]\n  - path: /b\n    methods: []\n'), [
    'acl.yaml:4:15: rules[0].methods[0]: must be uppercase (methods are case-sensitive): GET',
    'acl.yaml:6:14: rules[1].methods: must not be empty',
  ])
})

t.test('loadAclFile reads a file, and reports one it cannot read', async (t) => {
  const good = await loadAclFile(repoFile('test/fixtures/acl/good.yaml'))
  t.same(good.problems, [])
  t.same(good.acl!.rules.map((r) => r.id), ['rule-1', 'reports'])
  const missing = await loadAclFile(repoFile('test/fixtures/acl/no-such-file.yaml'))
  t.equal(missing.acl, undefined)
  t.equal(missing.problems.length, 1)
  t.match(formatProblem(missing.problems[0]!), /no-such-file\.yaml:1:1: \(root\): cannot read the ACL file \(ENOENT\)/)
})

t.test('the result is frozen', async (t) => {
  const { acl } = parseAcl('version: 1\nrules:\n  - path: /a\n    read: [alice.example]\n', 'f')
  t.ok(Object.isFrozen(acl))
  t.ok(Object.isFrozen(acl!.rules))
  t.ok(Object.isFrozen(acl!.rules[0]))
  t.throws(() => (acl!.rules as unknown as unknown[]).push({}))
})
