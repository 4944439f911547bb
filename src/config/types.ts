// The validated, normalized, frozen gateway configuration. Everything here has
// been checked once by src/config/load.ts; nothing downstream re-checks shape.
// Durations are milliseconds (`…Ms`), sizes are bytes (`…Bytes`), file paths
// are absolute (relative ones in YAML are resolved against the config file).

export interface HostPort { readonly host: string; readonly port: number }

export const PROOF_ALGORITHMS = ['ES256', 'ES384', 'EdDSA', 'Ed25519', 'PS256'] as const
export type ProofAlgorithm = typeof PROOF_ALGORITHMS[number]

/** `none`: no certificate asked for; `request`: asked for, the gate decides; `require`: a certificate that chains to `clientCa`, or 403. */
export type ClientCertificateMode = 'none' | 'request' | 'require'

export interface TlsConfig {
  readonly listen: HostPort
  readonly certFile: string
  readonly keyFile: string
  readonly clientCertificates: ClientCertificateMode
  /** PEM bundle of the CAs client certificates must chain to; required for `require`, optional for `request`. */
  readonly clientCaFile: string | undefined
  readonly http2: {
    /** ALPN `h2` besides `http/1.1` on this listener. */
    readonly enabled: boolean
    /** SETTINGS_MAX_CONCURRENT_STREAMS (RFC 9113 §6.5.2): streams one connection may have open. */
    readonly maxConcurrentStreams: number
    /** SETTINGS_MAX_HEADER_LIST_SIZE (RFC 9113 §6.5.2): the decoded header list of one request. */
    readonly maxHeaderListBytes: number
  }
}

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent'

export interface Config {
  /** Absolute path of the file this came from (or a pseudo-name like `<demo>`). */
  readonly file: string
  readonly listen: HostPort
  readonly tls: TlsConfig | undefined
  /**
   * RFC 9440 `Client-Cert` read from `trustedProxies` peers (a TLS-terminating
   * load balancer in front); undefined: the header is never read (and always stripped).
   */
  readonly forwardedClientCert: { readonly caFile: string } | undefined
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
  readonly admin: {
    readonly listen: HostPort
    /** false: a deliberate non-loopback bind (a pod IP behind a NetworkPolicy); no start-up warning. Default true. */
    readonly warnNonLoopback?: boolean
  } | undefined
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
    /** RFC 5861 §4 stale-if-error: a verified key stays usable this long past expiry while its host is down (default 1 h; absent in hand-built configs: 0). */
    readonly staleIfErrorMs?: number
    /** keys.webhook: key_first_seen events are POSTed here (keys/webhook.ts); undefined: none. */
    readonly webhook?: string | undefined
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
    /** Sign what is forwarded with an RFC 9421 HTTP Message Signature, label `popgate` (proxy/forward-signature.ts). */
    readonly signature: boolean
    /** With `signature`: the largest body read (to digest it) before forwarding; beyond it 413 body_too_large. */
    readonly signatureMaxBodyBytes: number
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
  /** OpenTelemetry traces over OTLP/HTTP (src/tracing/); undefined: off, and the request path pays one check. */
  readonly tracing: TracingConfig | undefined
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

export interface TracingConfig {
  /** The OTLP/HTTP traces URL (JSON encoding), e.g. http://collector:4318/v1/traces. */
  readonly endpoint: URL
  /** Sent with every export (an API key); never logged. */
  readonly headers: Readonly<Record<string, string>>
  /** How long one export may take before its spans are dropped (and counted). */
  readonly timeoutMs: number
  /** Share of new traces recorded, 0..1; a trusted hop's sampled flag is followed. */
  readonly sampleRatio: number
  readonly serviceName: string
}
