// Scale case 3: cold start to the first answered request. Spawns the real
// CLI (`node dist/src/cli/main.js serve --config …`, a public route to the
// shared upstream) and polls the public route every 5 ms from the moment of
// spawn until the first 200; median of 5 runs. The port is picked before
// spawning (the CLI cannot tell us the one it bound), the same small race
// nginx's case accepts. Includes Node's own start-up, module loading, config
// and ACL parsing, and generating dev secrets.

import { spawn } from 'node:child_process'
import http from 'node:http'
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { performance } from 'node:perf_hooks'
import { setTimeout as sleep } from 'node:timers/promises'
import { freePort, stopChild } from '../lib/children.js'
import { aclYaml } from '../lib/acl-sets.js'
import { median } from '../lib/report.js'
import { PUBLIC_ORIGIN, PUBLIC_PATH } from '../lib/gateway-setup.js'
import type { ColdStartResult } from './types.js'

const CLI = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url))
const POLL_MS = 5
const GIVE_UP_MS = 15_000

/** One GET with a fresh connection: the status, or undefined when nothing listens yet. */
function probe(port: number): Promise<number | undefined> {
  return new Promise((resolve) => {
    const req = http.get({ host: '127.0.0.1', port, path: PUBLIC_PATH, agent: false }, (res) => {
      res.resume()
      res.on('end', () => resolve(res.statusCode))
    })
    req.on('error', () => resolve(undefined))
  })
}

async function once(dir: string, upstreamOrigin: string, run: number): Promise<number> {
  const port = await freePort()
  const config = join(dir, `gateway-${run}.yaml`)
  await writeFile(config, [`listen: 127.0.0.1:${port}`, `publicOrigin: ${PUBLIC_ORIGIN}`, `upstream: ${upstreamOrigin}`, 'acl: ./acl.yaml', 'log:', '  level: warn', ''].join('\n'))
  const t0 = performance.now()
  const child = spawn(process.execPath, [CLI, 'serve', '--config', config], { stdio: 'ignore' })
  try {
    for (;;) {
      if (child.exitCode !== null) throw new Error(`popgate serve exited with ${child.exitCode} before answering`)
      const status = await probe(port)
      if (status === 200) return performance.now() - t0
      if (status !== undefined) throw new Error(`first answer was ${status}, not 200`)
      if (performance.now() - t0 > GIVE_UP_MS) throw new Error(`no answer in ${GIVE_UP_MS} ms`)
      await sleep(POLL_MS)
    }
  } finally {
    await stopChild(child)
  }
}

export async function runColdStart(tmpDir: string, upstreamOrigin: string, runs = 5): Promise<ColdStartResult> {
  const dir = join(tmpDir, 'scale-cold-start')
  await mkdir(dir, { recursive: true })
  await writeFile(join(dir, 'acl.yaml'), aclYaml(10))
  const times: number[] = []
  for (let i = 0; i < runs; i++) times.push(await once(dir, upstreamOrigin, i))
  return { runs: times, medianMs: median(times), pollIntervalMs: POLL_MS }
}
