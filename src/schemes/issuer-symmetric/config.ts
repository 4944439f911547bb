// The `issuerSymmetric:` config section (docs/configuration.md): whether the
// gateway takes issuer tokens with `cnf.jwe` (PROTOCOL.md §4), and how many
// opened keys it keeps. Which issuers may speak, their keys, audience and
// algorithms are the `dpop:` section's (`dpop.issuers`, `dpop.algorithms`,
// `dpop.audience`): one issuer policy for both token kinds (PROTOCOL.md §3).

import { Section, bool, positiveInt, scalar } from '../../config/readers.js'

export interface IssuerSymmetricConfig {
  /** Accept `Authorization: DomainPoP-Session <issuer JWT with cnf.jwe>` + `DomainPoP-Proof`. */
  readonly enabled: boolean
  /** Opened `cnf.jwe` keys kept by token hash, each until its token's `exp` (default 10,000). */
  readonly cacheSize: number
}

export function readIssuerSymmetric(root: Section): IssuerSymmetricConfig {
  const s = root.sub('issuerSymmetric', ['enabled', 'cacheSize'])
  return {
    enabled: s.get('enabled', scalar(bool), false),
    cacheSize: s.get('cacheSize', scalar(positiveInt(1_000_000)), 10_000),
  }
}
