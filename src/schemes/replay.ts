// A scheme's view of the replay store: its keys prefixed by its namespace
// (two schemes' jtis never collide), the proof window as the default TTL,
// and a replay counted once where it is found (popgate_replays_total).

import type { ReplayStore } from '../replay/types.js'
import type { SchemeReplay } from './module.js'

export function namespacedReplay(store: Pick<ReplayStore, 'firstUse'>, namespace: string, ttlMs: number, onReplay: () => void): SchemeReplay {
  if (namespace === '' || namespace.includes('\n')) throw new Error(`replay namespace ${JSON.stringify(namespace)}: must be non-empty, without LF`)
  const prefix = namespace + '\n'
  return {
    async firstUse(key, ttl = ttlMs) {
      const first = await store.firstUse(prefix + key, ttl)
      if (!first) onReplay()
      return first
    },
  }
}
