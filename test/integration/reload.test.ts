// Hot reload: a valid change takes effect, an invalid one is refused (old
// state keeps serving, the problem is logged at file:line), a Kubernetes
// ConfigMap-style symlink swap is seen, SIGHUP reloads, and a request in
// flight finishes on the state it began with.

import t from 'tap'
import { writeFile, mkdir, symlink, rename, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import http from 'node:http'
import { startUpstream, startTestGateway, rawRequest, waitFor, DEFAULT_ACL } from '../helpers/harness.js'

const OPEN_FOO = DEFAULT_ACL.replace('  - id: foo\n    path: /foo\n    read: [alice.test]\n', '  - id: foo\n    path: /foo\n    public: true\n')

t.test('a valid ACL change takes effect (file watch)', async (t) => {
  const up = await startUpstream()
  const gw = await startTestGateway({ upstream: up.url, watch: true })
  t.teardown(async () => { await gw.close(); await up.close() })
  t.equal((await rawRequest(gw.url, { path: '/foo' })).status, 401)
  await writeFile(gw.aclFile, OPEN_FOO)
  await waitFor(async () => (await rawRequest(gw.url, { path: '/foo' })).status === 200)
  t.equal(await gw.metrics.value('popgate_config_reloads_total', { result: 'ok' }) >= 1, true)
})

t.test('an invalid change is refused; the old state keeps serving; the log says file:line', async (t) => {
  const up = await startUpstream()
  const gw = await startTestGateway({ upstream: up.url })
  t.teardown(async () => { await gw.close(); await up.close() })
  await writeFile(gw.aclFile, 'version: 1\nrules:\n  - path: /foo\n    read: [ALICE.test]\n')
  const problems = await gw.gw.reload('test')
  t.ok(problems.length >= 1)
  t.match(problems[0], { file: gw.aclFile, line: 4 })
  t.ok(gw.log.lines.some((l) => typeof l.problem === 'string' && (l.problem as string).startsWith(`${gw.aclFile}:4:`)), 'logged with file:line')
  t.equal((await rawRequest(gw.url, { path: '/public/x' })).status, 200, 'still serving the old ACL')
  t.equal((await rawRequest(gw.url, { path: '/foo' })).status, 401)
  t.equal(await gw.metrics.value('popgate_config_reloads_total', { result: 'invalid' }), 1)

  // A broken gateway.yaml is refused the same way.
  const original = await readFile(gw.configFile, 'utf8')
  await writeFile(gw.configFile, original + '\nbogusKey: 1\n')
  const p2 = await gw.gw.reload('test')
  t.match(p2[0], { file: gw.configFile, path: 'bogusKey' })
  t.equal((await rawRequest(gw.url, { path: '/public/x' })).status, 200)
})

t.test('a ConfigMap-style symlink swap is picked up', async (t) => {
  const up = await startUpstream()
  const gw = await startTestGateway({ upstream: up.url, watch: true })
  t.teardown(async () => { await gw.close(); await up.close() })
  // Kubernetes layout: cm/..2026_v1/acl.yaml, cm/..data → ..2026_v1, cm/acl.yaml → ..data/acl.yaml
  const cm = join(gw.dir, 'cm')
  await mkdir(join(cm, '..v1'), { recursive: true })
  await writeFile(join(cm, '..v1', 'acl.yaml'), DEFAULT_ACL)
  await symlink('..v1', join(cm, '..data'))
  await symlink('..data/acl.yaml', join(cm, 'acl.yaml'))
  const cfg = await readFile(gw.configFile, 'utf8')
  await writeFile(gw.configFile, cfg.replace('acl: ./acl.yaml', 'acl: ./cm/acl.yaml'))
  await waitFor(() => gw.gw.holder.current.config.aclFile === join(cm, 'acl.yaml'))
  t.equal((await rawRequest(gw.url, { path: '/foo' })).status, 401)
  // Swap: write ..v2, point a new link at it, rename it over ..data (atomic).
  await mkdir(join(cm, '..v2'))
  await writeFile(join(cm, '..v2', 'acl.yaml'), OPEN_FOO)
  await symlink('..v2', join(cm, '..data_tmp'))
  await rename(join(cm, '..data_tmp'), join(cm, '..data'))
  await waitFor(async () => (await rawRequest(gw.url, { path: '/foo' })).status === 200)
  t.pass('new ACL serving after the symlink swap')
})

t.test('SIGHUP reloads', async (t) => {
  const up = await startUpstream()
  const gw = await startTestGateway({ upstream: up.url, watch: true })
  t.teardown(async () => { await gw.close(); await up.close() })
  const before = gw.gw.holder.current
  process.emit('SIGHUP', 'SIGHUP')
  await waitFor(() => gw.gw.holder.current !== before)
  t.pass('state rebuilt on SIGHUP')
})

t.test('a request in flight finishes on the state it began with', async (t) => {
  const up = await startUpstream()
  let release: () => void = () => {}
  up.handler = (_req, res) => { release = () => { res.writeHead(200); res.end('slow done') } }
  const gw = await startTestGateway({ upstream: up.url })
  t.teardown(async () => { await gw.close(); await up.close() })
  const pending = rawRequest(gw.url, { path: '/public/slow' })
  await waitFor(() => up.seen.length === 1)
  // Reload to an ACL where /public is no longer public, while the request waits upstream.
  await writeFile(gw.aclFile, 'version: 1\nrules:\n  - path: /public/**\n    read: [alice.test]\n')
  t.same(await gw.gw.reload('test'), [])
  release()
  const res = await pending
  t.equal(res.status, 200)
  t.equal(res.body, 'slow done')
  t.equal((await rawRequest(gw.url, { path: '/public/slow' })).status, 401, 'new requests see the new ACL')
  void http
})
