// Load with wrk (`wrk -t1 -c50 -d8s --latency`), when it is on PATH. A Lua
// script reports the summary as one JSON line from wrk's done() hook, which
// is sturdier than scraping the human table; with per-request headers the
// same script reads one pre-generated value per request from a file.

import { spawn } from 'node:child_process'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { LoadOptions, LoadResult } from '../lib/types.js'
import { which } from '../lib/which.js'
import { lineHeaders } from './header-line.js'

export const wrkBinary = (): string | undefined => which('wrk')

const MARK = 'BENCH_JSON '

const luaString = (s: string) => `"${s.replace(/[\\"]/g, (c) => '\\' + c)}"`

export function wrkScript(headerFile?: LoadOptions['headerFile']): string {
  const perRequest = headerFile ? `
local f = assert(io.open(${luaString(headerFile.file)}, "r"))
local exhausted = false
request = function()
  local v = f:read("*l")
  if v == nil then
    -- Out of pre-generated values: reuse from the top. The gateway refuses
    -- these as replays, which shows up as non-2xx in the result.
    exhausted = true
    f:seek("set", 0)
    v = f:read("*l")
  end
  local h = { ${Object.entries(headerFile.fixed ?? {}).map(([k, v]) => `[${luaString(k)}] = ${luaString(v)}, `).join('')}}
  local names = { ${lineHeaders(headerFile).map(luaString).join(', ')} }
  local i = 1
  -- One value per field, tab-separated when there are several (header-line.ts).
  for part in string.gmatch(v, "[^\t]+") do h[names[i]] = part; i = i + 1 end
  return wrk.format(nil, nil, h) -- wrk.format adds Host unless h has one
end
` : ''
  return `${perRequest}
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("${MARK}{\\"requests\\":%d,\\"durationUs\\":%d,\\"p50Us\\":%d,\\"p99Us\\":%d,\\"status\\":%d,\\"socket\\":%d}\\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    e.status, e.connect + e.read + e.write + e.timeout))
end
`
}

export async function runWrk(binary: string, opts: LoadOptions, tmpDir: string): Promise<LoadResult> {
  const script = join(tmpDir, `wrk-${process.hrtime.bigint()}.lua`)
  await writeFile(script, wrkScript(opts.headerFile))
  // wrk takes whole seconds only.
  const args = ['-t1', `-c${opts.connections}`, `-d${Math.max(1, Math.round(opts.durationSec))}s`, '--latency', '-s', script, opts.url]
  const out = await new Promise<string>((resolve, reject) => {
    const child = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = '', stderr = ''
    child.stdout.on('data', (c) => { stdout += String(c) })
    child.stderr.on('data', (c) => { stderr += String(c) })
    child.once('error', reject)
    child.once('exit', (code) => code === 0 ? resolve(stdout) : reject(new Error(`wrk exited with ${code}: ${stderr || stdout}`)))
  })
  const line = out.split('\n').find((l) => l.startsWith(MARK))
  if (!line) throw new Error(`wrk printed no summary:\n${out}`)
  const j = JSON.parse(line.slice(MARK.length)) as { requests: number; durationUs: number; p50Us: number; p99Us: number; status: number; socket: number }
  const durationSec = j.durationUs / 1e6
  return {
    tool: 'wrk', requests: j.requests, durationSec, rps: j.requests / durationSec,
    p50Ms: j.p50Us / 1000, p99Ms: j.p99Us / 1000, badStatus: j.status, socketErrors: j.socket,
  }
}
