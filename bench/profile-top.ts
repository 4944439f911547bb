// Top self-time functions of a V8 .cpuprofile (what `--cpu-prof` writes).
// Self time = the sampled time attributed to the function itself, not its
// callees; `(idle)` is left out so shares are of busy time.
//
//   node dist/bench/profile-top.js [--js] bench/results/gateway-gateway-es256.cpuprofile [n]

import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { relative } from 'node:path'

interface ProfileNode { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; children?: number[] }
interface CpuProfile { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[] }

export interface SelfTime { readonly fn: string; readonly where: string; readonly ms: number; readonly share: number }

/**
 * `jsOnly` keeps frames with a source location: JavaScript (ours, node_modules,
 * node:internal), leaving out native bindings such as `writev` whose self
 * time includes the syscall and, on a small box, the wait for the core.
 */
export function topSelfTime(file: string, n = 5, opts: { jsOnly?: boolean } = {}): { busyMs: number; top: SelfTime[] } {
  const p = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile
  const byNode = new Map(p.nodes.map((node) => [node.id, node]))
  const selfUs = new Map<string, { fn: string; where: string; us: number }>()
  let busyUs = 0
  for (let i = 0; i < p.samples.length; i++) {
    const node = byNode.get(p.samples[i]!)!
    const dt = p.timeDeltas[i] ?? 0
    const { functionName, url, lineNumber } = node.callFrame
    if (functionName === '(idle)') continue
    busyUs += dt
    const where = url ? `${shortUrl(url)}:${lineNumber + 1}` : ''
    const key = `${functionName}\n${where}`
    const e = selfUs.get(key) ?? { fn: functionName || '(anonymous)', where, us: 0 }
    e.us += dt
    selfUs.set(key, e)
  }
  const top = [...selfUs.values()].filter((e) => !opts.jsOnly || e.where !== '').sort((a, b) => b.us - a.us).slice(0, n)
    .map((e) => ({ fn: e.fn, where: e.where, ms: e.us / 1000, share: busyUs ? e.us / busyUs : 0 }))
  return { busyMs: busyUs / 1000, top }
}

function shortUrl(url: string): string {
  if (!url.startsWith('file://')) return url
  const path = fileURLToPath(url)
  const nm = path.lastIndexOf('/node_modules/')
  return nm >= 0 ? path.slice(nm + 1) : relative(process.cwd(), path)
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const args = process.argv.slice(2)
  const jsOnly = args.includes('--js')
  const [file, count] = args.filter((a) => a !== '--js')
  if (!file) {
    console.error('usage: node dist/bench/profile-top.js [--js] <file.cpuprofile> [n]')
    process.exit(64)
  }
  const { busyMs, top } = topSelfTime(file, Number(count ?? 10), { jsOnly })
  console.log(`busy ${busyMs.toFixed(0)} ms`)
  for (const t of top) console.log(`${(t.share * 100).toFixed(1).padStart(5)}%  ${t.ms.toFixed(0).padStart(6)} ms  ${t.fn}  ${t.where}`)
}
