// A rule's `httpSignature: { components, nonce }` (acl/parse.ts): read,
// frozen, refused where it means nothing, and every bad value reported at
// its line.

import t from 'tap'
import { parseAcl } from '../../../src/acl/parse.js'

const acl = (rule: string) => `version: 1\nrules:\n  - path: /bots/**\n    read: [alice.test]\n${rule}`

t.test('read and frozen; absent means the profile\'s defaults', async (t) => {
  const { acl: a, problems } = parseAcl(acl('    httpSignature:\n      components: ["@method", "@path", content-digest]\n      nonce: required\n'), 'acl.yaml')
  t.same(problems, [])
  t.same(a!.rules[0]!.httpSignature, { components: ['@method', '@path', 'content-digest'], nonce: 'required' })
  t.ok(Object.isFrozen(a!.rules[0]!.httpSignature))
  t.equal(parseAcl(acl(''), 'acl.yaml').acl!.rules[0]!.httpSignature, undefined)
  t.same(parseAcl(acl('    httpSignature: {}\n'), 'acl.yaml').acl!.rules[0]!.httpSignature, { components: [], nonce: 'optional' })
})

t.test('bad values are reported at their line', async (t) => {
  const msgs = (rule: string) => parseAcl(acl(rule), 'acl.yaml').problems.map((p) => `${p.line}: ${p.path}: ${p.message}`)
  t.match(msgs('    httpSignature: { components: ["@nope"] }\n'), [/^5: rules\[0\]\.httpSignature\.components\[0\]: must be a derived component/])
  t.match(msgs('    httpSignature: { components: [Content-Digest] }\n'), [/lowercase header field name/])
  t.match(msgs('    httpSignature: { nonce: always }\n'), [/must be one of required, optional/])
  t.match(msgs('    httpSignature: { colour: red }\n'), [/unknown key/])
  t.match(msgs('    httpSignature: { components: ["@path", "@path"] }\n'), [/duplicate/])
  const pub = parseAcl('version: 1\nrules:\n  - path: /p\n    public: true\n    httpSignature: { nonce: required }\n', 'acl.yaml').problems
  t.match(pub.map((p) => p.message), [/means nothing on a public rule/])
})
