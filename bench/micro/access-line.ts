// The access line's cost per exchange, in CPU µs: createExchange, the
// connection facts (this build: client address, byte counts), logExchange
// (counters, histograms, the line built and handed to the logger's
// destination, here one that drops it). Standalone, not part of `npm run bench`:
//   node dist/bench/micro/access-line.js [<another built checkout>]
// With a second checkout both builds run in one process, rounds alternating.

import { pathToFileURL } from 'node:url'
import { join, resolve } from 'node:path'

const ROUNDS = 8
const N = 100_000

/* eslint-disable @typescript-eslint/no-explicit-any */
async function load(root: string): Promise<() => void> {
  const mod = async (p: string): Promise<any> => import(pathToFileURL(join(root, 'dist/src', p)).href)
  const ex = await mod('pipeline/exchange.js')
  const { createLogger } = await mod('log.js')
  const { createMetrics } = await mod('metrics.js')
  const state = { metrics: createMetrics(), config: { log: { access: true } }, log: createLogger('info', { write: () => {} }), headers: { trusted: undefined } }
  const socket = { remoteAddress: '127.0.0.1', bytesRead: 0, bytesWritten: 0 }
  const req = { method: 'GET', url: '/public/hello', headers: { host: 'gw.bench', 'user-agent': 'wrk/4.1.0' }, rawHeaders: ['Host', 'gw.bench', 'User-Agent', 'wrk/4.1.0'], socket }
  return () => {
    const e = ex.createExchange(req)
    e.path = '/public/hello'
    e.ruleId = 'public'
    e.decision = 'public'
    e.upstreamStatus = 200
    socket.bytesRead += 80
    socket.bytesWritten += 120
    ex.noteConnection?.(e, req, state)
    ex.logExchange(state, e, 200, false)
  }
}
/* eslint-enable @typescript-eslint/no-explicit-any */

const here = resolve(new URL('../../..', import.meta.url).pathname)
const builds: [string, () => void][] = [['this build', await load(here)]]
if (process.argv[2]) builds.push([`other build (${process.argv[2]})`, await load(resolve(process.argv[2]))])
const us = new Map<string, number[]>(builds.map(([l]) => [l, []]))
for (let r = 0; r < ROUNDS; r++) {
  for (const [label, f] of r % 2 === 0 ? builds : [...builds].reverse()) {
    for (let i = 0; i < 5_000; i++) f()
    const c = process.cpuUsage()
    for (let i = 0; i < N; i++) f()
    const u = process.cpuUsage(c)
    us.get(label)!.push((u.user + u.system) / N)
  }
}
const sorted = (xs: number[]) => [...xs].sort((a, b) => a - b)
process.stdout.write(`| build | access line CPU µs/exchange, best | median |\n|---|---:|---:|\n`)
for (const [label, xs] of us) process.stdout.write(`| ${label} | ${sorted(xs)[0]!.toFixed(2)} | ${sorted(xs)[xs.length >> 1]!.toFixed(2)} |\n`)
