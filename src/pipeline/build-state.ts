// Builds a whole GatewayState from files: config → ACL → secrets → the
// long-lived parts (key cache, replay store, upstream pool). On reload the
// previous state's long-lived parts are reused when their config section did
// not change, so caches survive and in-flight requests keep their pool.

import { loadConfigFile } from '../config/load.js'
import { loadAclFile } from '../acl/index.js'
import { loadSecrets } from '../secrets/load.js'
import { createNonceIssuer } from '../secrets/nonce.js'
import { createKeyCache } from '../keys/index.js'
import { createMemoryReplayStore } from '../replay/memory.js'
import { createRedisReplayStore } from '../replay/redis.js'
import { withDeadline } from '../replay/deadline.js'
import { createOutageLog } from '../replay/outage.js'
import { timeReplayStore } from '../replay/timed.js'
import { createUpstream } from '../proxy/forward.js'
import { compileHeaderPlan } from '../proxy/headers.js'
import type { Problem } from '../config/yaml-source.js'
import type { Config } from '../config/types.js'
import type { GatewayState } from './state.js'
import type { Logger } from '../log.js'
import type { Metrics } from '../metrics.js'
import type { ReplayStore } from '../replay/types.js'
import { createAbuseLimits } from '../limits/abuse.js'
import { createSchemeRegistry } from '../schemes/registry.js'
import { createDomainPopScheme } from '../schemes/domainpop/index.js'
import { createDpopScheme, pinnedKeys } from '../schemes/dpop/index.js'
import { createIssuerKeys, type IssuerKeys } from '../schemes/dpop/issuers.js'
import { loadPinnedSets, protectedResourceRoute, PROTECTED_RESOURCE_PATH } from '../schemes/dpop/setup.js'
import { createSafeFetcher } from '../keys/index.js'
import type { Scheme } from '../schemes/types.js'
import { NO_OWN_ROUTES, type OwnRoutes } from './own-routes.js'
import { createAssertionSigner, JWKS_PATH, type AssertionSigner } from '../proxy/assertion.js'
import { createDecisionSample } from './decision-sample.js'
import { createForwardSigner, type ForwardSigner } from '../proxy/forward-signature.js'
import { SIGNATURES_DIRECTORY_PATH } from '../proofs/http-signature/agent.js'
import { SIGNATURES_DIRECTORY_MEDIA_TYPE } from '../keys/signature-directory.js'

export interface BuildDeps {
  readonly env: Readonly<Record<string, string | undefined>>
  readonly log: Logger
  readonly metrics: Metrics
  readonly now?: () => number
  /** Replaces the configured replay store (tests). */
  readonly replay?: ReplayStore
  /** The gateway's own documents (tests; features add theirs here when they are built). */
  readonly ownRoutes?: OwnRoutes
  /** Schemes registered after the built-in ones (tests: a second scheme through the same gate). */
  readonly extraSchemes?: (parts: { readonly replay: ReplayStore; readonly now: () => number }) => readonly Scheme[]
}

export type BuildResult = { readonly state: GatewayState; readonly problems: readonly [] } | { readonly state: undefined; readonly problems: readonly Problem[] }

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b)

export async function loadState(configFile: string, deps: BuildDeps, prev?: GatewayState): Promise<BuildResult> {
  const { config, problems } = await loadConfigFile(configFile, deps.env)
  if (!config) return { state: undefined, problems }
  return buildState(config, deps, prev)
}

export async function buildState(config: Config, deps: BuildDeps, prev?: GatewayState): Promise<BuildResult> {
  const [aclResult, secretsResult] = await Promise.all([loadAclFile(config.aclFile), loadSecrets(config.secretsFile, deps.env)])
  const problems = [...aclResult.problems, ...secretsResult.problems]
  for (const feature of ['assertion', 'signature'] as const) {
    if (config.identityHeaders[feature] && secretsResult.secrets && secretsResult.secrets.assertion.length === 0) {
      problems.push({ file: config.secretsFile ?? config.file, line: 1, col: 1, path: 'assertion', message: `identityHeaders.${feature} is true but the secrets file lists no assertion keys (EC P-256 private JWKs; docs/upstream.md)` })
    }
  }
  const pinnedSets = await loadPinnedSets(config, problems)
  if (!aclResult.acl || !secretsResult.secrets || problems.length > 0) return { state: undefined, problems }
  const secrets = secretsResult.secrets
  const assertion = config.identityHeaders.assertion
    ? createAssertionSigner(secrets.assertion, { issuer: config.publicOrigin, audience: config.identityHeaders.assertionAudience ?? config.upstream.origin })
    : undefined
  const forwardSigner = config.identityHeaders.signature ? createForwardSigner(secrets.assertion, config.identityHeaders.prefix) : undefined
  const now = deps.now ?? Date.now

  const nonces = createNonceIssuer(secrets.nonce, { ttlMs: config.nonce.ttlMs, clockSkewMs: config.proof.clockSkewMs })
  const abuse = prev && same(prev.config.limits, config.limits) ? prev.abuse : createAbuseLimits(config.limits, (scope) => deps.metrics.inc('popgate_rate_limited_total', { scope }))
  // The cache is kept across reloads while its config (and the budget it reports to) is unchanged.
  const keys = prev && same(prev.config.keys, config.keys) && prev.abuse === abuse ? prev.keys : createKeyCache(config.keys, {
    now,
    onFetch: (_url, outcome, ms) => {
      deps.metrics.inc('popgate_key_fetches_total', { outcome })
      deps.metrics.observe('popgate_key_fetch_duration_seconds', { outcome }, ms / 1e3)
    },
    onKeyImport: () => deps.metrics.inc('popgate_key_reimports_total'),
    beforeFetch: (identity) => abuse.newDomains.admit(identity, now()),
    // Each refusal is a 401 that counts as a failed authentication, so these
    // lines are bounded per identity by failedAuthPerIdentityPerMinute.
    onRefused: (reason, identity) => {
      deps.metrics.inc('popgate_key_fetches_refused_total', { reason })
      deps.log.warn({ identity, reason }, 'key fetch refused by the key cache')
    },
  })
  const replay = prev && same(prev.config.replay, config.replay) ? prev.replay : createReplayStore(config, deps)
  const issuerKeys = !config.dpop.enabled ? undefined
    : prev?.issuerKeys && same(prev.config.keys, config.keys) && prev.abuse === abuse ? prev.issuerKeys : createIssuerKeysFor(config, deps, abuse, now)
  const replayTtlMs = config.proof.maxAgeMs + 2 * config.proof.clockSkewMs + 1_000
  const upstreamKey = (c: Config) => [c.upstream.href, c.timeouts, c.limits]
  const upstream = prev && same(upstreamKey(prev.config), upstreamKey(config)) ? prev.upstream : createUpstream(config)

  const schemes = createSchemeRegistry([
    createDomainPopScheme({
      proof: { publicOrigin: config.publicOrigin, proof: config.proof, keys: config.keys, nonces },
      keys,
      replay,
      // +1 s: the iat check is inclusive at both edges, the store's expiry is not.
      replayTtlMs,
      nonces,
      now,
      onReplay: () => deps.metrics.inc('popgate_replays_total'),
    }),
    ...(issuerKeys ? [createDpopScheme({
      publicOrigin: config.publicOrigin,
      dpop: config.dpop,
      pinned: pinnedKeys(config.dpop.issuers, pinnedSets),
      proof: config.proof,
      allowPorts: config.keys.allowPorts,
      issuerKeys,
      replay,
      replayTtlMs,
      nonces,
      now,
      onReplay: () => deps.metrics.inc('popgate_replays_total'),
      resourceMetadata: config.publicOrigin + PROTECTED_RESOURCE_PATH,
    })] : []),
    ...(deps.extraSchemes?.({ replay, now }) ?? []),
  ], { maxCredentialBytes: config.proof.maxBytes })

  const state: GatewayState = {
    config,
    acl: aclResult.acl,
    secrets,
    nonces,
    keys,
    replay,
    upstream,
    headers: compileHeaderPlan(config, schemes.ownedFields ?? []),
    schemes,
    assertion,
    forwardSigner,
    ownRoutes: ownRoutes(config.dpop.enabled ? new Map([...(deps.ownRoutes ?? []), protectedResourceRoute(config)]) : deps.ownRoutes, assertion, forwardSigner),
    issuerKeys,
    abuse,
    decisions: prev?.decisions ?? createDecisionSample(),
    log: deps.log,
    metrics: deps.metrics,
    now,
  }
  return { state, problems: [] }
}

/** The gateway's own documents: the assertion JWKS and the forward-signature directory when those are on, plus any a test hands in. */
function ownRoutes(given: OwnRoutes | undefined, assertion: AssertionSigner | undefined, forwardSigner: ForwardSigner | undefined): OwnRoutes {
  if (!assertion && !forwardSigner) return given ?? NO_OWN_ROUTES
  const routes = new Map(given ?? [])
  // Short max-age: a rotated-in key reaches caches soon (jose also refetches on an unknown kid).
  if (assertion) routes.set(JWKS_PATH, { contentType: 'application/jwk-set+json', body: assertion.jwks, cacheControl: 'public, max-age=300' })
  if (forwardSigner) routes.set(SIGNATURES_DIRECTORY_PATH, { contentType: SIGNATURES_DIRECTORY_MEDIA_TYPE, body: forwardSigner.directory, cacheControl: 'public, max-age=300' })
  return routes
}

/** The DPoP issuers' metadata and key sets, on their own safe fetcher, with the key cache's budget and metrics. */
function createIssuerKeysFor(config: Config, deps: BuildDeps, abuse: GatewayState['abuse'], now: () => number): IssuerKeys {
  const fetcher = createSafeFetcher(config.keys)
  const keys = createIssuerKeys(config.keys, {
    fetch: (request, signal) => fetcher.fetch(request, signal),
    now,
    onFetch: (_url, outcome, ms) => {
      deps.metrics.inc('popgate_key_fetches_total', { outcome })
      deps.metrics.observe('popgate_key_fetch_duration_seconds', { outcome }, ms / 1e3)
    },
    beforeFetch: (identity) => abuse.newDomains.admit(identity, now()),
    onRefused: (reason, identity) => {
      deps.metrics.inc('popgate_key_fetches_refused_total', { reason })
      deps.log.warn({ identity, reason }, 'issuer key fetch refused by the key cache')
    },
  })
  return { keyFor: keys.keyFor, close: async () => { await keys.close(); await fetcher.close() } }
}

/**
 * The configured store (or the test's), behind a per-call deadline and timed
 * as the request sees it; its outages are logged once each and counted.
 */
function createReplayStore(config: Config, deps: BuildDeps): ReplayStore {
  const c = config.replay
  const outages = createOutageLog(deps.log, (reason) => deps.metrics.inc('popgate_replay_store_errors_total', { reason }), deps.replay ? 'injected' : c.store)
  const store = deps.replay ?? (c.store === 'redis' ? createRedisReplayStore(c, outages) : createMemoryReplayStore({ maxEntries: c.maxEntries }))
  const bounded = withDeadline(store, { timeoutMs: c.timeoutMs, outages, closeInner: deps.replay === undefined })
  return timeReplayStore(bounded, (result, seconds) => deps.metrics.observe('popgate_replay_store_duration_seconds', { result }, seconds))
}

/** Closes what `next` no longer uses from `prev` (after in-flight requests drain). */
export async function releaseUnused(prev: GatewayState, next: GatewayState | undefined): Promise<void> {
  const tasks: Promise<unknown>[] = []
  if (prev.upstream !== next?.upstream) tasks.push(prev.upstream.pool.close())
  if (prev.keys !== next?.keys) tasks.push(prev.keys.close())
  if (prev.issuerKeys !== undefined && prev.issuerKeys !== next?.issuerKeys) tasks.push(prev.issuerKeys.close())
  if (prev.replay !== next?.replay) tasks.push(prev.replay.close())
  await Promise.allSettled(tasks)
}
