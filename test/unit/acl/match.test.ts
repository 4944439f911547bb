import t from 'tap'
import { matchRule } from '../../../src/acl/index.js'
import type { Acl } from '../../../src/acl/types.js'
import { mustParse } from '../../fixtures/acl/build.js'

/** An ACL of public rules with the given patterns (and optional methods filters), ids = patterns. */
function aclOf(...rules: (string | [string, string[]])[]): Acl {
  const lines = ['version: 1', 'rules:']
  rules.forEach((r, i) => {
    const [path, methods] = typeof r === 'string' ? [r, undefined] : r
    lines.push(`  - id: r${i}`, `    path: ${JSON.stringify(path)}`, '    public: true')
    if (methods) lines.push(`    methods: [${methods.join(', ')}]`)
  })
  return mustParse(rules.length ? lines.join('\n') : 'version: 1\nrules: []')
}

const matched = (acl: Acl, path: string, method = 'GET'): string | undefined => matchRule(acl, method, path)?.id

t.test('the first matching rule wins, in file order', async (t) => {
  const specificFirst = aclOf('/reports/q3', '/reports/**')
  t.equal(matched(specificFirst, '/reports/q3'), 'r0')
  t.equal(matched(specificFirst, '/reports/q4'), 'r1')
  const broadFirst = aclOf('/reports/**', '/reports/q3')
  t.equal(matched(broadFirst, '/reports/q3'), 'r0', 'a later, more specific rule does not win')
  t.equal(matched(aclOf('/a/*', '/a/b'), '/a/b'), 'r0')
  t.equal(matched(aclOf('/a/b', '/a/*'), '/a/b'), 'r0')
  t.equal(matched(aclOf('/*/b', '/a/*'), '/a/b'), 'r0')
  t.equal(matched(aclOf('/a/*', '/*/b'), '/a/b'), 'r0')
  t.equal(matched(aclOf('/x', '/a/**', '/**'), '/a/b'), 'r1')
  t.equal(matched(aclOf('/x', '/**', '/a/**'), '/a/b'), 'r1')
})

t.test('no rule matches: undefined', async (t) => {
  t.equal(matched(aclOf('/a', '/b/*'), '/c'), undefined)
  t.equal(matched(aclOf(), '/'), undefined)
})

t.test('literal segments match exactly and case-sensitively', async (t) => {
  const acl = aclOf('/foo/bar')
  t.equal(matched(acl, '/foo/bar'), 'r0')
  for (const p of ['/Foo/bar', '/foo/BAR', '/foo', '/foo/bar/baz', '/foo/barx', '/foox/bar', '/fo/bar', '/foo/ba']) t.equal(matched(acl, p), undefined, p)
})

t.test('"*" is exactly one whole, non-empty segment', async (t) => {
  const acl = aclOf('/users/*')
  t.equal(matched(acl, '/users/bob'), 'r0')
  t.equal(matched(acl, '/users/b.o-b~%20'), 'r0')
  t.equal(matched(acl, '/users'), undefined, 'zero segments')
  t.equal(matched(acl, '/users/'), undefined, 'an empty segment')
  t.equal(matched(acl, '/users/bob/'), undefined, 'one segment plus a trailing slash')
  t.equal(matched(acl, '/users/bob/x'), undefined, 'two segments')
  const mid = aclOf('/users/*/profile')
  t.equal(matched(mid, '/users/bob/profile'), 'r0')
  t.equal(matched(mid, '/users/profile'), undefined)
  t.equal(matched(mid, '/users//profile'), undefined)
  t.equal(matched(mid, '/users/a/b/profile'), undefined)
  t.equal(matched(aclOf('/*'), '/'), undefined, '"/*" does not match "/"')
})

t.test('"**" is zero or more trailing segments', async (t) => {
  const acl = aclOf('/reports/**')
  for (const p of ['/reports', '/reports/', '/reports/a', '/reports/a/', '/reports/a/b', '/reports/a/b/c/d/e']) t.equal(matched(acl, p), 'r0', p)
  for (const p of ['/', '/report', '/reportsx', '/reportsx/a', '/Reports/a', '/x/reports/a']) t.equal(matched(acl, p), undefined, p)
  const all = aclOf('/**')
  for (const p of ['/', '/a', '/a/', '/a/b/c']) t.equal(matched(all, p), 'r0', p)
  const both = aclOf('/a/*/**')
  t.equal(matched(both, '/a'), undefined)
  t.equal(matched(both, '/a/'), undefined)
  t.equal(matched(both, '/a/b'), 'r0')
  t.equal(matched(both, '/a/b/c/d'), 'r0')
})

t.test('trailing slash: /foo and /foo/ are different paths', async (t) => {
  const acl = aclOf('/foo')
  t.equal(matched(acl, '/foo'), 'r0')
  t.equal(matched(acl, '/foo/'), undefined)
  const slash = aclOf('/foo/')
  t.equal(matched(slash, '/foo/'), 'r0')
  t.equal(matched(slash, '/foo'), undefined)
  const root = aclOf('/')
  t.equal(matched(root, '/'), 'r0')
  t.equal(matched(root, '/a'), undefined)
})

t.test('a methods filter decides whether the rule matches at all', async (t) => {
  const acl = aclOf(['/a/**', ['POST', 'PUT']], '/a/**')
  t.equal(matched(acl, '/a/x', 'POST'), 'r0')
  t.equal(matched(acl, '/a/x', 'PUT'), 'r0')
  t.equal(matched(acl, '/a/x', 'GET'), 'r1', 'filtered out: the next rule decides')
  t.equal(matched(acl, '/a/x', 'post'), 'r1', 'methods are case-sensitive')
  const only = aclOf(['/a', ['GET']])
  t.equal(matched(only, '/a', 'DELETE'), undefined)
})

t.test('paths that are not normalized match nothing', async (t) => {
  const acl = aclOf('/**')
  t.equal(matched(acl, ''), undefined)
  t.equal(matched(acl, 'a/b'), undefined)
  t.equal(matched(acl, '*'), undefined)
})
