// A rule's `require:` (docs/acl.md): parsed and validated at its line, kept on
// the compiled rule, reported by `acl explain` beside an ALLOW and by
// `acl lint` when no principal can meet it. Enforced by the gate
// (test/unit/pipeline/authenticate.test.ts).

import t from 'tap'
import { explain, formatExplanation, lint, parseAcl } from '../../../src/acl/index.js'
import { formatProblem } from '../../../src/config/yaml-source.js'
import { requirableNames } from '../../../src/schemes/index.js'
import type { Identity } from '../../../src/identity/domain.js'

const acl = (rules: string) => parseAcl(`version: 1\nrules:\n${rules}`, 'acl.yaml')

t.test('parsed and kept; a bad entry is refused at its line; a public rule cannot require', async (t) => {
  const ok = acl('  - {id: r, path: /x, read: [alice.test], require: [dpop, channel-bound]}\n')
  t.strictSame(ok.acl?.rules[0]?.require, ['dpop', 'channel-bound'])
  t.strictSame(acl('  - {id: r, path: /x, read: [alice.test]}\n').acl?.rules[0]?.require, [], 'default: any scheme')
  t.match(acl('  - {id: r, path: /x, read: [alice.test], require: [DPoP]}\n').problems.map(formatProblem), [/acl\.yaml:3:\d+: rules\[0\]\.require\[0\]: must be a scheme name or an assurance/])
  t.match(acl('  - {id: r, path: /x, read: [alice.test], require: []}\n').problems.map(formatProblem), [/rules\[0\]\.require/], 'an empty list is a mistake')
  t.match(acl('  - {id: r, path: /x, public: true, require: [dpop]}\n').problems.map(formatProblem), [/rules\[0\]\.require: means nothing on a public rule/])
})

t.test('acl explain says what an ALLOW still requires of the credential', async (t) => {
  const { acl: a } = acl('  - {id: r, path: /x, read: [alice.test], require: [dpop, mtls]}\n')
  t.match(formatExplanation(explain(a!, 'alice.test' as Identity, 'GET', '/x')), /ALLOW by .*; the credential must also be: dpop or mtls/)
})

t.test('acl lint: a name no scheme or assurance has, and require: [session] with sessions: false', async (t) => {
  const known = requirableNames()
  const { acl: a } = acl([
    '  - {id: typo, path: /a, read: [alice.test], require: [dpopp]}',
    '  - {id: contradiction, path: /b, read: [alice.test], sessions: false, require: [session]}',
    '  - {id: fine, path: /c, read: [alice.test], require: [domainpop, channel-bound]}',
  ].join('\n') + '\n')
  t.strictSame(lint(a!, known).map((f) => `${f.ruleId} ${f.kind}`), ['typo unsatisfiable_require', 'contradiction unsatisfiable_require'])
  t.strictSame(lint(a!).map((f) => f.ruleId), ['contradiction'], 'without a list of names only the contradiction is found')
})
