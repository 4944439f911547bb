// What a reload changes, over real sockets (issue 15, done-when 3): after a
// partner's authenticated requests were sampled, a reload that removes the
// partner's access logs rule changes and a decision diff with flips > 0 and
// the partner among the examples; a reload that changes nothing logs no flips.

import t from 'tap'
import { writeFile } from 'node:fs/promises'
import { startUpstream, startTestGateway, rawRequest } from '../../helpers/harness.js'
import { startKeyHost, keysConfig } from '../../helpers/identity.js'
import { createDomainPopFetch } from '../../../src/client/fetch.js'

const ORIGIN = 'https://gw.test'
const ACL = `version: 1
rules:
  - path: /healthz
    public: true
  - id: reports
    path: /reports/**
    read: [alice.test, bob.test]
  - id: other
    path: /other
    read: [alice.test]
`

t.test('a reload that removes a partner logs the flips; an unchanged one logs none', async (t) => {
  const up = await startUpstream()
  const kh = await startKeyHost()
  const gw = await startTestGateway({ upstream: up.url, publicOrigin: ORIGIN, acl: ACL, extraConfig: keysConfig() })
  t.teardown(async () => { await gw.close(); await up.close(); await kh.close() })
  const bob = await kh.publish('bob.test')
  const f = createDomainPopFetch({ identity: 'bob.test', keyUrl: bob.keyUrl, privateKey: bob.key, audience: ORIGIN })
  for (const p of ['/reports/q1', '/reports/q2', '/reports/q3']) t.equal((await f(`${gw.url}${p}`)).status, 200)
  t.equal((await rawRequest(gw.url, { path: '/healthz' })).status, 200)
  const reloads = () => gw.log.lines.filter((l) => l.msg === 'config reloaded') as { acl: Record<string, unknown> }[]

  // Unchanged: no rule changes, no flips.
  t.same(await gw.gw.reload('test'), [])
  t.match(reloads()[0]!.acl, { added: [], removed: [], changed: [], flips: 0, examples: [] })
  t.ok((reloads()[0]!.acl.sampled as number) >= 4, 'the requests were sampled')

  // bob loses access to the reports; "other" is removed and "new" added.
  await writeFile(gw.aclFile, ACL.replace('read: [alice.test, bob.test]', 'read: [alice.test]').replace('  - id: other\n    path: /other\n', '  - id: new\n    path: /new\n'))
  t.same(await gw.gw.reload('test'), [])
  const line = reloads()[1]!.acl
  t.match(line, { added: ['new'], removed: ['other'], changed: ['reports'] })
  t.ok((line.flips as number) >= 3, `bob's sampled requests flip (${line.flips})`)
  t.match((line.examples as unknown[])[0], { identity: 'bob.test', method: 'GET', path: '/reports/q1', before: 'allow', after: 'deny', rule: 'reports' })
  t.notMatch(JSON.stringify(line), /DomainPoP|eyJ/, 'no credential in the line')
  t.equal((await f(`${gw.url}/reports/q1`)).status, 403, 'and bob is refused now')
})
