// What the last reload did, for /metrics (docs/operations.md, "Reload
// refused"): whether it took effect, when the config last did, and a hash
// of the config and ACL files serving now, so an alert can tell "the last
// reload failed" (it stays 0 while the broken file is on disk, unlike a
// rate over a window) and replicas serving different files apart.

import { createHash } from 'node:crypto'
import { readFile } from 'node:fs/promises'

export interface ReloadStatus {
  /** 1 when the last reload (or the start) took effect, 0 when the last one was refused. */
  readonly lastSuccessful: boolean
  /** Unix seconds of the last start or reload that took effect. */
  readonly lastSuccessSeconds: number
  /** The first 48 bits of SHA-256 over the files serving now, as a number (exact in a float64 gauge). */
  readonly configHash: number
}

/** SHA-256 over each file's name and bytes, in order; a file that cannot be read counts as empty. */
export async function hashFiles(files: readonly (string | undefined)[]): Promise<number> {
  const h = createHash('sha256')
  for (const f of files) {
    if (f === undefined) continue
    h.update(f).update('\0')
    h.update(await readFile(f).catch(() => Buffer.alloc(0))).update('\0')
  }
  return h.digest().readUIntBE(0, 6)
}

export function createReloadStatus(now: () => number = Date.now): { current(): ReloadStatus; succeeded(files: readonly (string | undefined)[]): Promise<void>; failed(): void } {
  let status: ReloadStatus = { lastSuccessful: true, lastSuccessSeconds: Math.floor(now() / 1000), configHash: 0 }
  return {
    current: () => status,
    async succeeded(files) {
      const configHash = await hashFiles(files)
      status = { lastSuccessful: true, lastSuccessSeconds: Math.floor(now() / 1000), configHash }
    },
    failed() { status = { ...status, lastSuccessful: false } },
  }
}
