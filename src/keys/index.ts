// The key subsystem: the gateway's only outbound I/O (PROTOCOL.md §2.1, §2.4).
// Three layers, each knowing nothing of the one above it:
//
// 1. Safe fetch — one request, whoever asks.
//      address-policy  which IP addresses a fetch may reach
//      agent           undici Agent + connector that enforces the address policy
//      response-policy status, length, media type (per MediaProfile), encoding
//      fetcher         createSafeFetcher: GET or POST, per-call Accept; deadline,
//                      no redirects, body cap; throws key_fetch_* only
// 2. Cached documents — createDocumentCache<T>(parse, sizeOf): what a URL
//    held, accounted to the owner who vouches for it.
//      ttl             Cache-Control / Expires → TTL clamped to [min, max]
//      document-cache  single flight, negative caching, refresh with cooldown,
//                      in-flight caps per (owner, client) and in all, per-owner
//                      document quotas, per-(owner, client) failure quotas,
//                      proven documents kept, an LRU bounded by entries and bytes
//      owners          the owner and payer accounts and their entry lists
//      slot-table      key → entry in recency order, with its byte total
// 3. Readers — one per kind of document, each a parse and a selection rule.
//      url-policy      checkKeyUrl: may this jku be fetched for this identity?
//      document        a DomainPoP key document → keys with kid = RFC 7638 thumbprint;
//                      importPublicKey: the one importer of verification keys (documents, JWKS, DPoP proof and cnf keys)
//      hot-keys        bounded set of imported keys beside the DomainPoP cache
//      cache           createKeyCache: the DomainPoP key cache (jku host = identity = owner)
//      jwks            createJwksReader: an issuer's JWK Set, keys by the issuer's
//                      own kid, alg, kty and use (RFC 7517); owner = issuer
//    Every key learnt from a domain is admitted for its identity at one control
//    point, trust.ts (pins, key records, newKeys: hold); the readers ask its
//    pin lookup before they import a key.
//      signature-directory  createSignatureDirectoryReader: an HTTP Message
//                      Signatures key directory (Web Bot Auth); keys by
//                      (directory URL, RFC 7638 thumbprint); owner = agent host
//    An issuer's RFC 8414 metadata is one more reader: createDocumentCache
//    with JSON_PROFILE and a parse that checks `issuer` and `jwks_uri`.
//    An RFC 7662 introspection is a DocumentRequest with method POST, a body
//    and its own cache key.

export { checkKeyUrl, MAX_KEY_URL_CHARS } from './url-policy.js'
export { addressBlockReason, isBlockedAddress } from './address-policy.js'
export { createSafeFetcher, createKeyFetcher, type SafeFetcher, type KeyFetcher, type KeyFetcherSeams } from './fetcher.js'
export { checkResponseHead, JWK_SET_PROFILE, JSON_PROFILE } from './response-policy.js'
export {
  createDocumentCache, type DocumentCache, type DocumentCacheOptions, type DocumentCacheLimits, type DocumentCacheStats, type CacheEntryView,
  type DocumentRequest, type CachedDocument, type RefusalReason,
} from './document-cache.js'
export { parseKeyDocument, importPublicKey, sameAlg, PRIVATE_MEMBERS, MAX_KEYS_PER_DOCUMENT, type PublicMembers } from './document.js'
export { createKeyCache, type KeyCache, type KeyCacheDeps, type KeyCacheStats } from './cache.js'
export { createJwksReader, parseJwks, selectJwks, refuseWithheld, type JwksReader, type JwksReaderDeps, type JwksKey, type KeySet, type KeySelector, type WithheldKey } from './jwks.js'
export { membersThumbprint, admitsEntry, type PinLookup } from './thumbprint.js'
export {
  createSignatureDirectoryReader, parseSignatureDirectory, SIGNATURES_DIRECTORY_MEDIA_TYPE, SIGNATURES_DIRECTORY_PROFILE,
  type SignatureDirectoryReader, type SignatureDirectoryDeps, type DirectoryKey, type SignatureDirectory,
} from './signature-directory.js'
export type {
  KeysConfig, ResolvedKey, StoredKey, FetchedDocument, FetchDocument, FetchOne, FetchRequest, MediaProfile, ResponseHeaders,
} from './types.js'
