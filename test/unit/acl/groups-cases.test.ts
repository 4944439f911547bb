// Groups decide like the patterns they name, shown by `acl test` cases
// (test/fixtures/acl/groups.yaml and groups.cases.yaml): every case passes,
// and each request decides alike on the path that names group:partners and
// on the path that writes its patterns out.
import t from 'tap'
import { fileURLToPath } from 'node:url'
import { loadAclFile } from '../../../src/acl/index.js'
import { loadCasesFile, runCase } from '../../../src/acl/cases.js'
import { judge } from '../../../src/acl/outcome.js'

const fixture = (name: string) => fileURLToPath(new URL(`../../../../test/fixtures/acl/${name}`, import.meta.url))

t.test('groups.cases.yaml passes against groups.yaml, and the two paths decide alike', async (t) => {
  const { acl, problems } = await loadAclFile(fixture('groups.yaml'))
  t.same(problems, [])
  const { cases } = await loadCasesFile(fixture('groups.cases.yaml'))
  t.ok(cases && cases.length >= 10)
  for (const c of cases!) {
    t.ok(runCase(acl!, c).pass, c.name)
    const twin = c.path.startsWith('/by-group/') ? c.path.replace('/by-group/', '/by-pattern/') : c.path.replace('/by-pattern/', '/by-group/')
    const [a, b] = [judge(acl!, c.identity, c.method, c.path), judge(acl!, c.identity, c.method, twin)]
    t.same([a.outcome, a.reason], [b.outcome, b.reason], `${c.name}: the same decision on ${twin}`)
  }
})
