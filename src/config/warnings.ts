// Things a valid config may do that an operator should hear about: `check`
// prints them (and still exits 0), `serve` logs each once at start
// (server.ts). Pure.

import { isIP } from 'node:net'
import type { Config } from './types.js'
import { SCHEME_MODULES } from '../schemes/index.js'
import { sectionOf, type SchemeModule } from '../schemes/module.js'

/** Loopback: localhost, 127.0.0.0/8, ::1 (and 127.x mapped into IPv6). */
export function isLoopbackHost(host: string): boolean {
  if (host === 'localhost' || host === '::1') return true
  if (isIP(host) === 4) return host.startsWith('127.')
  return host.toLowerCase().startsWith('::ffff:127.') && isIP(host) === 6
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function configWarnings(config: Config, modules: readonly SchemeModule<any>[] = SCHEME_MODULES): string[] {
  const warnings: string[] = []
  const admin = config.admin?.listen
  if (admin && !isLoopbackHost(admin.host) && config.admin?.warnNonLoopback !== false) {
    const at = admin.host.includes(':') ? `[${admin.host}]:${admin.port}` : `${admin.host}:${admin.port}`
    warnings.push(`admin.listen: ${at} is not a loopback address; the admin page, /metrics, /healthz and /readyz have no authentication (they change no state, but the page shows identities, paths and refusals, and /metrics traffic shape and error codes): bind to 127.0.0.1 or a private interface, or set admin.warnNonLoopback: false when the bind is deliberate (a pod IP behind a NetworkPolicy)`)
  }
  // Each scheme module's own (schemes/module.ts `warnings`), when its section was read.
  for (const m of modules) {
    const cfg = sectionOf(config, m)
    if (cfg !== undefined && m.warnings) warnings.push(...m.warnings(cfg, config))
  }
  return warnings
}
