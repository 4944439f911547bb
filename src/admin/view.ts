// What the admin page shows, read from the running gateway at request time:
// health and readiness, the config version, the recent view
// (admin/activity.ts), and the key and issuer caches. Plain data; the page
// (admin/page.ts) turns it into escaped HTML. Never a credential: the
// activity holds access-line facts, the caches URLs and owners.

import { createHash } from 'node:crypto'
import type { ActivitySnapshot } from './activity.js'
import type { CacheEntryView } from '../keys/index.js'
import type { KeyCacheStats } from '../keys/index.js'
import type { GatewayState } from '../assembly/state.js'

export interface PageView {
  readonly nowMs: number
  readonly startedAtMs: number
  readonly ready: boolean
  readonly readiness: string
  readonly configFile: string
  /** 12 hex digits of SHA-256 over the effective config and ACL: changes when either does. */
  readonly configVersion: string
  readonly tracing: string
  readonly activity: ActivitySnapshot
  readonly keys: KeyCacheStats
  readonly keyEntries: readonly CacheEntryView[]
  /** undefined: DPoP is off. */
  readonly issuerEntries: readonly CacheEntryView[] | undefined
}

/** Rows of each cache shown. */
export const CACHE_ROWS = 25

const versions = new WeakMap<GatewayState, string>()

/** Maps, sets and patterns as JSON can hold them; functions left out. */
const canonical = (_k: string, v: unknown): unknown =>
  v instanceof Map ? [...v] : v instanceof Set ? [...v] : v instanceof RegExp ? v.source : typeof v === 'function' ? undefined : v

export function configVersion(state: GatewayState): string {
  let v = versions.get(state)
  if (v === undefined) {
    v = createHash('sha256').update(JSON.stringify([state.config, state.acl.rules, state.acl.mode, state.acl.verbs], canonical)).digest('hex').slice(0, 12)
    versions.set(state, v)
  }
  return v
}

export async function readView(state: GatewayState, draining: boolean, startedAtMs: number): Promise<PageView> {
  let ready = false
  let readiness = 'draining'
  if (!draining) {
    ready = await state.replay.healthy().catch(() => false)
    readiness = ready ? 'ready' : 'replay store unavailable'
  }
  const t = state.config.tracing
  return {
    nowMs: Date.now(),
    startedAtMs,
    ready,
    readiness,
    configFile: state.config.file,
    configVersion: configVersion(state),
    tracing: t ? `on: ${t.endpoint.origin}, ratio ${t.sampleRatio}` : 'off',
    activity: state.metrics.activity.snapshot(),
    keys: state.keys.stats(),
    keyEntries: state.keys.list(CACHE_ROWS),
    issuerEntries: state.modules.flatMap((m) => m.built.cacheEntries?.(CACHE_ROWS) ?? []).slice(0, CACHE_ROWS),
  }
}
