// The key host as docs/keyhost.md describes it: the printed origin is what
// the process serves (http with its port, or https with --cert/--key), the
// 30-day expiry is said and applied, and the command keygen prints is the
// one that publishes, run as printed.

import t from 'tap'
import { spawn } from 'node:child_process'
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile, readdir } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { popgate, startPopgate, stopAll, MAIN, ENV } from './cli-run.js'
import { TLS_DIR } from '../helpers/tls-fixtures.js'

t.setTimeout(120_000)
const dir = await mkdtemp(join(tmpdir(), 'popgate-cli-keyhost-'))
t.teardown(async () => { await stopAll(); await rm(dir, { recursive: true, force: true }) })
const token = join(dir, 'publish-token')
await writeFile(token, 'keyhost-test-token-0123456789\n')

t.test('plain http: key URLs name http://IDENTITY:PORT, never https; keygen\'s printed command publishes', async (t) => {
  const store = join(dir, 'store')
  const kh = startPopgate(['keyhost', '--identity', 'alice.test', '--listen', '127.0.0.1:0', '--store', store, '--token-file', token], { cwd: dir })
  const port = (await kh.waitFor(/on http:\/\/127\.0\.0\.1:(\d+) /))[1]
  t.match(kh.out(), `keys published as http://alice.test:${port}/.well-known/domainpop/keys/<kid>`)
  t.notMatch(kh.out(), /keys published as https:/, 'not https while serving http')
  t.match(kh.out(), /published keys expire after 30 days/)

  const gen = await popgate(['keygen', '--identity', 'alice.test', '--out', join(dir, 'alice-key'), '--keyhost', `http://127.0.0.1:${port}`, '--token-file', token])
  t.equal(gen.code, 0, gen.stderr)
  const printed = /^next: .*\n {2}(popgate keyhost publish .*)$/m.exec(gen.stdout)?.[1]
  t.ok(printed, 'keygen prints the next command')
  // Run it exactly as printed, with `popgate` being this build.
  const shim = join(dir, 'bin')
  await mkdir(shim, { recursive: true })
  await writeFile(join(shim, 'popgate'), `#!/bin/sh\nexec "${process.execPath}" "${MAIN}" "$@"\n`)
  await chmod(join(shim, 'popgate'), 0o755)
  const run = await new Promise<{ code: number | null; out: string; err: string }>((resolve) => {
    const c = spawn('sh', ['-c', printed!], { cwd: dir, env: { ...ENV, PATH: `${shim}:${ENV.PATH}` } })
    let out = '', err = ''
    c.stdout.on('data', (d) => { out += d })
    c.stderr.on('data', (d) => { err += d })
    c.on('close', (code) => resolve({ code, out, err }))
  })
  t.equal(run.code, 0, run.err)
  const kid = /kid:\s+(\S+)/.exec(gen.stdout)![1]!
  t.equal(run.out, `http://alice.test:${port}/.well-known/domainpop/keys/${kid}\n`, 'publish prints the key URL')
  await kh.waitFor(new RegExp(`published kid ${kid} from 127\\.0\\.0\\.1; expires `))
  t.pass('the key host logs the publish')
  t.match(gen.stdout, `it prints the key URL, http://alice.test:${port}/.well-known/domainpop/keys/${kid} unless`, 'keygen predicted the URL publish printed (the identity as host, not the address it was reached at)')
  const expires = Date.parse(/expires (\S+):/.exec(run.err)![1]!)
  t.ok(Math.abs(expires - (Date.now() + 30 * 86_400_000)) < 600_000, 'it expires in 30 days')
  t.same(await readdir(store), [`${kid}.json`], 'the store folder holds one file per key')
  const served = await fetch(`http://127.0.0.1:${port}/.well-known/domainpop/keys/${kid}`)
  t.equal(served.status, 200)
  t.match(await served.json(), { keys: [{ kty: 'EC', use: 'sig' }] })

  // A revoke, and an attempt with a wrong token: each one line in the key host's output.
  const keyUrl = `http://127.0.0.1:${port}/.well-known/domainpop/keys/${kid}`
  t.equal((await fetch(keyUrl, { method: 'DELETE', headers: { authorization: 'Bearer wrong-token-0123456789' } })).status, 401)
  await kh.waitFor(/refused DELETE from 127\.0\.0\.1: no or wrong publish token/)
  t.equal((await fetch(keyUrl, { method: 'DELETE', headers: { authorization: `Bearer ${(await readFile(token, 'utf8')).trim()}` } })).status, 204)
  await kh.waitFor(new RegExp(`revoked kid ${kid} from 127\\.0\\.0\\.1`))
  t.notMatch(kh.out(), /wrong-token/, 'the token sent is never printed')
})

t.test('--cert and --key: https, and the key URLs say https', async (t) => {
  const kh = startPopgate(['keyhost', '--identity', 'alice.test', '--listen', '127.0.0.1:0', '--cert', join(TLS_DIR, 'server.pem'), '--key', join(TLS_DIR, 'server.key')])
  const port = (await kh.waitFor(/on https:\/\/127\.0\.0\.1:(\d+) /))[1]
  t.match(kh.out(), `keys published as https://alice.test:${port}/`)
  const origin = startPopgate(['keyhost', '--identity', 'alice.test', '--listen', '127.0.0.1:0', '--public-origin', 'https://alice.test/'])
  await origin.waitFor(/on http:\/\/127\.0\.0\.1:\d+ \(keys published as https:\/\/alice\.test\/\.well-known/)
  t.notMatch(origin.out(), /set --public-origin/, 'no hint once it is set')
})
