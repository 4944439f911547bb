// Everything a request needs, built from one validated config and swapped as
// one reference on reload (STYLE.md habit 3). Requests capture the state they
// began with, so a reload never changes a request mid-flight.

import type { Config } from '../config/types.js'
import type { Acl } from '../acl/index.js'
import type { Secrets } from '../secrets/types.js'
import type { NonceIssuer } from '../secrets/nonce.js'
import type { KeyCache, SafeFetcher } from '../keys/index.js'
import type { ReplayStore } from '../replay/types.js'
import type { KeyTrust, KeyTrustCore, PinBoard } from '../keys/trust.js'
import type { Upstream } from '../proxy/forward.js'
import type { HeaderPlan } from '../proxy/headers.js'
import type { AssertionSigner } from '../proxy/assertion.js'
import type { ForwardSigner } from '../proxy/forward-signature.js'
import type { SchemeRegistry } from '../schemes/registry.js'
import type { OwnRoutes } from '../http/own-routes.js'
import type { Logger } from '../log.js'
import type { Metrics } from '../metrics.js'
import type { AbuseLimits } from '../limits/abuse.js'
import type { Grant } from '../schemes/types.js'
import type { ModuleBuilt } from './build-state.js'
import type { DecisionSample } from '../acl/decision-sample.js'
import type { Tracing } from '../tracing/index.js'

export interface GatewayState {
  readonly config: Config
  readonly acl: Acl
  readonly secrets: Secrets
  readonly nonces: NonceIssuer
  /** Keys hosted on identities' own domains (keys/cache.ts), shared by the schemes that resolve them. */
  readonly keys: KeyCache
  /** The one safe fetcher scheme modules' document caches use (keys/fetcher.ts). */
  readonly fetcher: SafeFetcher
  readonly replay: ReplayStore
  /** The one control point for keys learnt from a domain (keys/trust.ts), with this state's ACL identities:. */
  readonly keyTrust: KeyTrust
  /** The key records and what this process accepted (kept while the replay store is). */
  readonly keyTrustCore: KeyTrustCore
  /** The pins the document readers ask before importing (one for the gateway's life). */
  readonly pinBoard: PinBoard
  readonly upstream: Upstream
  readonly headers: HeaderPlan
  /** Signs X-PoP-Assertion for authenticated requests; undefined unless identityHeaders.assertion (proxy/assertion.ts). */
  readonly assertion: AssertionSigner | undefined
  /** Signs every forwarded request (RFC 9421, label popgate); undefined unless identityHeaders.signature (proxy/forward-signature.ts). */
  readonly forwardSigner?: ForwardSigner | undefined
  /** The gateway's own documents, answered before the ACL (http/own-routes.ts). */
  readonly ownRoutes: OwnRoutes
  /** The enabled credential schemes (schemes/registry.ts). */
  readonly schemes: SchemeRegistry
  readonly abuse: AbuseLimits
  /** `cors.origins` (http/cors.ts); a rule's own list replaces it. */
  readonly cors: ReadonlySet<string>
  /** Steps after any scheme's verify that may add response fields (schemes/types.ts Grant). */
  readonly grants: readonly Grant[]
  /** What each scheme module built (schemes/module.ts): its gauges and the resources it closes. */
  readonly modules: readonly ModuleBuilt[]
  /** Recent ACL decisions, replayed against the new ACL on reload; kept across reloads. */
  readonly decisions: DecisionSample
  readonly log: Logger
  readonly metrics: Metrics
  /** OpenTelemetry tracing (src/tracing/); undefined unless `tracing` is configured: then requests pay one check. */
  readonly tracing: Tracing | undefined
  readonly now: () => number
}

/** The one mutable reference: `current` is read once at the start of each request. */
export interface StateHolder { current: GatewayState }
