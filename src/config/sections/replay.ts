// Sections `secrets` and `replay`: what replicas share (PROTOCOL.md §8).

import type { Config } from '../types.js'
import { Section, duration, filePath, oneOf, positiveInt, redisUrl, refine, scalar, str } from '../readers.js'

export function readSecretsFile(root: Section): Config['secretsFile'] {
  const s = root.sub('secrets', ['file'])
  return s.present ? s.required('file', scalar(filePath), '') : s.get('file', scalar(filePath), undefined)
}

// Printable ASCII without spaces: the prefix shows up in redis-cli and ACL rules (`~popgate:replay:*`).
const keyPrefix = refine(str, (v) => (/^[\x21-\x7e]{1,64}$/.test(v) ? { value: v } : 'must be 1-64 printable ASCII characters without spaces'))

/** Past this a slow store costs every proof more than the proof itself; the deadline is per `firstUse` call. */
const MAX_TIMEOUT_MS = 10_000

export function readReplay(root: Section): Config['replay'] {
  const r = root.sub('replay', ['store', 'url', 'mode', 'sentinelMaster', 'keyPrefix', 'timeout', 'maxEntries'])
  const replay = {
    store: r.get('store', scalar(oneOf(['memory', 'redis'] as const)), 'memory'),
    url: r.get('url', scalar(redisUrl), undefined),
    mode: r.get('mode', scalar(oneOf(['standalone', 'sentinel', 'cluster'] as const)), 'standalone'),
    sentinelMaster: r.get('sentinelMaster', scalar(str), undefined),
    keyPrefix: r.get('keyPrefix', scalar(keyPrefix), 'popgate:replay:'),
    timeoutMs: r.get('timeout', duration(), 250),
    maxEntries: r.get('maxEntries', scalar(positiveInt()), 1_000_000),
  }
  if (replay.store === 'redis' && replay.url === undefined && !r.has('url')) r.report('store', 'store: redis needs replay.url (or $POPGATE_REDIS_URL)')
  // A Redis URL with the memory store would silently leave each replica its own replay cache.
  if (replay.store === 'memory' && r.has('url')) r.report('url', 'is set but replay.store is memory; set store: redis (or remove the url)')
  if (replay.store === 'memory' && r.has('mode')) r.report('mode', 'applies to store: redis only')
  if (replay.mode === 'sentinel' && replay.sentinelMaster === undefined && !r.has('sentinelMaster')) r.report('mode', 'mode: sentinel needs replay.sentinelMaster (the master group name)')
  if (replay.mode !== 'sentinel' && r.has('sentinelMaster')) r.report('sentinelMaster', 'applies to mode: sentinel only')
  if (replay.timeoutMs > MAX_TIMEOUT_MS) r.report('timeout', `must be at most ${MAX_TIMEOUT_MS / 1000}s: every proof waits for the store`)
  return replay
}
