// acl.example.yaml ships in the package: it must load, lint clean, and do
// what its comments say.

import { readFileSync } from 'node:fs'
import t from 'tap'
import { decide, explain, formatExplanation, lint, loadAclFile, parseAcl } from '../../../src/acl/index.js'
import { id, repoFile } from '../../fixtures/acl/build.js'

t.test('acl.example.yaml parses with no problems and lints clean', async (t) => {
  const { acl, problems } = await loadAclFile(repoFile('acl.example.yaml'))
  t.same(problems, [])
  t.ok(acl)
  // Notes only: the reports-admin rule needs the gateway's own TLS listener (channelBinding: required).
  t.same(lint(acl!).map((f) => [f.ruleId, f.kind]), [['reports-admin', 'channel_binding']])

  const says = (who: string | undefined, method: string, path: string): string => {
    const d = decide(acl!, who === undefined ? undefined : id(who), method, path)
    return d.allow ? `allow ${d.rule.id}` : `deny ${d.reason}`
  }
  t.equal(says(undefined, 'GET', '/healthz'), 'allow health')
  t.equal(says('alice.example', 'GET', '/foo'), 'allow rule-2')
  t.equal(says('alice.example', 'GET', '/foo/'), 'deny no_rule')
  t.equal(says('alice.example', 'GET', '/foo/bar'), 'deny no_rule')
  t.equal(says('x.partner.example', 'GET', '/reports/admin/a'), 'deny identity_not_listed', 'the admin rule comes first')
  t.equal(says('x.partner.example', 'GET', '/reports/q3'), 'allow reports')
  t.equal(says('partner.example', 'GET', '/reports/q3'), 'deny identity_not_listed')
  t.equal(says('x.partner.example', 'PUT', '/reports/q3'), 'deny identity_not_listed')
  t.equal(says('bob.example', 'GET', '/users/bob/profile'), 'allow profiles')
  t.equal(says('bob.example', 'GET', '/users/profile'), 'deny no_rule')
  t.equal(says('x.partner.example', 'POST', '/uploads/a'), 'allow upload')
  t.equal(says('x.partner.example', 'GET', '/uploads/a'), 'deny no_rule', 'the methods filter lets GET fall through')
  const admin = acl!.rules.find((r) => r.id === 'reports-admin')!
  t.equal(admin.channelBinding, 'required')
  t.equal(admin.sessions, false)
})

t.test('the explain transcript in docs/acl.md is what explain prints', async (t) => {
  // Named as the docs' command line gives it.
  const { acl } = parseAcl(readFileSync(repoFile('acl.example.yaml'), 'utf8'), 'acl.example.yaml')
  const command = '$ popgate acl explain --acl acl.example.yaml --as alice.example GET /reports/q3\n'
  const docs = readFileSync(repoFile('docs/acl.md'), 'utf8')
  const start = docs.indexOf(command)
  t.ok(start >= 0, 'the docs show the command')
  const shown = docs.slice(start + command.length, docs.indexOf('```', start)).trimEnd()
  t.equal(formatExplanation(explain(acl!, id('alice.example'), 'GET', '/reports/q3')), shown)
})
