// Sections `secrets` and `replay`: what replicas share (PROTOCOL.md §8).

import type { Config } from '../types.js'
import { Section, filePath, oneOf, positiveInt, redisUrl, scalar } from '../readers.js'

export function readSecretsFile(root: Section): Config['secretsFile'] {
  const s = root.sub('secrets', ['file'])
  return s.present ? s.required('file', scalar(filePath), '') : s.get('file', scalar(filePath), undefined)
}

export function readReplay(root: Section): Config['replay'] {
  const r = root.sub('replay', ['store', 'url', 'maxEntries'])
  const replay = {
    store: r.get('store', scalar(oneOf(['memory', 'redis'] as const)), 'memory'),
    url: r.get('url', scalar(redisUrl), undefined),
    maxEntries: r.get('maxEntries', scalar(positiveInt()), 1_000_000),
  }
  if (replay.store === 'redis' && replay.url === undefined && !r.has('url')) r.report('store', 'store: redis needs replay.url (or $POPGATE_REDIS_URL)')
  // A Redis URL with the memory store would silently leave each replica its own replay cache.
  if (replay.store === 'memory' && r.has('url')) r.report('url', 'is set but replay.store is memory; set store: redis (or remove the url)')
  return replay
}
