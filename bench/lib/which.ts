// Finds an executable on PATH (plus the sbin directories nginx lives in,
// which a non-root PATH often lacks). No shell involved.

import { accessSync, constants } from 'node:fs'
import { join, delimiter } from 'node:path'

const EXTRA_DIRS = ['/usr/sbin', '/usr/local/sbin', '/usr/local/nginx/sbin', '/opt/homebrew/bin']

export function which(name: string): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(delimiter).filter(Boolean), ...EXTRA_DIRS]
  for (const dir of dirs) {
    const file = join(dir, name)
    try {
      accessSync(file, constants.X_OK)
      return file
    } catch { /* next */ }
  }
  return undefined
}
