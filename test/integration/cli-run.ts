// Shared by the cli*.test.ts files: run dist/src/cli/main.js as a user would
// (child processes, a clean environment, 127.0.0.1 only), and the one
// assertion every failure path must pass.

import type { Test } from 'tap'
import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

export const ROOT = fileURLToPath(new URL('../../../', import.meta.url)) // dist/test/integration → repository root
export const MAIN = join(ROOT, 'dist/src/cli/main.js')

/** No POPGATE_* overrides from the developer's shell, no test-runner loaders in the children. */
export const ENV: NodeJS.ProcessEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('POPGATE_') && !k.startsWith('TAP') && k !== 'NODE_OPTIONS'))

export interface Run { code: number | null; stdout: string; stderr: string }

const children = new Set<ChildProcess>()

export function popgate(args: readonly string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number; stdio?: StdioOptions; onSpawn?: (c: ChildProcess) => void } = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [MAIN, ...args], { cwd: opts.cwd ?? ROOT, env: { ...ENV, ...opts.env }, stdio: opts.stdio ?? ['ignore', 'pipe', 'pipe'] })
    children.add(child)
    let stdout = '', stderr = ''
    child.stdout?.on('data', (c) => { stdout += c })
    child.stderr?.on('data', (c) => { stderr += c })
    opts.onSpawn?.(child)
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`popgate ${args.join(' ')}: no exit within ${opts.timeoutMs ?? 60_000} ms\n${stdout}\n${stderr}`)) }, opts.timeoutMs ?? 60_000)
    child.on('error', reject)
    child.on('close', (code) => { clearTimeout(timer); children.delete(child); resolve({ code, stdout, stderr }) })
  })
}

export interface Server { child: ChildProcess; out: () => string; err: () => string; waitFor(re: RegExp, timeoutMs?: number): Promise<RegExpMatchArray> }

/** A long-running `popgate ...args` (serve, keyhost, demo); `waitFor` watches stdout and stderr. */
export function startPopgate(args: readonly string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv; stdio?: StdioOptions } = {}): Server {
  const child = spawn(process.execPath, [MAIN, ...args], { cwd: opts.cwd ?? ROOT, env: { ...ENV, ...opts.env }, stdio: opts.stdio ?? ['ignore', 'pipe', 'pipe'] })
  children.add(child)
  let stdout = '', stderr = ''
  child.stdout?.on('data', (c) => { stdout += c })
  child.stderr?.on('data', (c) => { stderr += c })
  child.on('close', () => children.delete(child))
  return {
    child, out: () => stdout, err: () => stderr,
    waitFor: (re, timeoutMs = 30_000) => new Promise((resolve, reject) => {
      const check = () => {
        const m = re.exec(stdout) ?? re.exec(stderr)
        if (m) { done(); resolve(m) }
      }
      const onClose = (code: number | null) => { done(); reject(new Error(`popgate ${args[0]} exited (${code}) before printing ${re}\n${stdout}\n${stderr}`)) }
      const timer = setTimeout(() => { done(); reject(new Error(`popgate ${args[0]}: ${re} not printed within ${timeoutMs} ms\n${stdout}\n${stderr}`)) }, timeoutMs)
      const done = () => { clearTimeout(timer); child.stdout?.off('data', check); child.stderr?.off('data', check); child.off('close', onClose) }
      child.stdout?.on('data', check)
      child.stderr?.on('data', check)
      child.on('close', onClose)
      check()
    }),
  }
}

export function stopChild(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode)
  return new Promise((resolve) => {
    const force = setTimeout(() => child.kill('SIGKILL'), 5000)
    child.once('close', (code) => { clearTimeout(force); resolve(code) })
    child.kill(signal)
  })
}

export const stopAll = () => Promise.all([...children].map((c) => stopChild(c)))

/** The failure contract: the documented exit code, one line on stderr naming the command, no stack trace. */
export function oneLineFailure(t: Test, r: Run, code: number, why: string, says?: RegExp): void {
  t.equal(r.code, code, `${why}: exit ${code} (${r.stderr.trim()})`)
  const lines = r.stderr.trim().split('\n')
  t.equal(lines.length, 1, `${why}: one line on stderr`)
  t.match(lines[0], /^popgate( [a-z]+)?: /, `${why}: says it is popgate`)
  t.notMatch(r.stderr, /\n\s+at |Error:|TypeError/, `${why}: no stack trace, no raw error`)
  if (says) t.match(lines[0], says, `${why}: says what to do`)
}


/** Runs `fn` over `items` at most `limit` at a time (a loaded CI machine starts node slowly). */
export async function mapLimited<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length)
  let next = 0
  const worker = async () => { while (next < items.length) { const i = next++; out[i] = await fn(items[i]!) } }
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker))
  return out
}
