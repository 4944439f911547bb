// Everything a request needs, built from one validated config and swapped as
// one reference on reload (STYLE.md habit 3). Requests capture the state they
// began with, so a reload never changes a request mid-flight.

import type { Config } from '../config/types.js'
import type { Acl } from '../acl/index.js'
import type { Secrets } from '../secrets/types.js'
import type { NonceIssuer } from '../secrets/nonce.js'
import type { KeyCache } from '../keys/index.js'
import type { ReplayStore } from '../replay/types.js'
import type { Upstream } from '../proxy/forward.js'
import type { HeaderPlan } from '../proxy/headers.js'
import type { AssertionSigner } from '../proxy/assertion.js'
import type { ForwardSigner } from '../proxy/forward-signature.js'
import type { SchemeRegistry } from '../schemes/registry.js'
import type { OwnRoutes } from './own-routes.js'
import type { Logger } from '../log.js'
import type { Metrics } from '../metrics.js'
import type { AbuseLimits } from '../limits/abuse.js'
import type { IssuerKeys } from '../schemes/dpop/issuers.js'
import type { DecisionSample } from './decision-sample.js'

export interface GatewayState {
  readonly config: Config
  readonly acl: Acl
  readonly secrets: Secrets
  readonly nonces: NonceIssuer
  readonly keys: KeyCache
  readonly replay: ReplayStore
  readonly upstream: Upstream
  readonly headers: HeaderPlan
  /** Signs X-PoP-Assertion for authenticated requests; undefined unless identityHeaders.assertion (proxy/assertion.ts). */
  readonly assertion: AssertionSigner | undefined
  /** Signs every forwarded request (RFC 9421, label popgate); undefined unless identityHeaders.signature (proxy/forward-signature.ts). */
  readonly forwardSigner?: ForwardSigner | undefined
  /** The gateway's own documents, answered before the ACL (pipeline/own-routes.ts). */
  readonly ownRoutes: OwnRoutes
  /** The enabled credential schemes (schemes/registry.ts). */
  readonly schemes: SchemeRegistry
  readonly abuse: AbuseLimits
  /** DPoP issuers' metadata and key sets; undefined unless dpop.enabled (schemes/dpop/issuers.ts). */
  readonly issuerKeys?: IssuerKeys | undefined
  /** Recent ACL decisions, replayed against the new ACL on reload; kept across reloads. */
  readonly decisions: DecisionSample
  readonly log: Logger
  readonly metrics: Metrics
  readonly now: () => number
}

/** The one mutable reference: `current` is read once at the start of each request. */
export interface StateHolder { current: GatewayState }
