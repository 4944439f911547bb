// The reload gauges on /metrics (issue 28): the documented alert on the
// reloads counter clears after its window while the broken file is still on
// disk; popgate_config_last_reload_successful stays 0 until a reload takes
// effect, and popgate_config_hash says which files a replica serves. Reload
// problems are logged in line order.

import t from 'tap'
import { writeFile } from 'node:fs/promises'
import { startUpstream, startTestGateway, DEFAULT_ACL } from '../helpers/harness.js'
import { inLineOrder } from '../../src/config/yaml-source.js'

const gauge = (text: string, name: string): number => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1])

t.test('last reload successful, its time, and the hash of what serves', async (t) => {
  const up = await startUpstream()
  const gw = await startTestGateway({ upstream: up.url, extraConfig: 'admin:\n  listen: 127.0.0.1:0\n' })
  t.teardown(async () => { await gw.close(); await up.close() })
  const scrape = async () => (await fetch(`http://127.0.0.1:${gw.gw.admin!.port}/metrics`)).text()

  const start = await scrape()
  t.equal(gauge(start, 'popgate_config_last_reload_successful'), 1, 'the start took effect')
  t.ok(Math.abs(gauge(start, 'popgate_config_last_reload_success_timestamp_seconds') - Date.now() / 1000) < 60)
  const h1 = gauge(start, 'popgate_config_hash')
  t.ok(Number.isInteger(h1) && h1 > 0 && h1 < 2 ** 48, 'a 48-bit hash')

  // Two problems, on lines 6 and 4: logged in line order.
  await writeFile(gw.aclFile, 'version: 1\nrules:\n  - path: /foo\n    read: [ALICE.test]\n  - path: /bar\n    read: [BOB.test]\n')
  const problems = await gw.gw.reload('test')
  t.ok(problems.length >= 2)
  const broken = await scrape()
  t.equal(gauge(broken, 'popgate_config_last_reload_successful'), 0, 'stays 0 while the broken file is there')
  t.equal(gauge(broken, 'popgate_config_hash'), h1, 'the previous files still serve')
  const logged = gw.log.lines.filter((l) => l.msg === 'reload refused; still serving the previous config').map((l) => Number(/:(\d+):\d+: /.exec(String(l.problem))![1]))
  t.same(logged, [...logged].sort((a, b) => a - b), 'in line order')

  await writeFile(gw.aclFile, DEFAULT_ACL + '  - path: /new\n    public: true\n')
  t.same(await gw.gw.reload('test'), [])
  const fixed = await scrape()
  t.equal(gauge(fixed, 'popgate_config_last_reload_successful'), 1)
  t.not(gauge(fixed, 'popgate_config_hash'), h1, 'new files, new hash')
})

t.test('inLineOrder: file by file as first seen, then line and column', async (t) => {
  const p = (file: string, line: number, col: number) => ({ file, line, col, path: '', message: '' })
  t.same(inLineOrder([p('b', 9, 1), p('a', 3, 2), p('b', 2, 1), p('a', 3, 1)]), [p('b', 2, 1), p('b', 9, 1), p('a', 3, 1), p('a', 3, 2)])
})
