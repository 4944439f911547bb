// The admin listener has no authentication. On an address other than
// loopback, `check` and `serve` warn (once, at start); and no admin endpoint
// changes state: anything but GET and HEAD is refused with 405.

import t from 'tap'
import http from 'node:http'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startTestGateway, startUpstream } from '../../helpers/harness.js'
import { runCheck } from '../../../src/cli/serve.js'

const WARNING = /admin\.listen: .*not a loopback address/

t.test('serve: an admin listener on 0.0.0.0 is warned about once at start; on loopback, not at all', async (t) => {
  const up = await startUpstream()
  const open = await startTestGateway({ upstream: up.url, extraConfig: 'admin:\n  listen: 0.0.0.0:0' })
  const local = await startTestGateway({ upstream: up.url, extraConfig: 'admin:\n  listen: 127.0.0.1:0' })
  t.teardown(async () => { await open.close(); await local.close(); await up.close() })
  const warned = open.log.lines.filter((l) => l.level === 40 && WARNING.test(String(l.msg)))
  t.equal(warned.length, 1, 'one warning')
  t.equal(local.log.lines.filter((l) => WARNING.test(String(l.msg))).length, 0)
})

t.test('check: the same warning on stderr, and exit 0 (a warning is not a problem)', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'popgate-admin-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  await writeFile(join(dir, 'acl.yaml'), 'version: 1\nrules:\n  - path: /x\n    public: true\n')
  await writeFile(join(dir, 'gateway.yaml'), 'publicOrigin: https://gw.test\nupstream: http://127.0.0.1:3000\nacl: ./acl.yaml\nadmin:\n  listen: 0.0.0.0:9090\n')
  let stderr = '', stdout = ''
  const [errWrite, outWrite] = [process.stderr.write, process.stdout.write]
  process.stderr.write = ((c: string) => { stderr += c; return true }) as typeof process.stderr.write
  process.stdout.write = ((c: string) => { stdout += c; return true }) as typeof process.stdout.write
  let code: number
  try { code = await runCheck(['--config', join(dir, 'gateway.yaml')]) } finally { process.stderr.write = errWrite; process.stdout.write = outWrite }
  t.equal(code, 0)
  t.match(stderr, WARNING)
  t.match(stdout, /gateway\.yaml: ok/)
})

t.test('no admin endpoint changes state: methods other than GET and HEAD get 405', async (t) => {
  const up = await startUpstream()
  const gw = await startTestGateway({ upstream: up.url, extraConfig: 'admin:\n  listen: 127.0.0.1:0' })
  t.teardown(async () => { await gw.close(); await up.close() })
  const port = gw.gw.admin!.port
  const call = (method: string, path: string) => new Promise<number>((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path, agent: false }, (res) => { res.resume(); res.on('end', () => resolve(res.statusCode!)) })
    req.on('error', reject)
    req.end()
  })
  for (const path of ['/healthz', '/readyz', '/metrics', '/reload', '/nowhere']) {
    for (const method of ['POST', 'PUT', 'DELETE', 'PATCH']) t.equal(await call(method, path), 405, `${method} ${path}`)
  }
  t.equal(await call('GET', '/healthz'), 200)
  t.equal(await call('HEAD', '/metrics'), 200)
})
