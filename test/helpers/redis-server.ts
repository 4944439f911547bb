// A test-owned redis-server on a free loopback port: no persistence, killed
// in teardown, restartable on the same port (outage tests). When the binary
// is missing, `redisServerBinary()` says so and the tests skip loudly
// (.ci/run installs the package).

import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import net from 'node:net'
import { freePort } from './harness.js'

export function redisServerBinary(): string | undefined {
  const r = spawnSync('redis-server', ['--version'], { encoding: 'utf8' })
  return r.status === 0 ? 'redis-server' : undefined
}

export const NO_REDIS = 'SKIPPED: no redis-server binary on PATH (apt-get install -y redis-server; .ci/run does this)'

export interface RedisServer {
  readonly port: number
  readonly url: string
  /** Kills the server (SIGKILL: an outage, not a shutdown) and waits for it to exit. */
  stop(): Promise<void>
  /** Starts it again on the same port, empty, and waits until it answers. */
  start(): Promise<void>
  /** SIGSTOP/SIGCONT: the socket stays open but nothing is answered. */
  pause(): void
  resume(): void
  close(): Promise<void>
}

/** Sends PING on a fresh socket; true on +PONG. */
export function ping(port: number, timeoutMs = 500): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1')
    const done = (ok: boolean) => { clearTimeout(timer); s.destroy(); resolve(ok) }
    const timer = setTimeout(() => done(false), timeoutMs)
    s.on('connect', () => s.write('PING\r\n'))
    s.on('data', (d) => done(d.toString().startsWith('+PONG')))
    s.on('error', () => done(false))
  })
}

export async function startRedisServer(): Promise<RedisServer> {
  const port = await freePort()
  let child: ChildProcess | undefined
  const start = async () => {
    const c = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' })
    child = c
    const exited = new Promise<never>((_, reject) => c.once('exit', (code) => reject(new Error(`redis-server on ${port} exited (${code})`))))
    exited.catch(() => {})
    const until = Date.now() + 10_000
    while (!(await Promise.race([ping(port), exited]))) {
      if (Date.now() > until) throw new Error(`redis-server on ${port} did not answer PING within 10 s`)
      await new Promise((r) => setTimeout(r, 20))
    }
  }
  const stop = async () => {
    const c = child
    child = undefined
    if (!c || c.exitCode !== null || c.signalCode !== null) return
    const gone = new Promise((r) => c.once('exit', r))
    c.kill('SIGKILL')
    await gone
  }
  await start()
  return {
    port, url: `redis://127.0.0.1:${port}`,
    stop, start,
    pause: () => { child?.kill('SIGSTOP') },
    resume: () => { child?.kill('SIGCONT') },
    close: async () => { child?.kill('SIGCONT'); await stop() },
  }
}
