// Scale case 1: the key cache holding 100,000 domains. Runs in its own
// process (key-cache-child.js under --expose-gc) so nothing else this
// runner holds shows up in the heap numbers.

import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import type { KeyCacheMemoryResult } from './types.js'

const run = promisify(execFile)
const CHILD = new URL('./key-cache-child.js', import.meta.url)
const TIMEOUT_MS = 60_000

export async function runKeyCacheMemory(entries = 100_000, distinctKeys = 1_000, hotKeys = 1_024): Promise<KeyCacheMemoryResult> {
  const { stdout } = await run(process.execPath, ['--expose-gc', CHILD.pathname, String(entries), String(distinctKeys), String(hotKeys)], { timeout: TIMEOUT_MS, maxBuffer: 1 << 20 })
  return JSON.parse(stdout.trim().split('\n').pop()!) as KeyCacheMemoryResult
}
