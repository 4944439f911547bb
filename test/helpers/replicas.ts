// Several `popgate serve` processes (dist/src/cli/main.js, after `npm run
// build`) from one config file, each on its own ports, for the multi-replica
// tests. Every child is killed by `close()`.

import { spawn, type ChildProcess } from 'node:child_process'
import { rename, writeFile } from 'node:fs/promises'
import { join, basename } from 'node:path'
import { fileURLToPath } from 'node:url'

const ROOT = fileURLToPath(new URL('../../../', import.meta.url)) // dist/test/helpers → repository root
const MAIN = join(ROOT, 'dist/src/cli/main.js')
// No POPGATE_* overrides from the developer's shell, no test-runner loaders in the children.
const ENV: NodeJS.ProcessEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('POPGATE_') && !k.startsWith('TAP') && k !== 'NODE_OPTIONS'))

export interface Replica {
  readonly name: string
  readonly url: string
  readonly adminUrl: string
  readonly child: ChildProcess
  readonly out: () => string
}

function startOne(name: string, configFile: string): Promise<Replica> {
  const child = spawn(process.execPath, [MAIN, 'serve', '--config', configFile], { env: ENV, stdio: ['ignore', 'pipe', 'pipe'] })
  let out = '', err = ''
  child.stdout!.on('data', (c) => { out += c })
  child.stderr!.on('data', (c) => { err += c })
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => fail(new Error(`replica ${name}: not listening within 30 s\n${out}\n${err}`)), 30_000)
    const onExit = (code: number | null) => fail(new Error(`replica ${name} exited (${code})\n${out}\n${err}`))
    const fail = (e: Error) => { clearTimeout(timer); child.stdout!.off('data', check); child.kill('SIGKILL'); reject(e) }
    const check = () => {
      const m = /"msg":"popgate listening"/.test(out) && /"http":"127\.0\.0\.1:(\d+)".*"admin":"127\.0\.0\.1:(\d+)"/.exec(out)
      if (!m) return
      clearTimeout(timer)
      child.stdout!.off('data', check)
      child.off('exit', onExit)
      resolve({ name, url: `http://127.0.0.1:${m[1]}`, adminUrl: `http://127.0.0.1:${m[2]}`, child, out: () => out })
    }
    child.stdout!.on('data', check)
    child.once('exit', onExit)
  })
}

export async function startReplicas(names: readonly string[], configFile: string): Promise<Replica[]> {
  const started = await Promise.allSettled(names.map((n) => startOne(n, configFile)))
  const ok = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []))
  const failed = started.find((s): s is PromiseRejectedResult => s.status === 'rejected')
  if (failed) { await stopReplicas(ok); throw failed.reason }
  return ok
}

export async function stopReplicas(replicas: readonly Replica[]): Promise<void> {
  await Promise.all(replicas.map(({ child }) => {
    if (child.exitCode !== null || child.signalCode !== null) return undefined
    return new Promise<void>((resolve) => {
      const force = setTimeout(() => child.kill('SIGKILL'), 5_000)
      child.once('exit', () => { clearTimeout(force); resolve() })
      child.kill('SIGTERM')
    })
  }))
}

/**
 * Replaces `file` in one step (write a sibling in a staging folder, then
 * rename), as a Kubernetes Secret update does: a reload never reads half a file.
 */
export async function replaceFile(file: string, text: string, stagingDir: string): Promise<void> {
  const tmp = join(stagingDir, `${basename(file)}.${process.pid}.tmp`)
  await writeFile(tmp, text, { mode: 0o600 })
  await rename(tmp, file)
}
