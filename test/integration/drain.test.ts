// Graceful drain (server.ts drain, http/in-flight.ts) in a real `popgate
// serve` process: SIGTERM turns /readyz to 503, closes the listener to new
// connections and idle keep-alive ones, lets a slow request and an open
// WebSocket finish, and exits 0; a request that outlives
// shutdown.drainTimeout is cut and the process still exits 0. Every wait is
// on an event (a log line, a request reaching the upstream, a socket
// closing); the only timer is the drain timeout under test.

import t from 'tap'
import http from 'node:http'
import net from 'node:net'
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdir, mkdtemp, writeFile, rm } from 'node:fs/promises'
import { once } from 'node:events'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const ROOT = fileURLToPath(new URL('../../../', import.meta.url)) // dist/test/integration → repository root
const MAIN = join(ROOT, 'dist/src/cli/main.js')
const ENV: NodeJS.ProcessEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('POPGATE_') && !k.startsWith('TAP') && k !== 'NODE_OPTIONS'))
t.setTimeout(120_000)

const dir = await mkdtemp(join(tmpdir(), 'popgate-drain-'))
t.teardown(() => rm(dir, { recursive: true, force: true }))

/** An upstream whose /public/slow requests wait for release(); /public/ws upgrades echo. */
async function startUpstream() {
  const held: http.ServerResponse[] = []
  const arrived: Array<() => void> = []
  const server = http.createServer((req, res) => {
    if (req.url?.startsWith('/public/slow')) { held.push(res); arrived.shift()?.(); return }
    res.end('fast')
  })
  server.on('upgrade', (_req, socket) => {
    socket.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n')
    socket.pipe(socket)
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  return {
    url: `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`,
    /** Resolves when the next slow request reaches the upstream. */
    nextSlow: () => new Promise<void>((r) => arrived.push(r)),
    release: () => { for (const res of held.splice(0)) res.end('slow done') },
    close: () => { server.closeAllConnections(); server.close() },
  }
}

interface Serve { child: ChildProcess; out(): string; waitFor(re: RegExp): Promise<RegExpMatchArray>; exited: Promise<number | null> }

async function serve(upstream: string, drainTimeout: string, name: string): Promise<Serve & { port: number; admin: number }> {
  const d = join(dir, name)
  await mkdir(d)
  await writeFile(join(d, 'acl.yaml'), 'version: 1\nrules:\n  - path: /public/**\n    public: true\n')
  await writeFile(join(d, 'gateway.yaml'), [
    'listen: 127.0.0.1:0', 'publicOrigin: https://gw.test', `upstream: ${upstream}`, 'acl: ./acl.yaml',
    'admin:', '  listen: 127.0.0.1:0', 'shutdown:', `  drainTimeout: ${drainTimeout}`, '',
  ].join('\n'))
  const child = spawn(process.execPath, [MAIN, 'serve', '--config', join(d, 'gateway.yaml')], { cwd: d, env: ENV, stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  const waiters: Array<() => void> = []
  child.stdout!.on('data', (c) => { stdout += c; for (const w of waiters.splice(0)) w() })
  child.stderr!.resume()
  const exited = new Promise<number | null>((r) => child.on('close', (code) => r(code)))
  t.teardown(() => { if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL') })
  const waitFor = async (re: RegExp): Promise<RegExpMatchArray> => {
    for (;;) {
      const m = re.exec(stdout)
      if (m) return m
      if (child.exitCode !== null) throw new Error(`serve exited (${child.exitCode}) before printing ${re}\n${stdout}`)
      await Promise.race([new Promise<void>((r) => waiters.push(r)), exited])
    }
  }
  const m = await waitFor(/"http":"127\.0\.0\.1:(\d+)".*"admin":"127\.0\.0\.1:(\d+)"/)
  return { child, out: () => stdout, waitFor, exited, port: Number(m[1]), admin: Number(m[2]) }
}

/** GET with its own connection; resolves with status, Connection header and body, or rejects when the connection is cut. */
function get(port: number, path: string, agent: http.Agent | false = false): Promise<{ status: number; connection: string | undefined; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path, agent }, (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (c) => { body += c })
      res.on('end', () => resolve({ status: res.statusCode!, connection: res.headers.connection, body }))
      res.on('error', reject)
    })
    req.on('error', reject)
  })
}

function openWebSocket(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path: '/public/ws', headers: { Connection: 'Upgrade', Upgrade: 'websocket', 'Sec-WebSocket-Version': '13', 'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==' } })
    req.on('upgrade', (_res, socket) => resolve(socket as net.Socket))
    req.on('error', reject)
    req.end()
  })
}

const echo = async (ws: net.Socket, text: string): Promise<string> => { ws.write(text); const [d] = await once(ws, 'data'); return String(d) }

t.test('SIGTERM: readyz 503, new connections refused, idle keep-alive closed; the slow request and the WebSocket finish; exit 0', async (t) => {
  const up = await startUpstream()
  t.teardown(up.close)
  const gw = await serve(up.url, '20s', 'graceful')

  // An idle keep-alive connection, a WebSocket, and a slow request in flight.
  const idle = net.connect(gw.port, '127.0.0.1')
  idle.write('GET /public/fast HTTP/1.1\r\nHost: gw.test\r\n\r\n')
  await once(idle, 'data')
  const idleClosed = once(idle, 'close')
  const ws = await openWebSocket(gw.port)
  t.equal(await echo(ws, 'before'), 'before', 'the WebSocket works before the signal')
  const arrived = up.nextSlow()
  const slow = get(gw.port, '/public/slow')
  await arrived

  gw.child.kill('SIGTERM')
  await gw.waitFor(/shutting down: draining/)
  const ready = await get(gw.admin, '/readyz')
  t.equal(ready.status, 503, '/readyz is 503 during the drain')
  t.equal(ready.body, 'draining\n')
  const refused = await new Promise<string>((resolve) => {
    const s = net.connect(gw.port, '127.0.0.1')
    s.on('connect', () => { s.destroy(); resolve('connected') })
    s.on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message))
  })
  t.equal(refused, 'ECONNREFUSED', 'a new connection is refused')
  await idleClosed
  t.pass('the idle keep-alive connection was closed')
  t.equal(await echo(ws, 'during'), 'during', 'the open WebSocket still carries messages')

  up.release()
  const done = await slow
  t.same(done, { status: 200, connection: 'close', body: 'slow done' }, 'the slow request completes, told to close its connection')
  ws.end()
  t.equal(await gw.exited, 0, 'exit code 0')
  t.notMatch(gw.out(), /drain timed out/, 'nothing was cut')
  t.match(gw.out(), /"msg":"stopped"/)
})

t.test('a request that outlives shutdown.drainTimeout is cut, and the process still exits 0', async (t) => {
  const up = await startUpstream()
  t.teardown(up.close)
  const gw = await serve(up.url, '300ms', 'cut')
  const arrived = up.nextSlow()
  const slow = get(gw.port, '/public/slow').then(() => 'answered', (err: NodeJS.ErrnoException) => err.code ?? err.message)
  await arrived
  gw.child.kill('SIGTERM')
  t.equal(await gw.exited, 0, 'exit code 0')
  t.equal(await slow, 'ECONNRESET', 'the client sees its connection cut')
  t.match(gw.out(), /"cut":1,"msg":"drain timed out; cut the requests and WebSockets still open"/)
})

t.test('a second signal during the drain exits at once with 1', async (t) => {
  const up = await startUpstream()
  t.teardown(up.close)
  const gw = await serve(up.url, '60s', 'twice')
  const arrived = up.nextSlow()
  const slow = get(gw.port, '/public/slow').catch(() => 'cut')
  await arrived
  gw.child.kill('SIGTERM')
  await gw.waitFor(/shutting down: draining/)
  gw.child.kill('SIGTERM')
  t.equal(await gw.exited, 1)
  t.equal(await slow, 'cut')
})
