// The key subsystem: the gateway's only outbound I/O (PROTOCOL.md §2.1, §2.4).
//   url-policy      checkKeyUrl: may this jku be fetched for this identity?
//   address-policy  which IP addresses a fetch may reach
//   agent           undici Agent + connector that enforces the address policy
//   fetcher         one request (GET or POST, Accept per call): deadline, no redirects, body cap, content type
//   document        key document → ResolvedKey[]
//   hot-keys        bounded set of imported keys beside the cache
//   ttl, lru, cache caching, single-flight, cooldowns, in-flight caps

export { checkKeyUrl, MAX_KEY_URL_CHARS } from './url-policy.js'
export { addressBlockReason, isBlockedAddress } from './address-policy.js'
export { createSafeFetcher, createKeyFetcher, type SafeFetcher, type KeyFetcher, type KeyFetcherSeams } from './fetcher.js'
export { checkResponseHead, JWK_SET_PROFILE, JSON_PROFILE } from './response-policy.js'
export { parseKeyDocument, MAX_KEYS_PER_DOCUMENT } from './document.js'
export { createKeyCache, type KeyCache, type KeyCacheDeps, type KeyCacheStats } from './cache.js'
export type { KeysConfig, ResolvedKey, StoredKey, FetchedDocument, FetchDocument, FetchOne, FetchRequest, MediaProfile, ResponseHeaders } from './types.js'
