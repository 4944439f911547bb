// RSS and CPU time of the processes under test, read from outside them so it
// works the same for node children and nginx: /proc on Linux, `ps` elsewhere
// (RSS only). Sampled every 100 ms; the peak is what the RSS target
// is about.

import { readFileSync, existsSync } from 'node:fs'
import { execFileSync } from 'node:child_process'
import type { ProcessUsage } from './types.js'

const SAMPLE_MS = 100
const HAVE_PROC = existsSync('/proc/self/stat')
const CLK_TCK = (() => {
  try { return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100 } catch { return 100 }
})()

function rssBytes(pid: number): number {
  try {
    if (HAVE_PROC) {
      const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
      return m ? Number(m[1]) * 1024 : 0
    }
    return Number(execFileSync('ps', ['-o', 'rss=', '-p', String(pid)], { encoding: 'utf8' }).trim()) * 1024 || 0
  } catch {
    return 0 // the process is gone
  }
}

/** utime + stime in seconds (/proc/<pid>/stat fields 14 and 15), NaN without /proc. */
function cpuSec(pid: number, tid?: number): number {
  if (!HAVE_PROC) return NaN
  try {
    const stat = readFileSync(tid === undefined ? `/proc/${pid}/stat` : `/proc/${pid}/task/${tid}/stat`, 'utf8')
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ') // comm may contain spaces
    return (Number(fields[11]) + Number(fields[12])) / CLK_TCK
  } catch {
    return NaN
  }
}

/**
 * CPU seconds used by this process's main thread alone (not libuv's thread
 * pool, not V8's helpers), NaN without /proc. 10 ms resolution.
 */
export const mainThreadCpuSec = (): number => cpuSec(process.pid, process.pid)

/** Direct children of `pid` (nginx workers), best effort. */
export function childPids(pid: number): number[] {
  try {
    return execFileSync('ps', ['-o', 'pid=', '--ppid', String(pid)], { encoding: 'utf8' }).split('\n').map((s) => Number(s.trim())).filter((n) => n > 0)
  } catch {
    return []
  }
}

export interface UsageMeter { stop(): ProcessUsage }

export function meterProcesses(pids: readonly number[]): UsageMeter {
  const cpuAt = () => pids.reduce((sum, p) => sum + cpuSec(p), 0)
  const cpu0 = cpuAt()
  let peak = 0
  const sample = () => { peak = Math.max(peak, pids.reduce((sum, p) => sum + rssBytes(p), 0)) }
  sample()
  const timer = setInterval(sample, SAMPLE_MS)
  return {
    stop() {
      clearInterval(timer)
      sample()
      return { peakRssBytes: peak, cpuSec: cpuAt() - cpu0 }
    },
  }
}
