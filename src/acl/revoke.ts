// The ACL's `revoke:` map (PROTOCOL.md §8): identity → a not-before time for
// its session tickets and cookies. A ticket or cookie of that identity minted
// before the time is refused (`session_revoked`); proofs are unaffected. The
// same list `popgate sessions revoke` feeds at run time (src/revocation/),
// but one an operator keeps in version control and hot-reloads.
//
//   revoke:
//     alice.example: 2026-12-07T10:00:00Z

import { identityProblem } from '../identity/domain.js'
import { INVALID, type Reader } from '../config/readers.js'
import { joinPath } from '../config/yaml-source.js'

/** RFC 3339 date-time with an explicit offset. */
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/

export const readRevoke: Reader<ReadonlyMap<string, number>> = (node, path, source) => {
  if (node.kind !== 'map') {
    source.problems.at(node.pos, path, 'must be a map of identity → RFC 3339 time (alice.example: 2026-12-07T10:00:00Z)')
    return INVALID
  }
  const out = new Map<string, number>()
  let bad = false
  for (const e of node.entries) {
    const p = joinPath(path, e.key)
    const why = identityProblem(e.key)
    if (why) { source.problems.at(e.keyPos, p, `not an identity: ${why}`); bad = true; continue }
    const v = e.value.kind === 'scalar' ? e.value.value : undefined
    const ms = typeof v === 'string' && RFC3339.test(v) ? Date.parse(v) : NaN
    if (Number.isNaN(ms)) { source.problems.at(e.value.pos, p, 'must be an RFC 3339 time such as 2026-12-07T10:00:00Z'); bad = true; continue }
    out.set(e.key, ms)
  }
  return bad ? INVALID : out
}
