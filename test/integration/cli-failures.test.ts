// Every CLI failure path a user can hit: the documented exit code (in the
// command's --help), one line on stderr that says what to do, no stack
// trace. Plus --help for every command and --version. Real child processes;
// servers on 127.0.0.1:0 in this process; files in a temp dir.

import t from 'tap'
import http from 'node:http'
import https from 'node:https'
import net from 'node:net'
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { AddressInfo } from 'node:net'
import { popgate, stopAll, oneLineFailure, startPopgate, mapLimited, ROOT } from './cli-run.js'
import { tlsFixtures } from '../helpers/tls-fixtures.js'

t.setTimeout(240_000)
const dir = await mkdtemp(join(tmpdir(), 'popgate-cli-fail-'))
t.teardown(async () => { await stopAll(); await rm(dir, { recursive: true, force: true }) })

const COMMANDS = ['serve', 'check', 'acl', 'secrets', 'keygen', 'keyhost', 'fetch', 'demo']
const helps = new Map<string, string>()

async function listening(server: net.Server): Promise<number> {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  t.teardown(() => new Promise<void>((r) => { (server as http.Server).closeAllConnections?.(); server.close(() => r()) }))
  return (server.address() as AddressInfo).port
}

/** The code must be one the command's --help documents. */
function documented(cmd: string, code: number): void {
  t.match(helps.get(cmd), new RegExp(`^\\s+${code}\\s|\\s${code}\\s+[a-z]`, 'm'), `exit ${code} is documented in popgate ${cmd} --help`)
}

t.test('--help works for every command, and --version', async (t) => {
  const runs = await mapLimited(COMMANDS, 4, (c) => popgate([c, '--help']))
  for (const [i, c] of COMMANDS.entries()) {
    const r = runs[i]!
    t.equal(r.code, 0, `${c} --help: exit 0 (${r.stderr})`)
    t.match(r.stdout, new RegExp(`^popgate ${c}`), `${c} --help: its own synopsis`)
    t.match(r.stdout, /Exit codes:/)
    helps.set(c, r.stdout)
  }
  t.match(helps.get('demo'), /--port N/, 'demo --port is in the help')
  t.match(helps.get('fetch'), /--cacert FILE/)
  t.equal((await popgate(['keyhost', 'publish', '-h'])).code, 0, 'help after a subcommand too')
  const version = await popgate(['--version'])
  const pkg = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as { version: string }
  t.equal(version.code, 0)
  t.equal(version.stdout, `popgate ${pkg.version}\n`)
})

t.test('usage errors: one line, exit 2, a pointer to --help', async (t) => {
  const cases: [string, string, string[]][] = [
    ['check', 'unknown option', ['check', '--config', 'x.yaml', '--bogus']],
    ['keygen', 'missing --out', ['keygen', '--identity', 'alice.test']],
    ['keyhost', '--cert without --key', ['keyhost', '--identity', 'alice.test', '--listen', '127.0.0.1:0', '--cert', tlsFixtures.caFile]],
    ['keyhost', '--key without --cert', ['keyhost', '--identity', 'alice.test', '--listen', '127.0.0.1:0', '--key', tlsFixtures.caFile]],
    ['fetch', 'not a URL', ['fetch', 'ftp://x', '--identity', 'alice.test', '--key', 'k', '--key-url', 'https://alice.test/k']],
    ['secrets', 'no subcommand', ['secrets']],
    ['demo', 'bad --port', ['demo', '--port', 'eighty']],
  ]
  const runs = await mapLimited(cases, 4, ([, , args]) => popgate(args, { cwd: dir }))
  for (const [i, [cmd, why]] of cases.entries()) {
    oneLineFailure(t, runs[i]!, 2, `${cmd}: ${why}`, new RegExp(`see: popgate ${cmd} --help`))
    documented(cmd, 2)
  }
  const refused = runs[2]!
  t.match(refused.stderr, /--cert and --key go together/, 'never silently plain http')
})

t.test('fetch: a missing key file → 66; nothing listening → 69', async (t) => {
  const key = join(dir, 'k')
  t.equal((await popgate(['keygen', '--identity', 'alice.test', '--out', key])).code, 0)
  const missing = await popgate(['fetch', 'http://127.0.0.1:9/x', '--identity', 'alice.test', '--key', join(dir, 'nope.json'), '--key-url', 'https://alice.test/k'])
  oneLineFailure(t, missing, 66, 'missing --key file', /cannot read --key .*nope\.json \(ENOENT\)/)
  documented('fetch', 66)
  const notJwk = await popgate(['fetch', 'http://127.0.0.1:9/x', '--identity', 'alice.test', '--key', join(key, 'public.jwk.json'), '--key-url', 'https://alice.test/k'])
  oneLineFailure(t, notJwk, 66, 'a public key given as --key', /not a private JWK/)

  const closed = net.createServer()
  const port = await listening(closed)
  await new Promise<void>((r) => closed.close(() => r())) // a port nobody listens on now
  const refused = await popgate(['fetch', `http://127.0.0.1:${port}/x`, '--identity', 'alice.test', '--key', join(key, 'private.jwk.json'), '--key-url', 'https://alice.test/k'])
  oneLineFailure(t, refused, 69, 'connection refused', /nothing listens at 127\.0\.0\.1:\d+: is the server running/)
  documented('fetch', 69)
})

t.test('fetch to https with a private CA: says why and what to do; --cacert trusts it', async (t) => {
  const key = join(dir, 'k', 'private.jwk.json')
  const server = https.createServer({ cert: tlsFixtures.certPem, key: tlsFixtures.keyPem }, (_req, res) => res.end('secure ok\n'))
  const port = await listening(server)
  const args = ['fetch', `https://127.0.0.1:${port}/x`, '--identity', 'alice.test', '--key', key, '--key-url', 'https://alice.test/k']
  const untrusted = await popgate(args)
  oneLineFailure(t, untrusted, 69, 'untrusted certificate', /certificate is not trusted \((UNABLE_TO_VERIFY_LEAF_SIGNATURE|SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_GET_ISSUER_CERT_LOCALLY)\); pass --cacert FILE/)
  t.notMatch(untrusted.stderr, /fetch failed/, 'the cause, not undici\'s summary')
  const trusted = await popgate([...args, '--cacert', tlsFixtures.caFile])
  t.equal(trusted.code, 0, trusted.stderr)
  t.equal(trusted.stdout, 'secure ok\n')
  const badCa = await popgate([...args, '--cacert', join(dir, 'no-ca.pem')])
  oneLineFailure(t, badCa, 66, 'missing --cacert file', /cannot read --cacert/)
})

t.test('fetch | head -1: a reader that goes away is not an error', async (t) => {
  const big = 'line\n'.repeat(200_000)
  const server = http.createServer((_req, res) => res.end(big))
  const port = await listening(server)
  const r = await popgate(['fetch', `http://127.0.0.1:${port}/x`, '--identity', 'alice.test', '--key', join(dir, 'k', 'private.jwk.json'), '--key-url', 'https://alice.test/k'], {
    onSpawn: (child) => child.stdout!.destroy(), // the reader is gone before the first byte: every write is EPIPE
  })
  t.equal(r.stderr, '', 'no EPIPE stack trace')
  t.equal(r.code, 0, 'the status the request had (200 → 0)')
})

t.test('serve and keyhost on a busy port: one line, exit 71', async (t) => {
  const busy = net.createServer()
  const port = await listening(busy)
  await writeFile(join(dir, 'busy.yaml'), `listen: 127.0.0.1:${port}\npublicOrigin: https://gw.test\nupstream: http://127.0.0.1:3000\nacl: ${join(ROOT, 'acl.example.yaml')}\n`)
  const [serve, keyhost] = await Promise.all([
    popgate(['serve', '--config', join(dir, 'busy.yaml')]),
    popgate(['keyhost', '--identity', 'alice.test', '--listen', `127.0.0.1:${port}`]),
  ])
  oneLineFailure(t, serve, 71, 'serve', new RegExp(`cannot listen on 127\\.0\\.0\\.1:${port}: address already in use; stop the other process or change listen`))
  oneLineFailure(t, keyhost, 71, 'keyhost', /address already in use; stop the other process or pick another --listen/)
  documented('serve', 71)
  documented('keyhost', 71)
})

t.test('keyhost: an unreadable or too short token file is refused (66)', async (t) => {
  const missing = await popgate(['keyhost', '--identity', 'alice.test', '--listen', '127.0.0.1:0', '--token-file', join(dir, 'no-token')])
  oneLineFailure(t, missing, 66, 'missing token file', /cannot read --token-file/)
  await writeFile(join(dir, 'short-token'), 'abc\n')
  const short = await popgate(['keyhost', '--identity', 'alice.test', '--listen', '127.0.0.1:0', '--token-file', join(dir, 'short-token')])
  oneLineFailure(t, short, 66, 'short token', /at least 16 characters/)
})

t.test('secrets generate --out: 0600, never replaces a file without --force (73)', async (t) => {
  const file = join(dir, 'secrets.yaml')
  const first = await popgate(['secrets', 'generate', '--out', file])
  t.equal(first.code, 0, first.stderr)
  t.equal((await stat(file)).mode & 0o777, 0o600)
  const before = await readFile(file, 'utf8')
  const again = await popgate(['secrets', 'generate', '--out', file])
  oneLineFailure(t, again, 73, 'existing --out', /exists; .*add --force to replace it/)
  documented('secrets', 73)
  t.equal(await readFile(file, 'utf8'), before, 'the file in use is untouched')
  await writeFile(join(dir, 'loose.yaml'), 'x', { mode: 0o644 })
  const forced = await popgate(['secrets', 'generate', '--out', join(dir, 'loose.yaml'), '--force'])
  t.equal(forced.code, 0)
  t.equal((await stat(join(dir, 'loose.yaml'))).mode & 0o777, 0o600, '--force also tightens the mode')
  const noDir = await popgate(['secrets', 'generate', '--out', join(dir, 'no', 'such', 'dir.yaml')])
  oneLineFailure(t, noDir, 73, 'no such folder', /cannot write .*ENOENT/)
})

t.test('keyhost publish: a wrong token (1) and a private key (2), one line each', async (t) => {
  const token = join(dir, 'publish-token')
  await writeFile(token, 'the-right-token-0123456789\n')
  const kh = startPopgate(['keyhost', '--identity', 'alice.test', '--listen', '127.0.0.1:0', '--token-file', token])
  const port = Number((await kh.waitFor(/on http:\/\/127\.0\.0\.1:(\d+)/))[1])
  await writeFile(join(dir, 'wrong-token'), 'a-wrong-token-0123456789\n')
  const wrong = await popgate(['keyhost', 'publish', '--url', `http://127.0.0.1:${port}`, '--token-file', join(dir, 'wrong-token'), '--jwk', join(dir, 'k', 'public.jwk.json')])
  oneLineFailure(t, wrong, 1, 'wrong token', /401, the key host refused the token/)
  const priv = await popgate(['keyhost', 'publish', '--url', `http://127.0.0.1:${port}`, '--token-file', token, '--jwk', join(dir, 'k', 'private.jwk.json')])
  oneLineFailure(t, priv, 2, 'a private key', /holds a private key/)
})
