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
import { createSafeFetcher } from '../keys/index.js'
import { ASSURANCES, type Grant, type Scheme } from '../schemes/types.js'
import type { SchemeRegistry } from '../schemes/registry.js'
import type { Acl } from '../acl/index.js'
import { SCHEME_MODULES } from '../schemes/index.js'
import type { Built, Closeable, FetchHooks, SchemeModule, Shared } from '../schemes/module.js'
import { sectionOf } from '../schemes/module.js'
import { namespacedReplay } from '../schemes/replay.js'
import { NO_OWN_ROUTES, type OwnRoute, type OwnRoutes } from '../http/own-routes.js'
import { createAssertionSigner, JWKS_PATH, type AssertionSigner } from '../proxy/assertion.js'
import { createDecisionSample } from '../acl/decision-sample.js'
import { createTracing } from '../tracing/index.js'
import { createForwardSigner, type ForwardSigner } from '../proxy/forward-signature.js'
import { SIGNATURES_DIRECTORY_PATH } from '../proofs/http-signature/agent.js'
import { SIGNATURES_DIRECTORY_MEDIA_TYPE } from '../keys/signature-directory.js'
import { createKeyTrust, createKeyTrustCore, createPinBoard, type KeyTrustCore, type PinBoard } from '../keys/trust.js'
import { createMemoryKnownKeys } from '../keys/known-keys.js'
import { createRedisKnownKeys } from '../keys/known-keys-redis.js'
import { createKeyWebhook } from '../keys/webhook.js'

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
  /** The scheme modules (default: schemes/index.ts SCHEME_MODULES); their config sections are read with the file. */
  readonly modules?: readonly SchemeModule<any>[] // eslint-disable-line @typescript-eslint/no-explicit-any
}

export type BuildResult = { readonly state: GatewayState; readonly problems: readonly [] } | { readonly state: undefined; readonly problems: readonly Problem[] }

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b)

export async function loadState(configFile: string, deps: BuildDeps, prev?: GatewayState): Promise<BuildResult> {
  const { config, problems } = await loadConfigFile(configFile, deps.env, deps.modules ?? SCHEME_MODULES)
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
  if (!aclResult.acl || !secretsResult.secrets || problems.length > 0) return { state: undefined, problems }
  const secrets = secretsResult.secrets
  const assertion = config.identityHeaders.assertion
    ? createAssertionSigner(secrets.assertion, { issuer: config.publicOrigin, audience: config.identityHeaders.assertionAudience ?? config.upstream.origin })
    : undefined
  const forwardSigner = config.identityHeaders.signature ? createForwardSigner(secrets.assertion, config.identityHeaders.prefix) : undefined
  const now = deps.now ?? Date.now

  const nonces = createNonceIssuer(secrets.nonce, { ttlMs: config.nonce.ttlMs, clockSkewMs: config.proof.clockSkewMs })
  const abuse = prev && same(prev.config.limits, config.limits) ? prev.abuse : createAbuseLimits(config.limits, (scope) => deps.metrics.inc('popgate_rate_limited_total', { scope }))
  // Document caches and the fetcher are kept across reloads while the fetch policy (and the budget it reports to) is unchanged.
  const sameFetchPolicy = prev !== undefined && same(prev.config.keys, config.keys) && prev.abuse === abuse
  // The pins the document readers ask before importing: one board for the gateway's life, set from each ACL built.
  const pinBoard: PinBoard = prev?.pinBoard ?? createPinBoard()
  const hooks = fetchHooks(deps, abuse, now, pinBoard)
  const fetcher = sameFetchPolicy ? prev.fetcher : createSafeFetcher(config.keys)
  const keys = sameFetchPolicy ? prev.keys : createKeyCache(config.keys, {
    ...hooks('key'),
    onKeyImport: () => deps.metrics.inc('popgate_key_reimports_total'),
  })
  const replay = prev && same(prev.config.replay, config.replay) ? prev.replay : createReplayStore(config, deps)
  // The key records live where the replay store does (memory, or Redis so that replicas agree).
  const keyTrustCore = prev && replay === prev.replay ? prev.keyTrustCore : createKeyTrustCore(
    config.replay.store === 'redis' && !deps.replay ? createRedisKnownKeys(config.replay) : createMemoryKnownKeys())
  const webhookUrl = config.keys.webhook
  const keyTrust = createKeyTrust({
    core: keyTrustCore,
    policies: aclResult.acl.identities,
    now,
    log: deps.log,
    metrics: deps.metrics,
    webhook: webhookUrl === undefined ? undefined : createKeyWebhook({
      url: webhookUrl,
      fetch: (request, signal) => fetcher.fetch(request, signal),
      onOutcome: (outcome, code) => {
        deps.metrics.inc('popgate_key_webhook_total', { outcome })
        if (outcome !== 'delivered') deps.log.warn({ outcome, code }, 'key_first_seen webhook not delivered')
      },
    }),
  })
  const upstreamKey = (c: Config) => [c.upstream.href, c.timeouts, c.limits]
  const upstream = prev && same(upstreamKey(prev.config), upstreamKey(config)) ? prev.upstream : createUpstream(config)
  const tracing = !config.tracing ? undefined : prev?.tracing && same(prev.config.tracing, config.tracing) ? prev.tracing
    : createTracing(config.tracing, { log: deps.log, dropped: (n) => deps.metrics.add('popgate_spans_dropped_total', n) })

  // Each module gets the shared collaborators; a replay namespace belongs to the first module that asks.
  const namespaces = new Map<string, string>()
  const replayTtlMs = config.proof.maxAgeMs + 2 * config.proof.clockSkewMs + 1_000
  const sharedFor = (m: SchemeModule): Shared => ({
    config,
    publicOrigin: config.publicOrigin,
    proof: { ...config.proof, replayTtlMs },
    nonces,
    aclRevocations: aclResult.acl?.revoke ?? new Map(),
    secrets,
    replay(namespace) {
      const owner = namespaces.get(namespace)
      if (owner !== undefined && owner !== m.name) throw new Error(`replay namespace ${namespace} is ${owner}'s, not ${m.name}'s`)
      namespaces.set(namespace, m.name)
      return namespacedReplay(replay, namespace, replayTtlMs, () => deps.metrics.inc('popgate_replays_total'))
    },
    identityKeys: keys,
    keyTrust,
    outbound: { fetch: (request, signal) => fetcher.fetch(request, signal), hooks },
    now,
    metrics: deps.metrics,
    log: deps.log,
  })
  const modules = deps.modules ?? SCHEME_MODULES
  const built: ModuleBuilt[] = []
  for (const m of modules) {
    const cfg = sectionOf(config, m)
    const before = prev?.modules.find((b) => b.module === m)
    const result = await m.build(cfg, sharedFor(m), before && { cfg: before.cfg, built: before.built, sameFetchPolicy })
    if ('problems' in result) problems.push(...result.problems)
    else built.push({ module: m, cfg, built: result })
  }
  // Nothing of a refused build is used: close what it opened and the previous state does not hold.
  const abandon = async (list: readonly Problem[]): Promise<BuildResult> => {
    const opened: Closeable[] = [...built.flatMap((b) => b.built.resources ?? []), keys, fetcher, replay, keyTrustCore]
    if (upstream !== prev?.upstream) opened.push({ close: () => upstream.pool.close() })
    const held: Closeable[] = prev ? [...prev.modules.flatMap((b) => b.built.resources ?? []), prev.keys, prev.fetcher, prev.replay, prev.keyTrustCore] : []
    await releaseResources(opened, held)
    return { state: undefined, problems: list }
  }
  if (problems.length > 0) return abandon(problems)

  const schemes = createSchemeRegistry([
    ...built.flatMap((b) => b.built.schemes),
    ...(deps.extraSchemes?.({ replay, now }) ?? []),
  ], { maxCredentialBytes: config.proof.maxBytes })
  const requireProblems = unknownRequirements(aclResult.acl, schemes)
  if (requireProblems.length > 0) return abandon(requireProblems)
  const grants: Grant[] = built.flatMap((b) => b.built.grants ?? [])
  const routes = new Map<string, OwnRoute>(deps.ownRoutes ?? [])
  for (const b of built) for (const [path, route] of b.built.routes ?? []) {
    if (routes.has(path)) throw new Error(`two own routes at ${path} (${b.module.name})`)
    routes.set(path, route)
  }

  // The readers enforce this ACL's pins from now on (trust.ts still checks every key against the state's own).
  pinBoard.set(aclResult.acl.identities)
  const state: GatewayState = {
    config,
    acl: aclResult.acl,
    secrets,
    nonces,
    keys,
    fetcher,
    replay,
    keyTrust,
    keyTrustCore,
    pinBoard,
    upstream,
    // Credential fields never forwarded: the enabled schemes' own, and every module's (even one switched off).
    headers: compileHeaderPlan(config, [...(schemes.ownedFields ?? []), ...modules.flatMap((m) => m.credentialFields ?? [])], schemes.ownedCookies),
    schemes,
    grants,
    modules: built,
    assertion,
    forwardSigner,
    ownRoutes: ownRoutes(routes.size > 0 ? routes : undefined, assertion, forwardSigner, built.flatMap((b) => b.built.jwks ?? [])),
    abuse,
    cors: new Set(config.cors.origins),
    decisions: prev?.decisions ?? createDecisionSample(),
    log: deps.log,
    metrics: deps.metrics,
    tracing,
    now,
  }
  return { state, problems: [] }
}

/** A rule's `require:` naming neither an enabled scheme nor an assurance can never be met: refused at load, at its line. */
function unknownRequirements(acl: Acl, schemes: SchemeRegistry): Problem[] {
  const out: Problem[] = []
  for (const rule of acl.rules) {
    for (const r of rule.require) {
      if ((ASSURANCES as readonly string[]).includes(r) || schemes.byName(r) !== undefined) continue
      out.push({ file: acl.file, line: rule.pos.line, col: rule.pos.col, path: `rules[${rule.index}].require`, message: `${r} is neither an enabled scheme (${schemes.schemes.map((s) => s.name).join(', ')}) nor an assurance (${ASSURANCES.join(', ')})` })
    }
  }
  return out
}

/** What one module built for a state, with the section it was built from (reused on reload). */
export interface ModuleBuilt { readonly module: SchemeModule; readonly cfg: unknown; readonly built: Built }

/** Fetch hooks for one document cache: fetch metrics, the new-domain budget, refusals counted and logged. */
function fetchHooks(deps: BuildDeps, abuse: GatewayState['abuse'], now: () => number, pins: PinBoard): (what: string) => FetchHooks {
  return (what) => ({
    now,
    pinsFor: pins.lookup,
    // RFC 5861 §4: counted on every use, logged once per outage of a document.
    onStale: (owner, url, first) => {
      deps.metrics.inc('popgate_keys_stale_served_total', { cache: what })
      if (first) deps.log.warn({ identity: owner, url }, `${what} host unreachable or failing: serving the key that verified before (keys.staleIfError)`)
    },
    onFetch: (_url, outcome, ms) => {
      deps.metrics.inc('popgate_key_fetches_total', { outcome })
      deps.metrics.observe('popgate_key_fetch_duration_seconds', { outcome }, ms / 1e3)
      if (what.startsWith('issuer')) deps.metrics.inc('popgate_issuer_fetches_total', { outcome })
    },
    beforeFetch: (owner) => abuse.newDomains.admit(owner, now()),
    // Each refusal is a 401 that counts as a failed authentication, so these
    // lines are bounded per identity by failedAuthPerIdentityPerMinute.
    onRefused: (reason, owner, client) => {
      deps.metrics.inc('popgate_key_fetches_refused_total', { reason })
      deps.log.warn({ identity: owner, client, reason }, `${what} fetch refused by the key cache`)
    },
  })
}

/** The gateway's own documents: the assertion JWKS and the forward-signature directory when those are on, plus the modules' routes. */
// The JWK Set holds the assertion keys (when assertions are on) and the modules' published keys (`Built.jwks`: cnf.jwe encryption keys).
function ownRoutes(given: OwnRoutes | undefined, assertion: AssertionSigner | undefined, forwardSigner: ForwardSigner | undefined, moduleJwks: readonly object[] = []): OwnRoutes {
  if (!assertion && !forwardSigner && moduleJwks.length === 0) return given ?? NO_OWN_ROUTES
  const routes = new Map(given ?? [])
  // Short max-age: a rotated-in key reaches caches soon (jose also refetches on an unknown kid).
  if (assertion || moduleJwks.length > 0) {
    const keys = [...(assertion ? (JSON.parse(assertion.jwks) as { keys: object[] }).keys : []), ...moduleJwks]
    routes.set(JWKS_PATH, { contentType: 'application/jwk-set+json', body: JSON.stringify({ keys }), cacheControl: 'public, max-age=300' })
  }
  if (forwardSigner) routes.set(SIGNATURES_DIRECTORY_PATH, { contentType: SIGNATURES_DIRECTORY_MEDIA_TYPE, body: forwardSigner.directory, cacheControl: 'public, max-age=300' })
  return routes
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
  if (prev.fetcher !== next?.fetcher) tasks.push(prev.fetcher.close())
  if (prev.replay !== next?.replay) tasks.push(prev.replay.close())
  if (prev.keyTrustCore !== next?.keyTrustCore) tasks.push(prev.keyTrustCore.close())
  tasks.push(releaseResources(prev.modules.flatMap((b) => b.built.resources ?? []), next?.modules.flatMap((b) => b.built.resources ?? []) ?? []))
  await Promise.allSettled(tasks)
}

/** Closes each of `old` that `kept` does not list again. */
async function releaseResources(old: readonly Closeable[], kept: readonly Closeable[]): Promise<void> {
  const keep = new Set(kept)
  await Promise.allSettled(old.filter((r) => !keep.has(r)).map((r) => r.close()))
}
