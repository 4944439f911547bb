// `identities:` in acl.yaml: per-identity key-trust settings (issue 25).
//   identities:
//     partner.example:
//       keys: [<RFC 7638 thumbprint>, …]   # pin: only these keys, whatever the domain serves
//       newKeys: hold                      # accept (default) | hold: a key never seen before waits for approval
// Read and validated here, at load, with file:line problems; the key layer
// enforces them (docs/acl.md, "Identities").

import { INVALID, Section, describe, listOf, oneOf, scalar, type Check, type Context, type Reader } from '../config/readers.js'
import { joinPath, type Pos } from '../config/yaml-source.js'
import { identityProblem, type Identity } from '../identity/domain.js'

export type NewKeysPolicy = 'accept' | 'hold'

export interface IdentityPolicy {
  readonly identity: Identity
  /** RFC 7638 SHA-256 thumbprints (base64url, 43 characters); undefined = not pinned. */
  readonly keys: readonly string[] | undefined
  readonly newKeys: NewKeysPolicy
  readonly pos: Pos
}

const IDENTITY_KEYS = ['keys', 'newKeys'] as const

/** RFC 7638 §3 with SHA-256, base64url without padding (RFC 7515 §2): 32 bytes → 43 characters. */
export const thumbprint: Check<string> = (v) => {
  if (typeof v !== 'string' || !/^[A-Za-z0-9_-]{43}$/.test(v)) return `must be an RFC 7638 SHA-256 key thumbprint (43 base64url characters); got ${describe(v)}`
  return { value: v }
}

export function readIdentities(ctx: Context): Reader<ReadonlyMap<Identity, IdentityPolicy>> {
  return (node, path, source) => {
    if (node.kind !== 'map') {
      source.problems.at(node.pos, path, `must be a map of identity → settings; got ${node.kind === 'seq' ? 'a list' : describe(node.value)}`)
      return INVALID
    }
    const out = new Map<Identity, IdentityPolicy>()
    let bad = false
    for (const entry of node.entries) {
      const entryPath = joinPath(path, entry.key)
      const why = identityProblem(entry.key)
      if (why) {
        source.problems.at(entry.keyPos, entryPath, `is not an identity: ${why}`)
        bad = true
      }
      const s = new Section(ctx, entry.value, entryPath, IDENTITY_KEYS, entry.keyPos)
      const policy: IdentityPolicy = Object.freeze({
        identity: entry.key as Identity,
        keys: s.get('keys', listOf(scalar(thumbprint), { nonEmpty: true, unique: true }), undefined),
        newKeys: s.get('newKeys', scalar(oneOf(['accept', 'hold'] as const)), 'accept'),
        pos: entry.keyPos,
      })
      if (!why) out.set(policy.identity, policy)
    }
    return bad ? INVALID : out
  }
}
