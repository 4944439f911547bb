// Sections `nonce` and `proof`: what a DomainPoP proof may look like (PROTOCOL.md §2.3).

import { PROOF_ALGORITHMS, type Config } from '../types.js'
import { Section, duration, listOf, oneOf, scalar, size } from '../readers.js'

export function readNonce(root: Section): Config['nonce'] {
  return { ttlMs: root.sub('nonce', ['ttl']).get('ttl', duration(), 300_000) }
}

export function readProof(root: Section): Config['proof'] {
  const p = root.sub('proof', ['maxAge', 'clockSkew', 'algorithms', 'maxBytes'])
  return {
    maxAgeMs: p.get('maxAge', duration(), 60_000),
    clockSkewMs: p.get('clockSkew', duration({ allowZero: true }), 5_000),
    algorithms: p.get('algorithms', listOf(scalar(oneOf(PROOF_ALGORITHMS)), { nonEmpty: true, unique: true }), [...PROOF_ALGORITHMS]),
    maxBytes: p.get('maxBytes', size, 8 * 1024),
  }
}
