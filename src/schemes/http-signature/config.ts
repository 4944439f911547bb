// The `httpSignatures:` config section (docs/configuration.md): RFC 9421
// HTTP Message Signatures in the Web Bot Auth profile, its types and its
// reader, validated once with the rest of the config.

import { Section, bool, duration, listOf, oneOf, scalar, size } from '../../config/readers.js'
import type { HttpSignatureAlgorithm } from '../../proofs/http-signature/algorithms.js'

/** What an agent may sign with: asymmetric only (an HMAC secret is not something a directory can publish). */
export const AGENT_ALGORITHMS = ['ed25519', 'ecdsa-p256-sha256', 'ecdsa-p384-sha384', 'rsa-pss-sha512', 'rsa-v1_5-sha256'] as const satisfies readonly HttpSignatureAlgorithm[]

export interface HttpSignaturesConfig {
  /** Accept `Signature-Input` + `Signature` + `Signature-Agent` (schemes/http-signature/). */
  readonly enabled: boolean
  readonly algorithms: readonly HttpSignatureAlgorithm[]
  /** Longest `expires − created` accepted (the draft RECOMMENDS at most 24 h). */
  readonly maxValidityMs: number
  /** Undefined: `proof.clockSkew`. */
  readonly clockSkewMs: number | undefined
  /** Demand `tag="web-bot-auth"` (the draft's profile; default true). */
  readonly requireTag: boolean
  /** The largest body read to check its Content-Digest before forwarding (more: 413 body_too_large). */
  readonly maxBodyBytes: number
}

export function readHttpSignatures(root: Section): HttpSignaturesConfig {
  const s = root.sub('httpSignatures', ['enabled', 'algorithms', 'maxValidity', 'clockSkew', 'requireTag', 'maxBody'])
  return {
    enabled: s.get('enabled', scalar(bool), false),
    algorithms: s.get('algorithms', listOf(scalar(oneOf(AGENT_ALGORITHMS)), { nonEmpty: true, unique: true }), ['ed25519', 'ecdsa-p256-sha256']),
    maxValidityMs: s.get('maxValidity', duration(), 24 * 3600_000),
    clockSkewMs: s.get('clockSkew', duration({ allowZero: true }), undefined),
    requireTag: s.get('requireTag', scalar(bool), true),
    maxBodyBytes: s.get('maxBody', size, 1024 * 1024),
  }
}
