// The parent side: fork a bench server script, wait for its port, stop it.

import { fork, type ChildProcess } from 'node:child_process'
import { createServer } from 'node:net'
import type { ServerChild } from './types.js'

const READY_TIMEOUT_MS = 15_000

export function startServer(scriptUrl: URL, args: readonly string[], execArgv: readonly string[] = []): Promise<ServerChild> {
  const child = fork(scriptUrl, [...args], { execArgv: [...execArgv], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => { child.kill(); reject(new Error(`${scriptUrl.pathname}: not ready in ${READY_TIMEOUT_MS} ms`)) }, READY_TIMEOUT_MS)
    child.once('exit', (code) => { clearTimeout(timer); reject(new Error(`${scriptUrl.pathname} exited with ${code} before it was ready`)) })
    child.once('message', (m: { ready?: boolean; port?: number }) => {
      clearTimeout(timer)
      child.removeAllListeners('exit')
      if (!m.ready || typeof m.port !== 'number') return reject(new Error(`${scriptUrl.pathname}: unexpected first message`))
      resolve({ pid: child.pid!, port: m.port, stop: () => stopChild(child) })
    })
  })
}

export function stopChild(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve()
  return new Promise((resolve) => {
    const hard = setTimeout(() => child.kill('SIGKILL'), 5000)
    child.once('exit', () => { clearTimeout(hard); resolve() })
    if (child.connected) child.send('stop')
    else child.kill(signal)
  })
}

/** A free loopback port for programs that cannot report the one they bound (nginx). Racy, but only against ourselves. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer()
    s.once('error', reject)
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number }
      s.close(() => resolve(port))
    })
  })
}
