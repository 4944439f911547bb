// What each scheme folder exports: a SchemeModule that owns the folder's
// config section (reader and types), builds its schemes and grants from the
// collaborators every scheme shares, publishes its own routes and gauges,
// and closes what it opened. src/schemes/index.ts lists the modules; the
// state assembly (assembly/build-state.ts) loops over that list and knows
// no scheme by name (docs/architecture.md, "Adding a credential scheme").

import type { Section } from '../config/readers.js'
import type { Config } from '../config/types.js'
import type { Problem } from '../config/yaml-source.js'
import type { OwnRoute } from '../http/own-routes.js'
import type { CacheEntryView, FetchOne, KeyCache, PinLookup, RefusalReason } from '../keys/index.js'
import type { KeyTrust } from '../keys/trust.js'
import type { Logger } from '../log.js'
import type { Metrics } from '../metrics.js'
import type { NonceIssuer } from '../secrets/nonce.js'
import type { Secrets } from '../secrets/types.js'
import type { Grant, Scheme } from './types.js'

export interface SchemeModule<Cfg = unknown> {
  /** The folder's name; unique, lowercase. */
  readonly name: string
  /** The names of the schemes it can build (what a rule's `require:` may name; `acl lint` checks); default `[name]`. */
  readonly schemeNames?: readonly string[]
  /** The top-level config key this module owns (undefined: none); `read` reads it. */
  readonly section?: string
  /**
   * Request fields (lowercase) the module's credentials travel in: never
   * forwarded upstream (even while the module is switched off) and never
   * shown in a log line. Static: the logger exists before any config is read.
   */
  readonly credentialFields?: readonly string[]
  /**
   * Reads and validates its section from the config root (`root.sub(section,
   * keys)`); problems are reported through the Section with file:line, like
   * every core section. Pure. The value is kept frozen in the Config under
   * `section` (read it back with `sectionOf`). Required when `section` is set.
   */
  read?(root: Section): Cfg
  /**
   * Things its valid section may do that an operator should hear about, read
   * against the whole config (config/warnings.ts: `check` prints them, `serve`
   * logs each at start). Pure.
   */
  warnings?(cfg: Cfg, config: Config): readonly string[]
  /**
   * Builds what it serves for one config. `prev` is what it built for the
   * state being replaced (a reload): reuse caches from it when `cfg` and the
   * fetch policy did not change. Files it reads (pinned key sets) are
   * reported as problems and the state is not built.
   */
  build(cfg: Cfg, shared: Shared, prev: Previous<Cfg> | undefined): Promise<Built | { readonly problems: readonly Problem[] }>
}

/** What one module built for one state. */
export interface Built {
  /** Its schemes, in the order their challenges are listed (none: switched off). */
  readonly schemes: readonly Scheme[]
  /** Steps run after any scheme's verify: they may add response fields (a ticket, a Set-Cookie). */
  readonly grants?: readonly Grant[]
  /** Its own documents, answered before the ACL (GET/HEAD on exact paths; http/own-routes.ts). */
  readonly routes?: ReadonlyMap<string, OwnRoute>
  /**
   * Public JWKs it publishes in the gateway's own JWK Set
   * (`<publicOrigin>/.well-known/popgate/jwks.json`, beside the assertion
   * keys): the `use: "enc"` keys issuers encrypt `cnf.jwe` to (PROTOCOL.md §4).
   */
  readonly jwks?: readonly object[]
  /** Its gauges for /metrics, read at scrape time; names start `popgate_`. */
  gauges?(): readonly Gauge[]
  /** Up to `limit` entries of its document caches (issuer metadata, key sets), most recently used first: the admin page's cache table. */
  cacheEntries?(limit: number): readonly CacheEntryView[]
  /**
   * What it opened and must close (caches, fetchers). On reload, a resource
   * the next state's Built lists again (the same object) is kept; the others
   * are closed once in-flight requests have drained.
   */
  readonly resources?: readonly Closeable[]
}

export interface Closeable { close(): Promise<void> }

export interface Gauge { readonly name: string; readonly help: string; readonly value: number }

/** What a module built last time, for reuse on reload. */
export interface Previous<Cfg> {
  readonly cfg: Cfg
  readonly built: Built
  /** The safe fetcher and its budget (keys config, abuse windows) are the ones `prev` was built with: document caches may be kept. */
  readonly sameFetchPolicy: boolean
}

/** The collaborators every scheme shares; built once per state by the assembly. */
export interface Shared {
  /** The core config (publicOrigin, proof, nonce, keys, limits…), never another module's section. */
  readonly config: Config
  readonly publicOrigin: string
  /** The proof window every proof-of-possession scheme checks `iat` against (config `proof:`). */
  readonly proof: Config['proof'] & {
    /** How long a used jti is kept: the whole iat window, both skews, +1 s (the check is inclusive at both edges, the store's expiry is not). */
    readonly replayTtlMs: number
  }
  /** The gateway's nonces (secrets/nonce.ts). */
  readonly nonces: NonceIssuer
  /** The ACL's `revoke:` map (identity → not-before ms for its session tickets and cookies; acl/revoke.ts). */
  readonly aclRevocations: ReadonlyMap<string, number>
  readonly secrets: Secrets
  /**
   * The replay store, with every key prefixed by `namespace` + LF; a
   * namespace belongs to the first module that asks for it (another asking
   * throws), so two schemes' keys never collide. Counts replays. Keep the
   * namespace stable: a used jti must stay used across reloads and upgrades.
   */
  replay(namespace: string): SchemeReplay
  /** Keys hosted on an identity's own domain (PROTOCOL.md §2.4; keys/cache.ts), shared by the schemes that resolve them. */
  readonly identityKeys: KeyCache
  /**
   * The one control point where a key learnt from a domain is accepted for an
   * identity (keys/trust.ts): checkPin before a key named by thumbprint is
   * fetched, admit after its signature verified. Every scheme that verifies
   * with a domain's key goes through it.
   */
  readonly keyTrust: KeyTrust
  /** Outbound documents: the one safe fetcher and the one new-domain budget and fetch metrics. */
  readonly outbound: Outbound
  readonly now: () => number
  readonly metrics: Metrics
  readonly log: Logger
}

export interface SchemeReplay {
  /** True the first time `key` is seen within `ttlMs` (default: `proof.replayTtlMs`); false (and counted) for a replay. */
  firstUse(key: string, ttlMs?: number): Promise<boolean>
}

export interface Outbound {
  /** The safe fetcher (keys/fetcher.ts): address policy, deadline, no redirects, body cap. */
  readonly fetch: FetchOne
  /** Hooks for a document cache (keys/document-cache.ts): the clock, fetch metrics, the new-domain budget and refusal logging; `what` names the cache in log lines. */
  hooks(what: string): FetchHooks
}

export interface FetchHooks {
  readonly now: () => number
  readonly onFetch: (url: string, outcome: string, ms: number) => void
  readonly beforeFetch: (owner: string) => void
  /** `client`: the address the refused fetch was charged to (issue 19), named in the log line. */
  readonly onRefused: (reason: RefusalReason, owner: string, client: string) => void
  /** The identities' pins (keys/trust.ts): a reader imports no key they do not list. */
  readonly pinsFor: PinLookup
  /** A verified document served stale through its host's outage (keys.staleIfError): counted, logged once per outage. */
  readonly onStale: (owner: string, url: string, first: boolean) => void
}

/** A module's section as `read` returned it (kept in the frozen Config under `module.section`). */
export function sectionOf<Cfg>(config: Config, module: SchemeModule<Cfg>): Cfg {
  if (module.section === undefined) return undefined as Cfg
  return (config as unknown as Readonly<Record<string, unknown>>)[module.section] as Cfg
}
