// Revocations held by one process (replay.store: memory): `popgate sessions
// revoke` reaches only the replica whose admin listener it talks to.
import { later, type Revocations } from './types.js'

export function createMemoryRevocations(opts: { maxAgeMs: number; now?: () => number }): Revocations {
  const now = opts.now ?? Date.now
  const list = new Map<string, number>()
  return {
    notBefore(identity) {
      const t = list.get(identity)
      // Past the longest credential lifetime nothing minted before it is alive: forget it.
      if (t !== undefined && now() - t > opts.maxAgeMs) { list.delete(identity); return undefined }
      return t
    },
    async revoke(identity, atMs) { list.set(identity, later(list.get(identity), atMs)!) },
    async close() { list.clear() },
  }
}
