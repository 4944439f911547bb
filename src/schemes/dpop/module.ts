// The DPoP folder's module (schemes/module.ts): its `dpop:` section, its
// issuer-key cache on the shared safe fetcher (kept across reloads while the
// fetch policy is unchanged), pinned issuers' JWK Sets read from disk, the
// RFC 9728 protected-resource metadata route, the introspector of the issuer
// that answers for opaque tokens (introspection/; one per state: a reload
// starts its cache empty), and the scheme itself.

import type { Problem } from '../../config/yaml-source.js'
import type { Built, SchemeModule, Shared } from '../module.js'
import { readDpop, type DpopConfig } from './config.js'
import { canonicalPinned, createDpopScheme, pinnedKeys } from './index.js'
import { buildIntrospection } from './introspection/setup.js'
import { createIssuerKeys, type IssuerKeys } from './issuers.js'
import { loadPinnedSets, protectedResourceRoute, PROTECTED_RESOURCE_PATH } from './setup.js'

/** What the DPoP module built: its issuer keys are reused by the next build while the fetch policy holds. */
interface DpopBuilt extends Built { readonly issuerKeys?: IssuerKeys }

export const dpopModule: SchemeModule<DpopConfig> = {
  name: 'dpop',
  section: 'dpop',
  credentialFields: ['dpop'],
  read: readDpop,

  async build(cfg, shared, prev) {
    if (!cfg.enabled) return { schemes: [] }
    const problems: Problem[] = []
    const pinnedSets = await loadPinnedSets(cfg, shared.config.file, problems)
    const introspection = await buildIntrospection(cfg, shared, problems, canonicalPinned)
    if (problems.length > 0) {
      await introspection?.introspector.close()
      return { problems }
    }
    const old = (prev?.built as DpopBuilt | undefined)?.issuerKeys
    const issuerKeys = old !== undefined && prev!.sameFetchPolicy ? old : issuerKeysOn(shared)
    const scheme = createDpopScheme({
      publicOrigin: shared.publicOrigin,
      dpop: cfg,
      pinned: pinnedKeys(cfg.issuers, pinnedSets),
      proof: shared.proof,
      allowPorts: shared.config.keys.allowPorts,
      issuerKeys,
      keyTrust: shared.keyTrust,
      replay: shared.replay('dpop'),
      nonces: shared.nonces,
      now: shared.now,
      resourceMetadata: shared.publicOrigin + PROTECTED_RESOURCE_PATH,
      ...(introspection !== undefined ? { introspection } : {}),
    })
    const built: DpopBuilt = {
      schemes: [scheme],
      routes: new Map([protectedResourceRoute(cfg, shared.publicOrigin)]),
      resources: introspection !== undefined ? [issuerKeys, introspection.introspector] : [issuerKeys],
      issuerKeys,
      cacheEntries: (limit) => issuerKeys.list?.(limit) ?? [],
    }
    return built
  },
}

/** The DPoP issuers' metadata and key sets, on the shared safe fetcher, with the key cache's budget and metrics. */
function issuerKeysOn(shared: Shared): IssuerKeys {
  return createIssuerKeys(shared.config.keys, { fetch: shared.outbound.fetch, ...shared.outbound.hooks('issuer key') })
}
