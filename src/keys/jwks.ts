// An issuer's JWK Set (RFC 7517 §5), read through the cached-document layer
// (document-cache.ts), for tokens an OAuth issuer signs (the DPoP issue).
// Reads: the issuer's jwks_uri (from its RFC 8414 metadata, or pinned by the
// operator, in which case it may live on another host than the issuer), the
// issuer as the owner its quotas are counted against, and the token header's
// alg and kid. Returns: the one key that header selects. Throws: GatewayError
// — key_fetch_* / key_document_invalid from the fetch, key_not_found,
// key_fetch_busy. Never anything else.
//
// How this differs from a DomainPoP key document (cache.ts), and why:
// - kids are the issuer's own labels (RFC 7517 §4.5), not RFC 7638
//   thumbprints: a key is found by its kid as written, and a kid may repeat
//   across key types (§4.5 allows it), so selection also looks at the type;
// - only a JWK Set is accepted (RFC 8414 §2 `jwks_uri`: "the JWK Set");
// - no jku host rule: the URL is the operator's or the issuer's, never the
//   token's, so there is nothing to pin it to here;
// - an issuer has a handful of keys, so they are kept imported.
// Shared with DomainPoP: the safe fetcher, the response policy, the TTL
// clamp, single flight, negative caching, quotas, private members refusing
// the whole set, and which keys are usable at all (importPublicKey).
//
// Selection (RFC 7517 §4, RFC 7515 §4.1.4): kid equal when the header names
// one; key type and curve fit alg (RFC 8725 §3.1); the key's own alg, when
// it has one, equal to the header's (RFC 7517 §4.4); use absent or "sig"
// (§4.2) and key_ops absent or with "verify" (§4.3), which parsing already
// enforced. A header without kid must select exactly one key. A kid the set
// lacks refreshes it at most once per refetchCooldownMs (key rotation).

import type { KeyObject } from 'node:crypto'
import { GatewayError } from '../errors.js'
import { importPublicKey, readEntries, refusePrivateMembers, sameAlg } from './document.js'
import { createDocumentCache, stringBytes, type CacheEntryView, type CachedDocument, type DocumentCache, type DocumentCacheStats, type RefusalReason } from './document-cache.js'
import { createSafeFetcher } from './fetcher.js'
import { admitsEntry, jwkThumbprint, type PinLookup } from './thumbprint.js'
import { JWK_SET_PROFILE } from './response-policy.js'
import type { FetchOne, KeysConfig, StoredKey } from './types.js'

/** One verification key of an issuer's set. */
export interface JwksKey {
  /** The issuer's own kid (RFC 7517 §4.5), undefined when the set gave none. */
  readonly kid: string | undefined
  readonly kty: StoredKey['kty']
  /** EC and OKP. */
  readonly crv: string | undefined
  /** The set's `alg` for this key, when it named one (RFC 7517 §4.4). */
  readonly alg: string | undefined
  /** `use` as the set wrote it: "sig" or absent (others are not kept). */
  readonly use: 'sig' | undefined
  readonly keyObject: KeyObject
  /** RFC 7638 SHA-256 thumbprint of the key as OpenSSL re-exports it: what an identity's pins and the key records name. */
  readonly thumbprint: string
  /** Where the set came from (its URL), or undefined for a set on disk. */
  readonly source: string | undefined
}

/** A key of the set the owner's pins do not list: never imported, kept only to say key_not_pinned rather than key_not_found. */
export type WithheldKey = Pick<JwksKey, 'kid' | 'kty' | 'crv' | 'alg' | 'use'>

export interface KeySet {
  readonly keys: readonly JwksKey[]
  /** Keys the owner's pins withheld (keys/trust.ts); empty when not pinned. */
  readonly withheld: readonly WithheldKey[]
}

/** What a token header says about its key. */
export interface KeySelector {
  readonly alg: string
  readonly kid?: string | undefined
}

/** A kid longer than this is not a label anyone needs; such keys are skipped rather than kept. */
export const MAX_KID_CHARS = 256

const invalid = (why: string): GatewayError => new GatewayError('key_document_invalid', `key set ${why}`)

/**
 * An issuer's JWK Set → its usable verification keys. Throws
 * key_document_invalid. `pins`: the owner's pinned thumbprints (keys/trust.ts);
 * a key they do not list is withheld before it is imported.
 */
export function parseJwks(body: Uint8Array | string, opts: { readonly pins?: ReadonlySet<string>; readonly source?: string } = {}): KeySet {
  const entries = readEntries(body, false)
  refusePrivateMembers(entries)
  const keys: JwksKey[] = []
  const withheld: WithheldKey[] = []
  const skipped: string[] = []
  const withhold = (entry: Readonly<Record<string, unknown>>): void => {
    const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined)
    const kty = entry.kty === 'EC' || entry.kty === 'OKP' || entry.kty === 'RSA' ? entry.kty : undefined
    if (kty !== undefined) withheld.push(Object.freeze({ kid: str(entry.kid), kty, crv: str(entry.crv), alg: str(entry.alg), use: entry.use === 'sig' ? 'sig' as const : undefined }))
  }
  for (const entry of entries) {
    if (!admitsEntry(entry, opts.pins)) { withhold(entry); continue }
    if (entry.kid !== undefined && typeof entry.kid !== 'string') throw invalid('has a key whose kid is not a string')
    if (typeof entry.kid === 'string' && entry.kid.length > MAX_KID_CHARS) {
      skipped.push(`a kid is longer than ${MAX_KID_CHARS} characters`)
      continue
    }
    const imported = importPublicKey(entry)
    if (typeof imported === 'string') {
      skipped.push(imported)
      continue
    }
    const { members, alg, keyObject } = imported
    const thumbprint = jwkThumbprint(keyObject)
    // A non-canonical spelling of a pinned key: its canonical thumbprint is not the pin (fail closed).
    if (opts.pins !== undefined && !opts.pins.has(thumbprint)) { withhold(entry); continue }
    keys.push(Object.freeze({ kid: entry.kid as string | undefined, kty: members.kty, crv: members.crv, alg, use: entry.use === 'sig' ? 'sig' as const : undefined, keyObject, thumbprint, source: opts.source }))
  }
  if (keys.length === 0 && withheld.length === 0) throw invalid(`has no usable signing key (${[...new Set(skipped)].join('; ')})`)
  return Object.freeze({ keys: Object.freeze(keys), withheld: Object.freeze(withheld) })
}

/** Key type and curve each JWS algorithm needs (RFC 7518 §3.1, RFC 8037 §3.1). */
const FAMILY: Readonly<Record<string, { readonly kty: StoredKey['kty']; readonly crv?: string }>> = {
  ES256: { kty: 'EC', crv: 'P-256' },
  ES384: { kty: 'EC', crv: 'P-384' },
  EdDSA: { kty: 'OKP', crv: 'Ed25519' },
  Ed25519: { kty: 'OKP', crv: 'Ed25519' },
  PS256: { kty: 'RSA' }, PS384: { kty: 'RSA' }, PS512: { kty: 'RSA' },
  RS256: { kty: 'RSA' }, RS384: { kty: 'RSA' }, RS512: { kty: 'RSA' },
}

/**
 * The keys of `set` that `selector` may mean, in set order. Pure. An alg
 * outside FAMILY selects nothing (the caller's algorithm allowlist comes first).
 */
export function selectJwks(set: KeySet, selector: KeySelector): JwksKey[] {
  return selectFrom(set.keys, selector)
}

function selectFrom<K extends WithheldKey>(list: readonly K[], selector: KeySelector): K[] {
  const family = Object.hasOwn(FAMILY, selector.alg) ? FAMILY[selector.alg]! : undefined
  if (family === undefined) return []
  return list.filter((k) =>
    (selector.kid === undefined || k.kid === selector.kid) &&
    k.kty === family.kty &&
    (family.crv === undefined || k.crv === family.crv) &&
    (k.alg === undefined || sameAlg(k.alg, selector.alg)))
}

/** Bytes a parsed set keeps alive, estimated: the key objects and their OpenSSL memory (~2.7 KB for P-256; RSA more). */
const JWKS_KEY_BYTES = 128 + 3 * 1024
export const keySetBytes = (set: KeySet): number => {
  let n = 32 + 8 * set.keys.length
  for (const k of set.keys) n += JWKS_KEY_BYTES + stringBytes(k.kid)
  return n
}

export interface JwksReaderDeps {
  readonly now?: () => number
  /** Default: a safe fetcher of its own; pass the gateway's to share its Agent. */
  readonly fetch?: FetchOne
  readonly onFetch?: (url: string, outcome: string, ms: number) => void
  readonly beforeFetch?: (issuer: string) => void
  readonly onRefused?: (reason: RefusalReason, issuer: string, client: string) => void
  /** An identity's pinned thumbprints (keys/trust.ts): keys they do not list are never imported. */
  readonly pinsFor?: PinLookup
  readonly onStale?: (owner: string, url: string, first: boolean) => void
}

/** Throws key_not_pinned when a key the owner's pins withheld is what `selector` names. */
export function refuseWithheld(set: KeySet, selector: KeySelector): void {
  if (set.withheld.length > 0 && selectFrom(set.withheld, selector).length > 0) {
    throw new GatewayError('key_not_pinned', 'the key that signed the token is not one this identity\'s pinned keys list')
  }
}

export interface JwksReader {
  /** The one key of the issuer's set at `jwksUri` that `selector` names; `client` as for the key cache. */
  getKey(jwksUri: URL, issuer: string, selector: KeySelector, client?: string): Promise<JwksKey>
  /** A key of the set at `jwksUri` verified a token: it keeps its slot (document-cache.ts markProven). */
  markProven(jwksUri: URL): void
  readonly size: number
  stats(): DocumentCacheStats
  /** Up to `limit` cached key sets, most recently used first (the admin page). */
  list(limit: number): CacheEntryView[]
  close(): Promise<void>
}

export function createJwksReader(cfg: KeysConfig, deps: JwksReaderDeps = {}): JwksReader {
  const ownFetcher = deps.fetch ? undefined : createSafeFetcher(cfg)
  const sets: DocumentCache<KeySet> = createDocumentCache<KeySet>({
    limits: cfg,
    profile: JWK_SET_PROFILE,
    fetch: deps.fetch ?? ((request, signal) => ownFetcher!.fetch(request, signal)),
    now: deps.now,
    parse: async (doc, request) => parseJwks(doc.body, { pins: deps.pinsFor?.(request.owner), source: request.url.href }),
    sizeOf: keySetBytes,
    onFetch: deps.onFetch,
    beforeFetch: deps.beforeFetch,
    onRefused: deps.onRefused,
    onStale: deps.onStale,
  })
  /** One key, or undefined when the set has none for the selector; throws when a kid-less header is ambiguous. */
  function pick(entry: CachedDocument<KeySet>, selector: KeySelector): JwksKey | undefined {
    const found = selectJwks(entry.value, selector)
    if (found.length > 1) throw new GatewayError('key_not_found', 'several keys of the issuer fit; the token must name a kid')
    return found[0]
  }
  const notFound = (): GatewayError => new GatewayError('key_not_found', 'the issuer\'s key set has no key for this kid and alg')

  return {
    async getKey(jwksUri, issuer, selector, client) {
      const request = { url: jwksUri, owner: issuer, client }
      const entry = await sets.get(request)
      const key = pick(entry, selector)
      if (key !== undefined) return key
      // A key the pins withheld: refused as such, and no refetch.
      refuseWithheld(entry.value, selector)
      // Key rotation: refresh the set, at most once per cooldown.
      const refreshed = await sets.refresh(request, entry)
      if (refreshed !== entry) {
        const rotated = pick(refreshed, selector)
        if (rotated !== undefined) return rotated
        refuseWithheld(refreshed.value, selector)
      }
      throw notFound()
    },
    markProven: (jwksUri) => { sets.markProven(jwksUri.href) },
    get size() { return sets.size },
    stats: () => sets.stats(),
    list: (limit) => sets.list(limit),
    async close() {
      await sets.close()
      await ownFetcher?.close()
    },
  }
}
