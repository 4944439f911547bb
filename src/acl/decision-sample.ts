// The recent ACL decisions a reload replays against the new ACL ("what a
// reload changes", docs/acl.md): a fixed ring of (identity, method, path)
// triples, never a credential. Recording stores three references to strings
// the request already holds in preallocated arrays, so the per-request cost
// is three writes and an increment, with no allocation. The ring survives
// reloads (assembly/build-state.ts hands it to the next state).

export interface SampledDecision {
  /** The identity the ACL judged: the proven one, else the one a credential claimed; undefined = anonymous. */
  readonly identity: string | undefined
  readonly method: string
  readonly path: string
}

export interface DecisionSample {
  record(identity: string | undefined, method: string, path: string): void
  /** The sampled decisions, oldest first (a copy). */
  snapshot(): SampledDecision[]
  readonly capacity: number
}

/** Paths longer than this are not kept: the ring's memory stays bounded by capacity × this. */
export const MAX_SAMPLED_PATH = 2048

export function createDecisionSample(capacity = 1000): DecisionSample {
  const identities = new Array<string | undefined>(capacity).fill(undefined)
  const methods = new Array<string>(capacity).fill('')
  const paths = new Array<string>(capacity).fill('')
  let next = 0
  let size = 0
  return {
    capacity,
    record(identity, method, path) {
      if (path.length > MAX_SAMPLED_PATH || capacity === 0) return
      identities[next] = identity
      methods[next] = method
      paths[next] = path
      next = next + 1 === capacity ? 0 : next + 1
      if (size < capacity) size++
    },
    snapshot() {
      const out: SampledDecision[] = []
      for (let i = 0, at = (next - size + capacity) % capacity; i < size; i++, at = (at + 1) % capacity) {
        out.push({ identity: identities[at], method: methods[at]!, path: paths[at]! })
      }
      return out
    },
  }
}
