// The issuer-symmetric folder's module (schemes/module.ts): its
// `issuerSymmetric:` section, the gateway's encryption keys published with
// `use: "enc"` in the gateway's JWK Set, and the scheme. The issuer policy
// (which issuers, their keys, audience, algorithms) is the `dpop:` section's,
// read here so a domain's issuer is trusted the same way for both token kinds
// (PROTOCOL.md §3, §4); the issuer-key cache is this module's own, on the
// shared safe fetcher, kept across reloads while the fetch policy holds.

import type { Problem } from '../../config/yaml-source.js'
import type { Built, SchemeModule, Shared } from '../module.js'
import { sectionOf } from '../module.js'
import { dpopModule } from '../dpop/module.js'
import { pinnedKeys } from '../dpop/index.js'
import { createIssuerKeys, type IssuerKeys } from '../dpop/issuers.js'
import { loadPinnedSets } from '../dpop/setup.js'
import type { DpopConfig } from '../dpop/config.js'
import { readIssuerSymmetric, type IssuerSymmetricConfig } from './config.js'
import { createIssuerSymmetricScheme, ISSUER_SYMMETRIC } from './index.js'

interface IssuerSymmetricBuilt extends Built { readonly issuerKeys?: IssuerKeys }

export const issuerSymmetricModule: SchemeModule<IssuerSymmetricConfig> = {
  name: 'issuer-symmetric',
  schemeNames: [ISSUER_SYMMETRIC],
  section: 'issuerSymmetric',
  read: readIssuerSymmetric,

  async build(cfg, shared, prev) {
    if (!cfg.enabled) return { schemes: [] }
    const encryptionKeys = shared.secrets.encryption ?? []
    const file = shared.config.secretsFile ?? shared.config.file
    if (encryptionKeys.length === 0) {
      return { problems: [{ file, line: 1, col: 1, path: 'encryption', message: 'issuerSymmetric.enabled is true but the secrets file lists no encryption keys (EC P-256 private JWKs issuers encrypt cnf.jwe to; docs/configuration.md)' }] }
    }
    const dpop = sectionOf(shared.config, dpopModule) as DpopConfig
    const problems: Problem[] = []
    // Pinned issuers' files are read whether or not DPoP itself is on.
    const pinnedSets = await loadPinnedSets({ ...dpop, enabled: true }, shared.config.file, problems)
    if (problems.length > 0) return { problems }
    const old = (prev?.built as IssuerSymmetricBuilt | undefined)?.issuerKeys
    const issuerKeys = old !== undefined && prev!.sameFetchPolicy ? old : createIssuerKeys(shared.config.keys, { fetch: shared.outbound.fetch, ...shared.outbound.hooks('issuer key') })
    const scheme = createIssuerSymmetricScheme({
      publicOrigin: shared.publicOrigin,
      dpop,
      pinned: pinnedKeys(dpop.issuers, pinnedSets),
      proof: shared.proof,
      allowPorts: shared.config.keys.allowPorts,
      issuerKeys,
      encryptionKeys,
      replay: shared.replay('issuer-symmetric'),
      now: shared.now,
      cacheSize: cfg.cacheSize,
      // The ticket scheme already announces DomainPoP-Session in a bare 401.
      announce: !(shared.config as unknown as { sessions?: { tickets?: { enabled?: boolean } } }).sessions?.tickets?.enabled,
    })
    const built: IssuerSymmetricBuilt = {
      schemes: [scheme],
      jwks: encryptionKeys.map((k) => k.publicJwk),
      resources: [issuerKeys],
      issuerKeys,
      cacheEntries: (limit) => issuerKeys.list?.(limit) ?? [],
    }
    return built
  },
}
