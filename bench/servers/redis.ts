// A bench-owned redis-server for the Redis replay-store case: a free loopback
// port, no persistence (like the tests' own), stopped in teardown. Only when
// a redis-server binary is present.

import { spawn } from 'node:child_process'
import { connect } from 'node:net'
import { freePort } from '../lib/children.js'
import { which } from '../lib/which.js'

export const redisBinary = (): string | undefined => which('redis-server')

const ping = (port: number): Promise<boolean> => new Promise((resolve) => {
  const s = connect(port, '127.0.0.1', () => s.write('PING\r\n'))
  s.once('data', (d) => { s.destroy(); resolve(d.toString().startsWith('+PONG')) })
  s.once('error', () => resolve(false))
})

export async function startRedis(binary: string): Promise<{ url: string; pid: number; stop(): Promise<void> }> {
  const port = await freePort()
  const child = spawn(binary, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' })
  const until = Date.now() + 10_000
  while (!(await ping(port))) {
    if (child.exitCode !== null || Date.now() > until) { child.kill('SIGKILL'); throw new Error(`redis-server on ${port} did not start`) }
    await new Promise((r) => setTimeout(r, 20))
  }
  return {
    url: `redis://127.0.0.1:${port}`,
    pid: child.pid!,
    stop: () => new Promise<void>((resolve) => {
      if (child.exitCode !== null) return resolve()
      child.once('exit', () => resolve())
      child.kill('SIGTERM')
    }),
  }
}
