// The `popgate` command as a user runs it: real child processes of
// dist/src/cli/main.js (run after `npm run build`), real sockets on
// 127.0.0.1:0, files in a temp dir. Every child is killed in teardown.

import t from 'tap'
import http from 'node:http'
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdir, mkdtemp, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { AddressInfo } from 'node:net'
import { calculateJwkThumbprint, type JWK } from 'jose'
import { mapLimited } from './cli-run.js'
import { cliCommand } from '../../src/cli/demo.js'

const ROOT = fileURLToPath(new URL('../../../', import.meta.url)) // dist/test/integration → repository root
const MAIN = join(ROOT, 'dist/src/cli/main.js')
const CONFIG_EXIT = 78
// About 40 node processes start here; on a loaded two-core machine each takes a second or more.
t.setTimeout(240_000)

// A clean environment: no POPGATE_* overrides from the developer's shell, no
// test-runner loaders in the children.
const ENV: NodeJS.ProcessEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('POPGATE_') && !k.startsWith('TAP') && k !== 'NODE_OPTIONS'))

const dir = await mkdtemp(join(tmpdir(), 'popgate-cli-'))
const children = new Set<ChildProcess>()
t.teardown(async () => {
  await Promise.all([...children].map((c) => stopChild(c)))
  await rm(dir, { recursive: true, force: true })
})

interface Run { code: number | null; stdout: string; stderr: string }

/** Runs `popgate ...args` to completion. */
function popgate(args: readonly string[], opts: { cwd?: string; timeoutMs?: number } = {}): Promise<Run> {
  return runNode([MAIN, ...args], opts)
}

function runNode(args: readonly string[], opts: { cwd?: string; timeoutMs?: number; env?: NodeJS.ProcessEnv } = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd: opts.cwd ?? dir, env: { ...ENV, ...opts.env }, stdio: ['ignore', 'pipe', 'pipe'] })
    children.add(child)
    let stdout = '', stderr = ''
    child.stdout!.on('data', (c) => { stdout += c })
    child.stderr!.on('data', (c) => { stderr += c })
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`popgate ${args.slice(1).join(' ')}: no exit within ${opts.timeoutMs ?? 60_000} ms\n${stdout}\n${stderr}`)) }, opts.timeoutMs ?? 60_000)
    child.on('error', reject)
    child.on('close', (code) => { clearTimeout(timer); children.delete(child); resolve({ code, stdout, stderr }) })
  })
}

interface Server { child: ChildProcess; out: () => string; err: () => string; waitFor(re: RegExp, timeoutMs?: number): Promise<RegExpMatchArray> }

/** Starts a long-running `popgate ...args` (serve, keyhost, demo). */
function startPopgate(args: readonly string[], cwd = dir): Server {
  const child = spawn(process.execPath, [MAIN, ...args], { cwd, env: ENV, stdio: ['ignore', 'pipe', 'pipe'] })
  children.add(child)
  let stdout = '', stderr = ''
  child.stdout!.on('data', (c) => { stdout += c })
  child.stderr!.on('data', (c) => { stderr += c })
  child.on('close', () => children.delete(child))
  return {
    child, out: () => stdout, err: () => stderr,
    waitFor: (re, timeoutMs = 30_000) => new Promise((resolve, reject) => {
      const check = () => {
        const m = re.exec(stdout)
        if (m) { done(); resolve(m) }
      }
      const onClose = (code: number | null) => { done(); reject(new Error(`popgate ${args[0]} exited (${code}) before printing ${re}\n${stdout}\n${stderr}`)) }
      const timer = setTimeout(() => { done(); reject(new Error(`popgate ${args[0]}: ${re} not printed within ${timeoutMs} ms\n${stdout}\n${stderr}`)) }, timeoutMs)
      const done = () => { clearTimeout(timer); child.stdout!.off('data', check); child.off('close', onClose) }
      child.stdout!.on('data', check)
      child.on('close', onClose)
      check()
    }),
  }
}

function stopChild(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode)
  return new Promise((resolve) => {
    const force = setTimeout(() => child.kill('SIGKILL'), 5000)
    child.once('close', (code) => { clearTimeout(force); resolve(code) })
    child.kill(signal)
  })
}

const ACL = `version: 1
rules:
  - path: /healthz
    public: true
  - id: hello
    path: /hello/**
    read: [alice.test]
    write: [alice.test]
  - id: admin
    path: /admin/**
    read: [admin.test]
`

// ---------------------------------------------------------------- check

t.test('check --config: a good config → 0; a broken one → 78 with file:line:col: lines', async (t) => {
  const good = join(dir, 'check-good')
  await mkdir(good)
  await writeFile(join(good, 'acl.yaml'), ACL)
  await writeFile(join(good, 'gateway.yaml'), 'listen: 127.0.0.1:0\npublicOrigin: https://gw.test\nupstream: http://127.0.0.1:3000\nacl: ./acl.yaml\n')
  const ok = await popgate(['check', '--config', join(good, 'gateway.yaml')])
  t.equal(ok.code, 0, ok.stderr)
  t.match(ok.stdout, /gateway\.yaml: ok/)

  const broken = join(good, 'broken.yaml')
  await writeFile(broken, [
    'listen: 127.0.0.1:99999',
    'publicOrigin: https://gw.test/app',
    'upsteam: http://127.0.0.1:3000',
    'acl: ./acl.yaml',
    'keys:',
    '  timeout: 3',
    '',
  ].join('\n'))
  const bad = await popgate(['check', '--config', broken])
  t.equal(bad.code, CONFIG_EXIT)
  const lines = bad.stderr.trim().split('\n')
  t.ok(lines.length >= 4, 'every problem at once')
  for (const l of lines) t.match(l, new RegExp(`^${broken.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:\\d+:\\d+: `), l)
  t.match(bad.stderr, /broken\.yaml:3:1: upsteam: unknown key/)
  t.match(bad.stderr, /broken\.yaml:6:\d+: keys\.timeout:/)

  await writeFile(join(good, 'bad-acl.yaml'), 'version: 1\nrules:\n  - path: /x\n    read: [ALICE.test]\n')
  await writeFile(join(good, 'gw-bad-acl.yaml'), 'publicOrigin: https://gw.test\nupstream: http://127.0.0.1:3000\nacl: ./bad-acl.yaml\n')
  const badAcl = await popgate(['check', '--config', join(good, 'gw-bad-acl.yaml')])
  t.equal(badAcl.code, CONFIG_EXIT, 'check validates the ACL too')
  t.match(badAcl.stderr, /bad-acl\.yaml:4:\d+: /)

  const syntax = join(good, 'syntax.yaml')
  await writeFile(syntax, 'publicOrigin: https://gw.test\nkeys:\n  allowPorts: [443, 8443\n')
  const s = await popgate(['check', '--config', syntax])
  t.equal(s.code, CONFIG_EXIT)
  t.match(s.stderr, /syntax\.yaml:\d+:\d+: /)
})

// ---------------------------------------------------------------- acl

t.test('acl explain: the deciding rule; allowed → 0, denied → 1', async (t) => {
  const allowed = await popgate(['acl', 'explain', '--acl', 'acl.example.yaml', '--as', 'alice.example', 'GET', '/reports/q3'], { cwd: ROOT })
  t.equal(allowed.code, 0, allowed.stderr)
  t.match(allowed.stdout, /ALLOW by rules\[3\] \(reports\) \/reports\/\*\* at .*acl\.example\.yaml:\d+:\d+/)
  t.match(allowed.stdout, /passed over rules\[0\] \(health\)/)

  const denied = await popgate(['acl', 'explain', '--acl', 'acl.example.yaml', '--as', 'bob.example', 'GET', '/reports/q3'], { cwd: ROOT })
  t.equal(denied.code, 1)
  t.match(denied.stdout, /DENY .*rules\[3\] \(reports\)/)

  const partner = await popgate(['acl', 'explain', '--acl', 'acl.example.yaml', '--as', 'eu.partner.example', 'POST', '/reports/q3'], { cwd: ROOT })
  t.equal(partner.code, 1, 'partners may read, not write')

  const dotdot = await popgate(['acl', 'explain', '--acl', 'acl.example.yaml', '--as', 'alice.example', 'GET', '/reports/x/../../foo'], { cwd: ROOT })
  t.equal(dotdot.code, 0, 'the path is normalized as the gateway would before matching')
  t.match(dotdot.stdout, /ALLOW by rules\[1\] \(rule-2\) \/foo /)
  const climbs = await popgate(['acl', 'explain', '--acl', 'acl.example.yaml', '--as', 'alice.example', 'GET', '/../reports/q3'], { cwd: ROOT })
  t.equal(climbs.code, 1)
  t.match(climbs.stdout, /rejected before the ACL \(400 path_rejected\)/)

  const noMatch = await popgate(['acl', 'explain', '--acl', 'acl.example.yaml', '--as', 'alice.example', 'GET', '/nothing/here'], { cwd: ROOT })
  t.equal(noMatch.code, 1, 'no rule matches: denied')

  const badIdentity = await popgate(['acl', 'explain', '--acl', 'acl.example.yaml', '--as', 'ALICE.example', 'GET', '/reports/q3'], { cwd: ROOT })
  t.equal(badIdentity.code, 2, 'an invalid --as is a usage error, never cleaned up and allowed')
})

t.test('acl lint: shadowed rules and duplicate ids are reported, exit 1', async (t) => {
  const shadowed = join(dir, 'shadowed.yaml')
  await writeFile(shadowed, 'version: 1\nrules:\n  - id: all\n    path: /reports/**\n    read: [a.example]\n  - id: q3\n    path: /reports/q3\n    read: [b.example]\n')
  const r = await popgate(['acl', 'lint', '--acl', shadowed])
  t.equal(r.code, 1)
  t.match(r.stdout, /shadowed\.yaml:6:5: rules\[1\] \(q3\): never decides: rules\[0\] \(all\)/)

  const both = join(dir, 'lint-both.yaml')
  await writeFile(both, [
    'version: 1',
    'rules:',
    '  - id: all',
    '    path: /reports/**',
    '    read: [a.example]',
    '  - id: q3',
    '    path: /reports/q3',
    '    read: [b.example]',
    '  - id: all',
    '    path: /other',
    '    read: [b.example]',
    '',
  ].join('\n'))
  const b = await popgate(['acl', 'lint', '--acl', both])
  t.not(b.code, 0)
  t.match(b.stdout + b.stderr, /lint-both\.yaml:9:\d+: .*duplicate id "all"/, 'the duplicate id, with its position')
  // The parser owns duplicate ids: the gateway refuses such a file too, so lint
  // reports it as a load problem (exit 78) rather than a finding.
  t.equal(b.code, 78, 'a duplicate id is a load problem, exit 78')

  const clean = await popgate(['acl', 'lint', '--acl', 'acl.example.yaml'], { cwd: ROOT })
  t.equal(clean.code, 0, 'the shipped example is clean: notes only')
  t.same(clean.stdout.trim().split('\n').filter((l) => !/\(reports-admin\): channelBinding: required is met only on the gateway's own TLS 1\.3 listener/.test(l)), [], 'its one note: reports-admin needs a TLS listener')
})

// ---------------------------------------------------------------- keygen

const keyDir = join(dir, 'alice-key')

t.test('keygen writes private.jwk.json (0600) and public.jwk.json', async (t) => {
  const r = await popgate(['keygen', '--identity', 'alice.test', '--out', keyDir])
  t.equal(r.code, 0, r.stderr)
  const priv = JSON.parse(await readFile(join(keyDir, 'private.jwk.json'), 'utf8')) as JWK
  const pub = JSON.parse(await readFile(join(keyDir, 'public.jwk.json'), 'utf8')) as JWK
  t.equal((await stat(join(keyDir, 'private.jwk.json'))).mode & 0o777, 0o600, 'private key readable by its owner only')
  t.ok(priv.d, 'the private file holds d')
  for (const m of ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k']) t.notOk(m in pub, `no ${m} in the public file`)
  t.match(pub, { kty: 'EC', crv: 'P-256', alg: 'ES256', use: 'sig' })
  const kid = await calculateJwkThumbprint(pub, 'sha256')
  t.match(r.stdout, new RegExp(`kid:\\s+${kid}`))
  t.match(r.stdout, `https://alice.test/.well-known/domainpop/keys/${kid}`)

  const ed = await popgate(['keygen', '--identity', 'alice.test', '--out', join(dir, 'ed-key'), '--alg', 'Ed25519'])
  t.equal(ed.code, 0)
  t.match(JSON.parse(await readFile(join(dir, 'ed-key', 'public.jwk.json'), 'utf8')), { kty: 'OKP', crv: 'Ed25519' })
})

// ---------------------------------------------------------------- keyhost + serve + fetch

/** The upstream: echoes the identity headers it received. */
async function startEchoUpstream(): Promise<{ port: number; close(): Promise<void> }> {
  const server = http.createServer((req, res) => {
    const pop = Object.fromEntries(Object.entries(req.headers).filter(([k]) => k.startsWith('x-pop-')))
    res.writeHead(200, { 'content-type': 'application/json' })
    res.end(JSON.stringify({ upstream: 'cli-test', method: req.method, url: req.url, headers: pop }))
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  return { port: (server.address() as AddressInfo).port, close: () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()) }) }
}

t.test('keyhost + serve + fetch: a key published over the CLI signs a request through the gateway', async (t) => {
  const tokenFile = join(dir, 'publish-token')
  await writeFile(tokenFile, 'cli-test-token-0123456789\n')
  const keyhost = startPopgate(['keyhost', '--identity', 'alice.test', '--listen', '127.0.0.1:0', '--store', 'memory', '--token-file', tokenFile])
  t.teardown(() => stopChild(keyhost.child))
  const khPort = Number((await keyhost.waitFor(/on http:\/\/127\.0\.0\.1:(\d+)/))[1])

  const pub = await readFile(join(keyDir, 'public.jwk.json'), 'utf8')
  const publish = (authorization?: string) => fetch(`http://127.0.0.1:${khPort}/.well-known/domainpop/keys`, { method: 'POST', headers: { 'content-type': 'application/json', ...(authorization ? { authorization } : {}) }, body: pub })
  t.equal((await publish()).status, 401, 'no token: refused')
  t.equal((await publish('Bearer wrong')).status, 401)
  const posted = await publish('Bearer cli-test-token-0123456789')
  t.equal(posted.status, 201)
  const { kid } = await posted.json() as { kid: string }
  const keyUrl = `http://alice.test:${khPort}/.well-known/domainpop/keys/${kid}`

  const upstream = await startEchoUpstream()
  t.teardown(() => upstream.close())
  const gwDir = join(dir, 'gateway')
  await mkdir(gwDir)
  await writeFile(join(gwDir, 'acl.yaml'), ACL)
  await writeFile(join(gwDir, 'gateway.yaml'), [
    'listen: 127.0.0.1:0',
    'publicOrigin: https://gw.test',
    `upstream: http://127.0.0.1:${upstream.port}`,
    'acl: ./acl.yaml',
    'keys:',
    '  allowHttp: [alice.test]',
    '  allowPrivateAddresses: true',
    '  allowPorts: any',
    '  resolve: { alice.test: 127.0.0.1 }',
    '',
  ].join('\n'))
  const serve = startPopgate(['serve', '--config', join(gwDir, 'gateway.yaml')])
  t.teardown(() => stopChild(serve.child))
  const gwPort = Number((await serve.waitFor(/"http":"127\.0\.0\.1:(\d+)"/))[1])
  const gw = `http://127.0.0.1:${gwPort}`
  t.equal(serve.out().split('\n').filter((l) => l.includes('throw-away secrets')).length, 1, 'serve warns once about throw-away secrets')

  const args = (path: string, ...extra: string[]) => ['fetch', `${gw}${path}`, '--identity', 'alice.test', '--key', join(keyDir, 'private.jwk.json'), '--key-url', keyUrl, '--audience', 'https://gw.test', ...extra]
  const ok = await popgate(args('/hello/world'))
  t.equal(ok.code, 0, ok.stderr)
  const body = JSON.parse(ok.stdout) as { upstream: string; url: string; headers: Record<string, string> }
  t.equal(body.upstream, 'cli-test', 'the upstream\'s body, verbatim')
  t.equal(body.url, '/hello/world')
  t.equal(body.headers['x-pop-identity'], 'alice.test')
  t.equal(body.headers['x-pop-key-thumbprint'], kid)

  const post = await popgate(args('/hello/data', '-d', 'payload', '-i'))
  t.equal(post.code, 0)
  t.match(post.stdout, /^HTTP 200 /)
  t.match(post.stdout, /"method":"POST"/)

  const denied = await popgate(args('/admin/users', '-i'))
  t.equal(denied.code, 1)
  t.match(denied.stdout, /^HTTP 403 /)
  t.match(denied.stdout, /"code":"forbidden"/)
  t.match(denied.stdout, /"code":"forbidden"[^\n]*\}\n$/, 'the body ends with a newline')
  t.match(denied.stderr, /^popgate fetch: HTTP 403 forbidden: the ACL .*\n$/, 'the problem, one line on stderr')

  const wrongAudience = await popgate(['fetch', `${gw}/hello/world`, '--identity', 'alice.test', '--key', join(keyDir, 'private.jwk.json'), '--key-url', keyUrl])
  t.equal(wrongAudience.code, 1, 'without --audience the proof names 127.0.0.1, not publicOrigin')
  t.match(wrongAudience.stdout, /proof_aud_mismatch|proof_htu_mismatch/)

  const otherKey = await popgate(['keygen', '--identity', 'alice.test', '--out', join(dir, 'unpublished')])
  t.equal(otherKey.code, 0)
  const unpublished = await popgate(['fetch', `${gw}/hello/world`, '--identity', 'alice.test', '--key', join(dir, 'unpublished', 'private.jwk.json'), '--key-url', keyUrl, '--audience', 'https://gw.test'])
  t.equal(unpublished.code, 1, 'a key that is not published at the key URL is refused')
  t.match(unpublished.stdout, /key_not_found|key_fetch_status|proof_signature_invalid/)

  // The production log destination on a real pipe: batched lines still arrive on a quiet gateway.
  await serve.waitFor(/"msg":"access","method":"GET","path":"\/admin\/users","status":403,"decision":"deny"/, 5_000)
  const access = serve.out().split('\n').filter((l) => l.includes('"msg":"access"')).map((l) => JSON.parse(l) as { path: string; status: number })
  // Each fetch first takes a 401 challenge for its nonce, then sends the proof.
  t.same(access.slice(0, 6).map((l) => [l.path, l.status]), [
    ['/hello/world', 401], ['/hello/world', 200], ['/hello/data', 401], ['/hello/data', 200], ['/admin/users', 401], ['/admin/users', 403],
  ], 'one access line per request, in order')
})

t.test('keyhost without --token-file: publishing is disabled', async (t) => {
  const kh = startPopgate(['keyhost', '--identity', 'alice.test', '--listen', '127.0.0.1:0', '--store', 'memory'])
  t.teardown(() => stopChild(kh.child))
  const port = Number((await kh.waitFor(/on http:\/\/127\.0\.0\.1:(\d+)/))[1])
  await kh.waitFor(/publishing is disabled/)
  const pub = await readFile(join(keyDir, 'public.jwk.json'), 'utf8')
  const res = await fetch(`http://127.0.0.1:${port}/.well-known/domainpop/keys`, { method: 'POST', headers: { authorization: 'Bearer ', 'content-type': 'application/json' }, body: pub })
  t.equal(res.status, 401)
})

// ---------------------------------------------------------------- usage

t.test('usage errors exit 2 with one line naming the fix and --help', async (t) => {
  const cases: [string, string[]][] = [
    ['no command', []],
    ['unknown command', ['frobnicate']],
    ['unknown option', ['check', '--config', 'x.yaml', '--bogus']],
    ['check without --config, POPGATE_CONFIG or config/gateway.yaml', ['check']],
    ['acl without a subcommand', ['acl', '--acl', join(ROOT, 'acl.example.yaml')]],
    ['acl without --acl', ['acl', 'lint']],
    ['acl explain without METHOD PATH', ['acl', 'explain', '--acl', join(ROOT, 'acl.example.yaml'), '--as', 'alice.example']],
    ['keygen without --identity', ['keygen', '--out', join(dir, 'k')]],
    ['keygen with an invalid identity', ['keygen', '--identity', 'Alice.test', '--out', join(dir, 'k')]],
    ['keygen with an IP identity', ['keygen', '--identity', '127.0.0.1', '--out', join(dir, 'k')]],
    ['keygen without --out', ['keygen', '--identity', 'alice.test']],
    ['keygen with an unknown alg', ['keygen', '--identity', 'alice.test', '--out', join(dir, 'k'), '--alg', 'HS256']],
    ['keyhost without --identity', ['keyhost', '--listen', '127.0.0.1:0']],
    ['keyhost with a bad --listen', ['keyhost', '--identity', 'alice.test', '--listen', 'nowhere']],
    ['fetch without a URL', ['fetch', '--identity', 'alice.test', '--key', 'k', '--key-url', 'https://alice.test/x']],
    ['fetch without --key', ['fetch', 'http://127.0.0.1:1/', '--identity', 'alice.test', '--key-url', 'https://alice.test/x']],
    ['fetch with a bad -H', ['fetch', 'http://127.0.0.1:1/', '--identity', 'alice.test', '--key', 'k', '--key-url', 'https://alice.test/x', '-H', 'novalue']],
  ]
  const runs = await mapLimited(cases, 4, ([, args]) => popgate(args))
  for (const [i, [why]] of cases.entries()) {
    const r = runs[i]!
    t.equal(r.code, 2, `${why}: ${r.stderr.split('\n')[0]}`)
    if (i === 0) { t.match(r.stderr, /popgate serve \[--config FILE\]/, 'no command: the usage'); continue }
    t.equal(r.stderr.trim().split('\n').length, 1, `${why}: one line`)
    t.match(r.stderr, /\(see: popgate [a-z ]*--help\)\n$/, `${why}: points to --help`)
  }
  const help = await popgate(['--help'])
  t.equal(help.code, 0, '--help is not an error')
  t.equal((await popgate(['check', '--config', join(dir, 'missing.yaml')])).code, CONFIG_EXIT, 'a missing config file is a config problem')
})

t.test('check runs the validation serve runs: what serve refuses, check refuses; POPGATE_CONFIG is read', async (t) => {
  const d = join(dir, 'same-validation')
  await mkdir(d)
  await writeFile(join(d, 'acl.yaml'), ACL)
  const base = 'listen: 127.0.0.1:0\npublicOrigin: https://gw.test\nupstream: http://127.0.0.1:3000\nacl: ./acl.yaml\n'
  // Refused while the state is built (build-state.ts), not by the config reader: assertions on, no assertion key.
  await writeFile(join(d, 'secrets.yaml'), `nonce:\n  - { id: n1, secret: ${Buffer.alloc(32, 7).toString('base64url')} }\n`)
  await writeFile(join(d, 'assertion.yaml'), base + 'secrets:\n  file: ./secrets.yaml\nidentityHeaders:\n  assertion: true\n')
  await writeFile(join(d, 'tls.yaml'), base + 'tls:\n  listen: 127.0.0.1:0\n  cert: ./missing-cert.pem\n  key: ./missing-key.pem\n')
  for (const name of ['assertion.yaml', 'tls.yaml']) {
    const [check, serve] = await Promise.all([popgate(['check', '--config', join(d, name)]), popgate(['serve', '--config', join(d, name)])])
    t.equal(check.code, CONFIG_EXIT, `${name}: check refuses`)
    t.equal(serve.code, CONFIG_EXIT, `${name}: serve refuses`)
    t.equal(check.stderr, serve.stderr, `${name}: with the same words`)
  }
  const env = await runNode([MAIN, 'check'], { env: { POPGATE_CONFIG: join(d, 'assertion.yaml') } })
  t.equal(env.code, CONFIG_EXIT, 'check reads POPGATE_CONFIG')
  t.match(env.stderr, /secrets\.yaml:\d+:\d+: assertion: identityHeaders\.assertion is true but the secrets file lists no assertion keys/)

  await writeFile(join(d, 'plain.yaml'), base)
  const plain = await popgate(['check', '--config', join(d, 'plain.yaml')])
  t.equal(plain.code, 0)
  t.match(plain.stdout, /note: no secrets configured .*throw-away secrets.*popgate secrets generate --out FILE/)
})

// ---------------------------------------------------------------- demo

t.test('demo: every party on loopback; the printed commands work', async (t) => {
  const demo = startPopgate(['demo', '--port', '0'], ROOT)
  t.teardown(() => stopChild(demo.child))
  await demo.waitFor(/Try:[\s\S]*acl explain[^\n]*\n/, 60_000)
  const files = /Files: (\S+)/.exec(demo.out())![1]!
  t.equal((await stat(files)).mode & 0o777, 0o700, 'the demo folder (a private key inside) is private to its owner')
  // popgate is not on the test's PATH: the commands name this script by its absolute path.
  const commands = demo.out().split('\n').map((l) => l.trim()).filter((l) => l.startsWith(`node ${MAIN} `))
  const fetches = commands.filter((c) => c.includes(' fetch '))
  t.equal(fetches.length, 2, 'an allowed and a denied fetch')
  const argv = (cmd: string) => cmd.split(/\s+/).slice(1) // drop "node"
  const elsewhere = tmpdir() // outside the checkout: nothing relative to it

  const allowed = await runNode(argv(fetches.find((c) => c.includes('/hello/'))!), { cwd: elsewhere })
  t.equal(allowed.code, 0, allowed.stderr)
  t.match(allowed.stdout, /"x-pop-identity": "alice\.test"/)
  t.match(allowed.stdout, /"url": "\/hello\/world"/)

  const denied = await runNode(argv(fetches.find((c) => c.includes('/admin/'))!), { cwd: elsewhere })
  t.equal(denied.code, 1)
  t.match(denied.stdout, /HTTP 403/)

  const explain = commands.find((c) => c.includes(' acl explain '))
  t.ok(explain)
  if (explain) {
    const e = await runNode(argv(explain), { cwd: elsewhere })
    t.equal(e.code, 1, 'the explain command says why /admin is denied')
    t.match(e.stdout, /DENY .*\(admin\)/)
  }

  const origin = /gateway\s+(http:\/\/127\.0\.0\.1:\d+)/.exec(demo.out())?.[1]
  t.ok(origin)
  t.equal((await fetch(`${origin}/healthz`)).status, 200, 'public route')
  const challenge = await fetch(`${origin}/hello/world`)
  t.equal(challenge.status, 401)
  t.match(challenge.headers.get('www-authenticate'), /^DomainPoP realm="http:\/\/127\.0\.0\.1:\d+", nonce="[A-Za-z0-9_-]+"/)

  t.equal(await stopChild(demo.child, 'SIGINT'), 0, 'Ctrl-C: a clean exit')
  await t.rejects(stat(files), { code: 'ENOENT' }, 'Ctrl-C removes the demo folder')
})

t.test('demo: a busy port fails clearly instead of moving; popgate on PATH is named popgate', async (t) => {
  const busy = http.createServer()
  await new Promise<void>((r) => busy.listen(0, '127.0.0.1', r))
  t.teardown(() => new Promise<void>((r) => busy.close(() => r())))
  const port = (busy.address() as AddressInfo).port
  const r = await popgate(['demo', '--port', String(port)])
  t.equal(r.code, 71, 'cannot listen')
  t.match(r.stderr, new RegExp(`^popgate demo: cannot listen on 127\\.0\\.0\\.1:${port}: address already in use; pick another with --port N`))

  const bin = join(dir, 'demo-bin')
  await mkdir(bin, { recursive: true })
  await symlink(MAIN, join(bin, 'popgate'))
  t.equal(cliCommand(`${bin}:/usr/bin`, MAIN), 'popgate', 'the popgate on PATH is this one')
  const other = join(dir, 'other-bin')
  await mkdir(other, { recursive: true })
  await writeFile(join(other, 'popgate'), '#!/bin/sh\n')
  t.equal(cliCommand(`${other}:${bin}`, MAIN), `node ${MAIN}`, 'another popgate first on PATH: ours by its path')
  t.equal(cliCommand('/usr/bin', MAIN), `node ${MAIN}`)
})

t.test('demo: SIGTERM removes its folder too', async (t) => {
  const demo = startPopgate(['demo', '--port', '0'], ROOT)
  t.teardown(() => stopChild(demo.child))
  await demo.waitFor(/Try:/, 60_000)
  const files = /Files: (\S+)/.exec(demo.out())![1]!
  t.ok((await stat(join(files, 'alice.test', 'private.jwk.json'))).isFile())
  t.equal(await stopChild(demo.child), 0)
  await t.rejects(stat(files), { code: 'ENOENT' }, 'no popgate-demo-* folder is left behind')
})
