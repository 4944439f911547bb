// `groups:` (issue 25): named sets of domain patterns that rules use as
// `group:<name>`. A group decides exactly like the patterns it names; bad
// groups fail at file:line; explain and lint say what groups do.

import t from 'tap'
import { decide, explain, formatExplanation, formatFinding, lint } from '../../../src/acl/index.js'
import { id, mustParse, problemsOf } from '../../fixtures/acl/build.js'

const WITH_GROUPS = `version: 1
groups:
  partners: ["*.partner.example", bob.example]
  everyone: [group:partners, carol.example]
rules:
  - id: reports
    path: /reports/**
    read: [group:everyone]
    write: [group:partners, alice.example]
`
const WRITTEN_OUT = `version: 1
rules:
  - id: reports
    path: /reports/**
    read: ["*.partner.example", bob.example, carol.example]
    write: ["*.partner.example", bob.example, alice.example]
`

t.test('a rule naming groups decides exactly like the patterns they name', async (t) => {
  const grouped = mustParse(WITH_GROUPS)
  const plain = mustParse(WRITTEN_OUT)
  const who = ['a.partner.example', 'x.y.partner.example', 'partner.example', 'bob.example', 'carol.example', 'alice.example', 'mallory.example']
  for (const name of who) {
    for (const method of ['GET', 'POST', 'DELETE', 'TRACE']) {
      for (const path of ['/reports', '/reports/q3', '/other']) {
        const a = decide(grouped, id(name), method, path)
        const b = decide(plain, id(name), method, path)
        t.same([a.allow, a.allow ? a.verb : a.reason], [b.allow, b.allow ? b.verb : b.reason], `${name} ${method} ${path}`)
      }
    }
  }
  t.equal(decide(grouped, id('carol.example'), 'POST', '/reports/x').allow, false, 'a nested group does not leak into a verb that does not name it')
  t.equal(decide(grouped, id('b.partner.example'), 'GET', '/reports/x').allow, true, 'a group inside a group lets its members in')
})

t.test('explain names the group that let an identity in, and lists groups as written', async (t) => {
  const acl = mustParse(WITH_GROUPS)
  const allowed = formatExplanation(explain(acl, id('b.partner.example'), 'GET', '/reports/q3'))
  t.match(allowed, /ALLOW by rules\[0\] \(reports\).*pattern "\*\.partner\.example" \(in group:everyone\)/)
  const denied = formatExplanation(explain(acl, id('carol.example'), 'POST', '/reports/q3'))
  t.match(denied, /DENY \(identity_not_listed\).*carol\.example is not among "write": group:partners \(\*\.partner\.example, bob\.example\), alice\.example/)
})

t.test('bad groups are problems at file:line, every one in one run', async (t) => {
  t.same(problemsOf(`version: 1
groups:
  loop: [group:loop]
  a: [group:b]
  b: [group:a, ok.example]
  Bad: [x.example]
  empty: []
  typo: [group:partnres]
  partners: [p.example]
rules:
  - path: /x
    read: [group:parters, group:loop]
`), [
    'acl.yaml:6:3: groups.Bad: a group name must be 1-32 lowercase letters, digits, "_" or "-", starting with a letter',
    'acl.yaml:7:10: groups.empty: must not be empty',
    'acl.yaml:3:10: groups.loop[0]: group "loop" names itself',
    'acl.yaml:5:7: groups.b[0]: groups name each other in a cycle: group:a → group:b → group:a',
    'acl.yaml:8:10: groups.typo[0]: no group named "partnres" in "groups"; did you mean "group:partners"?',
    'acl.yaml:12:12: rules[0].read[0]: no group named "parters" in "groups"; did you mean "group:partners"?',
  ])
  t.same(problemsOf('version: 1\ngroups: [a.example]\nrules: []\n'), ['acl.yaml:2:9: groups: must be a map of group name → domain patterns; got a list'])
  t.same(problemsOf('version: 1\ngroups:\n  g: [Alice.example]\nrules: []\n'), ['acl.yaml:3:7: groups.g[0]: must be lowercase'])
  t.same(problemsOf('version: 1\nrules:\n  - path: /x\n    read: ["group:"]\n'), ['acl.yaml:4:12: rules[0].read[0]: a group name must be 1-32 lowercase letters, digits, "_" or "-", starting with a letter'])
})

t.test('lint: a group nobody names, and an identity no rule lets in', async (t) => {
  const acl = mustParse(`version: 1
groups:
  partners: [p.example]
  spare: [s.example]
identities:
  p.example: { newKeys: hold }
  ghost.example: { newKeys: hold }
rules:
  - path: /x
    read: [group:partners]
`)
  t.same(lint(acl).map((f) => formatFinding(f, 'acl.yaml')), [
    'acl.yaml:4:3: groups.spare: no rule or group names group:spare',
    'acl.yaml:7:3: identities["ghost.example"]: no rule lets ghost.example in anywhere: its settings never apply',
  ])
  t.same(lint(mustParse(WITH_GROUPS)).map((f) => f.kind), [], 'a group named only by another group is used')
})
