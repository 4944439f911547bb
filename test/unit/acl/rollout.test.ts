// Report mode in the ACL model (parse, compile, lint, explain), the outcome
// `acl test` and reloads compare, the rule/decision diff, the cases reader,
// and the decision sample's ring.

import t from 'tap'
import { parseAcl, lint, explain, formatExplanation, judge, ruleChanges, diffDecisions, isNote } from '../../../src/acl/index.js'
import { parseCases, runCase } from '../../../src/acl/cases.js'
import { formatProblem } from '../../../src/config/yaml-source.js'
import { createDecisionSample } from '../../../src/acl/decision-sample.js'
import type { Identity } from '../../../src/identity/domain.js'

const ACL = `version: 1
mode: report
rules:
  - id: health
    path: /healthz
    public: true
  - id: api
    path: /api/**
    mode: enforce
    read: ["*.partner.example"]
  - id: legacy
    path: /legacy/**
    read: [alice.example]
`
const must = (text: string) => {
  const r = parseAcl(text, 'acl.yaml')
  if (!r.acl) throw new Error(r.problems.map(formatProblem).join('\n'))
  return r.acl
}
const problems = (text: string) => parseAcl(text, 'acl.yaml').problems.map(formatProblem)
const id = (s: string) => s as Identity

t.test('mode: a top-level default, a per-rule override; public rules always enforce', async (t) => {
  const acl = must(ACL)
  t.same(acl.rules.map((r) => r.mode), ['enforce', 'enforce', 'report'])
  t.equal(acl.mode, 'report')
  t.equal(must('version: 1\nrules:\n  - path: /a\n    read: [a.example]\n').rules[0]!.mode, 'enforce', 'default enforce')
  t.same(problems('version: 1\nmode: shadow\nrules:\n  - path: /a\n    mode: Report\n    read: [a.example]\n  - path: /h\n    public: true\n    mode: report\n'), [
    'acl.yaml:2:7: mode: must be one of enforce, report; got "shadow"',
    'acl.yaml:5:11: rules[0].mode: must be one of enforce, report; got "Report" (did you mean "report"?)',
    'acl.yaml:9:11: rules[1].mode: means nothing on a public rule: nobody authenticates there',
  ])
  t.match(problems('version: 1\nverbs:\n  mode: [GET]\nrules: []\n')[0], /"mode" is a rule field and cannot name a verb/)
})

t.test('judge: the outcome with the mode; explain and lint say report mode', async (t) => {
  const acl = must(ACL)
  t.match(judge(acl, undefined, 'GET', '/legacy/x'), { outcome: 'would_deny', reason: 'unauthenticated' })
  t.match(judge(acl, id('bob.example'), 'GET', '/api/x'), { outcome: 'deny', reason: 'identity_not_listed' })
  t.match(judge(acl, id('alice.example'), 'GET', '/legacy/x'), { outcome: 'allow' })
  t.match(judge(acl, undefined, 'GET', '/healthz'), { outcome: 'public' })
  t.match(judge(acl, undefined, 'GET', '/nothing'), { outcome: 'deny', reason: 'no_rule' }, 'no rule: never report')
  t.match(formatExplanation(explain(acl, id('bob.example'), 'GET', '/legacy/x')), /legacy is in report mode: the gateway forwards this request anyway .* would_deny \(identity_not_listed\)/)
  t.notMatch(formatExplanation(explain(acl, id('bob.example'), 'GET', '/api/x')), /report mode/)
  const findings = lint(acl)
  t.same(findings.map((f) => [f.ruleId, f.kind]), [['legacy', 'report_mode']])
  t.ok(findings.every(isNote), 'a note: lint still passes')
})

t.test('ruleChanges: added, removed, changed by id; a move or a verb rename is no change', async (t) => {
  const before = must(ACL)
  const after = must(ACL.replace('    mode: enforce\n', '').replace('  - id: legacy', '  - id: new\n    path: /new\n    read: [a.example]\n  - id: legacy').replace(/  - id: health\n    path: \/healthz\n    public: true\n/, ''))
  t.same(ruleChanges(before, after), { added: ['new'], removed: ['health'], changed: ['api'] })
  t.same(ruleChanges(before, must(ACL)), { added: [], removed: [], changed: [] })
  const renamed = must('version: 1\nverbs:\n  view: [GET, HEAD, OPTIONS]\nrules:\n  - id: a\n    path: /a\n    view: [a.example]\n')
  t.same(ruleChanges(must('version: 1\nrules:\n  - id: a\n    path: /a\n    read: [a.example]\n'), renamed).changed, [])
})

t.test('diffDecisions: counts flips, keeps the first few, none for the same ACL', async (t) => {
  const before = must(ACL)
  const after = must(ACL.replace('read: ["*.partner.example"]', 'read: [other.example]').replace('    read: [alice.example]\n', '    mode: enforce\n    read: [alice.example]\n'))
  const sample = [
    ...Array.from({ length: 7 }, () => ({ identity: 'eu.partner.example', method: 'GET', path: '/api/r' })),
    { identity: undefined, method: 'GET', path: '/legacy/a' },
    { identity: 'alice.example', method: 'GET', path: '/legacy/a' },
  ]
  const d = diffDecisions(sample, before, after, 3)
  t.equal(d.sampled, 9)
  t.equal(d.flips, 8, 'seven partner reads and one anonymous legacy request flip')
  t.equal(d.examples.length, 3)
  t.same(d.examples[0], { identity: 'eu.partner.example', method: 'GET', path: '/api/r', before: 'allow', after: 'deny', rule: 'api' })
  t.equal(diffDecisions(sample, before, must(ACL)).flips, 0)
})

t.test('cases: validated with positions; deny passes for would_deny, would_deny needs report', async (t) => {
  const bad = parseCases('version: 1\ncases:\n  - name: x\n    method: get\n    path: /a/../../b\n    expect: allowed\n    identity: Bob.example\n  - name: x\n    colour: red\n', 'cases.yaml')
  t.same(bad.problems.map(formatProblem), [
    'cases.yaml:7:15: cases[0].identity: "Bob.example" is not a valid identity: must be lowercase',
    'cases.yaml:4:13: cases[0].method: must be an uppercase HTTP method like GET; got "get"',
    'cases.yaml:5:11: cases[0].path: is rejected before the ACL is consulted (400 path_rejected): dot segment climbs above the root',
    'cases.yaml:6:13: cases[0].expect: must be one of public, allow, deny, would_deny; got "allowed"',
    'cases.yaml:9:5: cases[1].colour: unknown key',
    'cases.yaml:8:11: cases[1].name: duplicate name: cases[0] has it already',
    'cases.yaml:8:5: cases[1].method: is required',
    'cases.yaml:8:5: cases[1].path: is required',
    'cases.yaml:8:5: cases[1].expect: is required',
  ])
  t.same(parseCases('', 'c.yaml').problems.length, 1, 'empty')
  t.same(parseCases('version: 1\ncases: []\n', 'c.yaml').problems.map(formatProblem), ['c.yaml:2:8: cases: must be a non-empty list of cases'])
  const acl = must(ACL)
  const one = (expect: string, extra = '') => parseCases(`version: 1\ncases:\n  - name: a\n    method: GET\n    path: /legacy//a\n    expect: ${expect}\n${extra}`, 'c.yaml').cases![0]!
  t.equal(one('deny').path, '/legacy/a', 'normalized as the gateway normalizes')
  t.ok(runCase(acl, one('deny')).pass)
  t.ok(runCase(acl, one('would_deny', '    rule: legacy\n    reason: unauthenticated\n')).pass)
  t.notOk(runCase(acl, one('would_deny', '    rule: api\n')).pass, 'the wrong rule fails')
  t.notOk(runCase(acl, one('allow')).pass)
  t.notOk(runCase(must(ACL.replace('mode: report\nrules', 'rules')), one('would_deny')).pass, 'would_deny fails on an enforcing rule')
})

t.test('the decision sample is a bounded ring, oldest first', async (t) => {
  const s = createDecisionSample(3)
  t.same(s.snapshot(), [])
  s.record('a.example', 'GET', '/1')
  s.record(undefined, 'POST', '/2')
  t.same(s.snapshot(), [{ identity: 'a.example', method: 'GET', path: '/1' }, { identity: undefined, method: 'POST', path: '/2' }])
  s.record('c.example', 'GET', '/3')
  s.record('d.example', 'GET', '/4')
  t.same(s.snapshot().map((d) => d.path), ['/2', '/3', '/4'])
  s.record('e.example', 'GET', '/x'.repeat(2000))
  t.same(s.snapshot().map((d) => d.path), ['/2', '/3', '/4'], 'overlong paths are not kept')
  createDecisionSample(0).record('a.example', 'GET', '/') // never throws
})
