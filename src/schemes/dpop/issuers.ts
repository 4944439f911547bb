// Where an issuer's token-signing keys come from (PROTOCOL.md §3):
//   pinned with a JWK Set on disk      → that set, read at load;
//   pinned with jwksUri                → that URL, on any host the operator chose;
//   not pinned                         → metadata at the issuer's origin root
//     (identity/issuer.ts discoveryUrls: RFC 8414 /.well-known/oauth-authorization-server,
//     else OpenID Discovery /.well-known/openid-configuration); its `issuer`
//     must be the token's issuer in canonical form (RFC 8414 §3.3) and its
//     `jwks_uri` must be https on the issuer's own host. Only a path-less
//     issuer is ever discovered: an issuer with a path was refused in parse
//     unless pinned (issue 19), and discoveryUrls refuses one again here.
// Every fetch goes through the keys layer (document caches, quotas, the safe
// fetcher); the owner every entry is accounted to is the identity, the
// issuer's host. Called only from verify, so only for identities the ACL allows.
// Throws GatewayError: issuer_metadata_invalid, token_issuer_not_allowed, key_fetch_*, key_not_found.

import { GatewayError, isGatewayError } from '../../errors.js'
import type { Identity } from '../../identity/domain.js'
import {
  createDocumentCache, createJwksReader, selectJwks, JSON_PROFILE,
  type CacheEntryView, type DocumentCache, type FetchOne, type JwksKey, type JwksReader, type KeySet, type KeysConfig, type PinLookup, type RefusalReason,
} from '../../keys/index.js'
import type { SignedTokenFacts } from '../../proofs/access-token.js'
import { discoveryUrls, isSameIssuer } from '../../identity/issuer.js'

export interface IssuerMetadata {
  readonly issuer: string
  readonly jwksUri: string
}

export interface PinnedKeys {
  readonly jwksUri?: URL
  readonly jwks?: KeySet
}

export interface IssuerKeysDeps {
  readonly fetch: FetchOne
  readonly now?: () => number
  readonly onFetch?: (url: string, outcome: string, ms: number) => void
  readonly beforeFetch?: (owner: string) => void
  readonly onRefused?: (reason: RefusalReason, owner: string, client: string) => void
  /** An identity's pinned thumbprints (keys/trust.ts): keys of its set they do not list are never imported. */
  readonly pinsFor?: PinLookup
  readonly onStale?: (owner: string, url: string, first: boolean) => void
}

export interface IssuerKeys {
  /** The key that signed `token`, by its issuer; `pinned` when the operator named the issuer; `client` the address that asked (quotas). */
  keyFor(token: SignedTokenFacts, pinned: PinnedKeys | undefined, client?: string): Promise<JwksKey>
  /** The key keyFor gave verified `token`: the metadata and key set it came from keep their slots (document-cache.ts markProven). */
  markProven(token: SignedTokenFacts, pinned: PinnedKeys | undefined): void
  /** Up to `limit` cached metadata documents and key sets, most recently used first (the admin page). */
  list?(limit: number): CacheEntryView[]
  close(): Promise<void>
}

const invalid = (why: string): GatewayError => new GatewayError('issuer_metadata_invalid', why)

/** Where an issuer's metadata is looked for (identity/issuer.ts): path-less issuers only, at the origin's root. */
export const metadataUrls = (issuer: URL): readonly [URL, URL] => discoveryUrls(issuer)

/** The two members we use; the rest of the document is not kept. */
export function parseMetadata(body: Uint8Array | string): IssuerMetadata {
  let doc: unknown
  try {
    doc = JSON.parse(typeof body === 'string' ? body : Buffer.from(body).toString('utf8'))
  } catch {
    throw invalid('issuer metadata is not JSON')
  }
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) throw invalid('issuer metadata is not a JSON object')
  const { issuer, jwks_uri: jwksUri } = doc as Record<string, unknown>
  if (typeof issuer !== 'string' || issuer.length > 2048) throw invalid('issuer metadata has no issuer')
  if (typeof jwksUri !== 'string' || jwksUri.length > 2048) throw invalid('issuer metadata has no jwks_uri')
  return Object.freeze({ issuer, jwksUri })
}

export function createIssuerKeys(cfg: KeysConfig, deps: IssuerKeysDeps): IssuerKeys {
  const common = { limits: cfg, fetch: deps.fetch, now: deps.now, onFetch: deps.onFetch, beforeFetch: deps.beforeFetch, onRefused: deps.onRefused, onStale: deps.onStale }
  const metadata: DocumentCache<IssuerMetadata> = createDocumentCache<IssuerMetadata>({
    ...common,
    profile: JSON_PROFILE,
    parse: async (doc) => parseMetadata(doc.body),
    sizeOf: (m) => 64 + m.issuer.length + m.jwksUri.length,
  })
  const jwks: JwksReader = createJwksReader(cfg, { fetch: deps.fetch, now: deps.now, onFetch: deps.onFetch, beforeFetch: deps.beforeFetch, onRefused: deps.onRefused, pinsFor: deps.pinsFor, onStale: deps.onStale })

  async function discover(token: SignedTokenFacts, client: string | undefined): Promise<URL> {
    const [rfc8414, oidc] = metadataUrls(token.issuerUrl)
    let meta: IssuerMetadata
    try {
      meta = (await metadata.get({ url: rfc8414, owner: token.identity, client })).value
    } catch (err) {
      // Only "not there" falls back; a timeout or a bad document is the answer.
      if (!isGatewayError(err) || err.code !== 'key_fetch_status') throw err
      meta = (await metadata.get({ url: oidc, owner: token.identity, client })).value
    }
    // RFC 8414 §3.3: the document must be the issuer's own (in the one canonical form).
    if (!isSameIssuer(meta.issuer, token.issuer)) throw invalid('issuer metadata names another issuer')
    let url: URL
    try {
      url = new URL(meta.jwksUri)
    } catch {
      throw invalid('issuer metadata jwks_uri is not a URL')
    }
    // Not pinned: the keys must live where the issuer lives (an issuer's host cannot vouch for another's keys).
    if (url.protocol !== 'https:' || url.host !== token.issuerUrl.host || url.username !== '' || url.password !== '') {
      throw invalid('issuer metadata jwks_uri is not https on the issuer\'s host')
    }
    return url
  }

  return {
    async keyFor(token, pinned, client) {
      const selector = { alg: token.alg, kid: token.kid }
      if (pinned?.jwks) {
        const found = selectJwks(pinned.jwks, selector)
        if (found.length !== 1) throw new GatewayError('key_not_found', found.length === 0 ? 'the pinned key set has no key for this kid and alg' : 'several pinned keys fit; the token must name a kid')
        return found[0]!
      }
      const url = pinned?.jwksUri ?? (await discover(token, client))
      return jwks.getKey(url, token.identity as Identity, selector, client)
    },
    markProven(token, pinned) {
      if (pinned?.jwks) return
      if (pinned?.jwksUri) return jwks.markProven(pinned.jwksUri)
      for (const url of metadataUrls(token.issuerUrl)) {
        if (!metadata.markProven(url.href)) continue
        const meta = metadata.peek(url.href)
        if (meta !== undefined) jwks.markProven(new URL(meta.value.jwksUri))
        return
      }
    },
    list: (limit) => [...metadata.list(limit), ...jwks.list(limit)].slice(0, limit),
    async close() {
      await Promise.all([metadata.close(), jwks.close()])
    },
  }
}
