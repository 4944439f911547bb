// `popgate serve` reloads on the files its config reads, and on nothing else:
// run the way issue 14 found the loop, with its log written into the
// config's own folder. A Kubernetes-style ConfigMap (`..data` symlink swap)
// holds the ACL; the secrets file sits next to the config. Each reload line
// says why: "SIGHUP", or the file that changed.
//
// Waiting is on log lines (the file is polled with a deadline); the log
// writer flushes at least once a second, so each wait is short.

import t from 'tap'
import { closeSync, openSync } from 'node:fs'
import { mkdir, mkdtemp, readFile, rename, rm, symlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { popgate, startPopgate, stopChild, stopAll, ROOT } from './cli-run.js'
import { waitFor, startUpstream } from '../helpers/harness.js'

t.setTimeout(120_000)
const dir = await mkdtemp(join(tmpdir(), 'popgate-cli-reload-'))
t.teardown(async () => { await stopAll(); await rm(dir, { recursive: true, force: true }) })

const ACL_V1 = 'version: 1\nrules:\n  - path: /healthz\n    public: true\n'
const ACL_V2 = ACL_V1 + '  - path: /open/**\n    public: true\n'

interface Line { msg?: string; reason?: string; http?: string; path?: string; status?: number }
const lines = async (file: string): Promise<Line[]> =>
  (await readFile(file, 'utf8')).split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Line)
async function waitForLine(file: string, pred: (l: Line) => boolean, what: string): Promise<Line> {
  let found: Line | undefined
  await waitFor(async () => !!(found = (await lines(file)).find(pred)), 15_000, 25).catch(async () => {
    throw new Error(`${what}: not logged\n${await readFile(file, 'utf8')}`)
  })
  return found!
}

t.test('serve > popgate.log in the config folder: no reload loop; SIGHUP and file changes are named', async (t) => {
  // cm/acl.yaml → ..data/acl.yaml, ..data → ..v1 (what a ConfigMap volume looks like)
  const cm = join(dir, 'cm')
  await mkdir(join(cm, '..v1'), { recursive: true })
  await writeFile(join(cm, '..v1', 'acl.yaml'), ACL_V1)
  await symlink('..v1', join(cm, '..data'))
  await symlink('..data/acl.yaml', join(cm, 'acl.yaml'))
  const secrets = join(dir, 'secrets.yaml')
  t.equal((await popgate(['secrets', 'generate', '--out', secrets])).code, 0)
  const up = await startUpstream()
  t.teardown(() => up.close())
  const config = join(dir, 'gateway.yaml')
  const configText = `listen: 127.0.0.1:0\npublicOrigin: https://gw.test\nupstream: ${up.url}\nacl: ./cm/acl.yaml\nsecrets:\n  file: ./secrets.yaml\n`
  await writeFile(config, configText)

  const log = join(dir, 'popgate.log')
  const fd = openSync(log, 'a')
  const serve = startPopgate(['serve', '--config', 'gateway.yaml'], { cwd: dir, stdio: ['ignore', fd, 'pipe'] })
  closeSync(fd)
  const listening = await waitForLine(log, (l) => l.msg === 'popgate listening', 'popgate listening')
  const gw = `http://${listening.http}`
  t.match(listening, { version: JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')).version, pid: serve.child.pid, config: join(dir, 'gateway.yaml'), rules: 1 }, 'the listening line says what runs: version, pid, config, rule count')
  t.notOk((await lines(log)).some((l) => /throw-away secrets/.test(l.msg ?? '')), 'a secrets file is configured: no warning')

  // Log lines land in the config's folder; each batch is a file event there.
  t.equal((await fetch(`${gw}/healthz`)).status, 200)
  await waitForLine(log, (l) => l.msg === 'access' && l.path === '/healthz', 'the first access line')

  serve.child.kill('SIGHUP')
  await waitForLine(log, (l) => l.msg === 'config reloaded' && l.reason === 'SIGHUP', 'a SIGHUP reload')

  // Same bytes rewritten: not a change. The ConfigMap swap: a change, named by the path the config uses.
  await writeFile(config, configText)
  await mkdir(join(cm, '..v2'))
  await writeFile(join(cm, '..v2', 'acl.yaml'), ACL_V2)
  await symlink('..v2', join(cm, '..data_tmp'))
  await rename(join(cm, '..data_tmp'), join(cm, '..data'))
  const swap = await waitForLine(log, (l) => l.msg === 'config reloaded' && l.reason !== 'SIGHUP', 'a reload after the ..data swap')
  t.equal(swap.reason, `file changed: ${join(cm, 'acl.yaml')}`, 'the reload line names the ACL, not the config rewritten unchanged')
  t.equal((await fetch(`${gw}/open/x`)).status, 200, 'the new ACL serves (/open is public now)')

  t.equal((await popgate(['secrets', 'generate', '--out', secrets, '--force'])).code, 0)
  const rotated = await waitForLine(log, (l) => l.msg === 'config reloaded' && l.reason === `file changed: ${secrets}`, 'a reload after the secrets file changed')
  t.ok(rotated)

  // A last marker a full flush later, then a clean stop (which writes what is pending).
  t.equal((await fetch(`${gw}/open/last`)).status, 200)
  await waitForLine(log, (l) => l.msg === 'access' && l.path === '/open/last', 'the marker access line')
  t.equal(await stopChild(serve.child), 0)
  const reloads = (await lines(log)).filter((l) => l.msg === 'config reloaded')
  t.same(reloads.map((l) => l.reason), ['SIGHUP', `file changed: ${join(cm, 'acl.yaml')}`, `file changed: ${secrets}`],
    'exactly three reloads: none caused by the log file the gateway writes next to its config')
})
