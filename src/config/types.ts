// The validated, normalized, frozen gateway configuration. Everything here has
// been checked once by src/config/load.ts; nothing downstream re-checks shape.
// Durations are milliseconds (`…Ms`), sizes are bytes (`…Bytes`), file paths
// are absolute (relative ones in YAML are resolved against the config file).

export interface HostPort { readonly host: string; readonly port: number }

export const PROOF_ALGORITHMS = ['ES256', 'ES384', 'EdDSA', 'Ed25519', 'PS256'] as const
export type ProofAlgorithm = typeof PROOF_ALGORITHMS[number]

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent'

export interface Config {
  /** Absolute path of the file this came from (or a pseudo-name like `<demo>`). */
  readonly file: string
  readonly listen: HostPort
  readonly tls: { readonly listen: HostPort; readonly certFile: string; readonly keyFile: string } | undefined
  /** Scheme + host [+ port], no path, no trailing slash (URL.origin form). Proofs name it in `aud`/`htu`. */
  readonly publicOrigin: string
  /** http(s) origin of the protected backend; a path prefix is allowed and prepended. */
  readonly upstream: URL
  /**
   * The Host the upstream gets (like nginx `proxy_set_header Host`): `client`
   * = the client's, once validated (http/host.ts); `upstream` = the upstream
   * URL's host[:port]; or a fixed host[:port].
   */
  readonly upstreamHost: 'client' | 'upstream' | { readonly literal: string }
  readonly aclFile: string
  readonly admin: { readonly listen: HostPort } | undefined
  readonly secretsFile: string | undefined
  readonly replay: {
    readonly store: 'memory' | 'redis'
    /** redis: or rediss: URL (user, password and db in it); for `cluster` a seed node, for `sentinel` a sentinel. */
    readonly url: string | undefined
    readonly mode: 'standalone' | 'sentinel' | 'cluster'
    /** mode sentinel: the master group name the sentinels watch. */
    readonly sentinelMaster: string | undefined
    /** redis store: prepended to every key. */
    readonly keyPrefix: string
    /** Deadline for each `firstUse` (and the /readyz PING): past it, 503 replay_store_unavailable. */
    readonly timeoutMs: number
    /** memory store only: entries kept before refusing new ones (fail closed). */
    readonly maxEntries: number
  }
  readonly nonce: { readonly ttlMs: number }
  readonly proof: {
    readonly maxAgeMs: number
    readonly clockSkewMs: number
    readonly algorithms: readonly ProofAlgorithm[]
    readonly maxBytes: number
  }
  readonly keys: {
    readonly pathPrefix: string
    readonly allowHttp: readonly string[]
    readonly allowPrivateAddresses: boolean
    /** 'any' or the list of ports key URLs may name. */
    readonly allowPorts: readonly number[] | 'any'
    /** host → IP literal, like curl --resolve. */
    readonly resolve: Readonly<Record<string, string>>
    readonly caFile: string | undefined
    readonly timeoutMs: number
    readonly maxBytes: number
    readonly cacheMinTtlMs: number
    readonly cacheMaxTtlMs: number
    readonly negativeTtlMs: number
    readonly refetchCooldownMs: number
    readonly cacheMaxEntries: number
    /** Estimated heap the cached documents may keep, in all (keys/document-cache.ts). */
    readonly cacheMaxBytes: number
    /** Distinct key URLs one identity may have cached or in flight; a new one beyond this is refused. */
    readonly maxUrlsPerIdentity: number
    /** Estimated heap one identity's cached documents may keep; beyond it its own oldest go. */
    readonly maxBytesPerIdentity: number
    /** Keys kept imported as KeyObjects (~2.7 KB each); others are re-imported on use (hot-keys.ts). */
    readonly hotKeys: number
    readonly maxInFlightPerDomain: number
    readonly maxInFlight: number
  }
  // Scheme modules' sections (`dpop`, `sessions`, …) are kept beside these
  // under their own key; read one with schemes/module.ts sectionOf.
  readonly identityHeaders: {
    /** As configured, e.g. `X-PoP-`. */
    readonly prefix: string
    /** Add the signed X-PoP-Assertion (PROTOCOL.md §7; proxy/assertion.ts). */
    readonly assertion: boolean
    /** The assertion's `aud`; undefined: the upstream's origin. */
    readonly assertionAudience: string | undefined
    /** Forward the client's Authorization header upstream (default false). */
    readonly forwardAuthorization: boolean
    /** Header names (a trailing `*` makes a prefix) stripped besides the built-in list (proxy/identity-strip.ts). */
    readonly strip: readonly string[]
  }
  readonly shutdown: {
    /** How long in-flight requests and WebSockets get after SIGTERM/SIGINT; 0 cuts them at once. */
    readonly drainTimeoutMs: number
  }
  readonly cors: { readonly origins: readonly string[] }
  /** `format`: JSON lines (default) or `pretty`, one readable line per entry for a human at a terminal; read at start only. */
  readonly log: { readonly level: LogLevel; readonly access: boolean; readonly format: 'json' | 'pretty' }
  /** Peers whose X-Forwarded-* headers are believed: IP literals or CIDRs. Empty by default. */
  readonly trustedProxies: readonly string[]
  readonly timeouts: {
    readonly upstreamConnectMs: number
    readonly upstreamHeadersMs: number
    readonly upstreamBodyMs: number
    /** Node's server.headersTimeout: slowloris guard. */
    readonly clientHeadersMs: number
    /** Node's server.requestTimeout: whole request body from the client. */
    readonly clientRequestMs: number
    readonly keepAliveMs: number
  }
  readonly limits: {
    readonly maxHeaderBytes: number
    /** Request header fields (name/value pairs) before 431. */
    readonly maxHeaderCount: number
    readonly upstreamConnections: number
    /** Failed authentications per client address per minute before 429. */
    readonly failedAuthPerClientPerMinute: number
    /** Failed authentications per claimed identity per minute before 429. */
    readonly failedAuthPerIdentityPerMinute: number
    /** Distinct identity domains whose keys may be fetched per minute, in all. */
    readonly newKeyDomainsPerMinute: number
  }
}
