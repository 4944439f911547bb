// An HTTP Message Signatures key directory
// (draft-ietf-webbotauth-httpsig-protocol-01 §5: a JWK Set at
// /.well-known/http-message-signatures-directory, media type
// application/http-message-signatures-directory+json), read through the
// cached-document layer (document-cache.ts) and the safe fetcher.
// Reads: the agent's directory URL (agent.ts: on the agent URL's own host),
// the identity that owns it (its quotas), and a signature's keyid.
// Returns: the key. Throws: GatewayError — key_fetch_* / key_document_invalid
// from the fetch, key_not_found, key_fetch_busy. Never anything else.
//
// - https only, 200 only, no redirects (the fetcher and response policy);
//   one media type: the draft's.
// - A private member anywhere refuses the whole directory (document.ts).
// - keyid is the RFC 7638 SHA-256 thumbprint of the key as OpenSSL
//   re-exports it (the draft §5.1, RFC 8037 for OKP): the document cannot
//   choose it.
// - Keys are looked up by the pair (directory URL, keyid), never by keyid
//   alone (the draft §7: a keyid-only index attributes a request to whichever
//   domain published that key first). The cache holds one entry per URL;
//   the keyid is looked up inside it.
// - A keyid the directory lacks refreshes it at most once per
//   refetchCooldownMs (rotation by overlap, the draft §5.2).

import type { KeyObject } from 'node:crypto'
import { calculateJwkThumbprint, type JWK } from 'jose'
import { GatewayError } from '../errors.js'
import { importPublicKey, readEntries, refusePrivateMembers } from './document.js'
import { createDocumentCache, stringBytes, type DocumentCache, type DocumentCacheStats, type RefusalReason } from './document-cache.js'
import { createSafeFetcher } from './fetcher.js'
import type { FetchOne, KeysConfig, MediaProfile } from './types.js'
import { admitsEntry, type PinLookup } from './thumbprint.js'

export const SIGNATURES_DIRECTORY_MEDIA_TYPE = 'application/http-message-signatures-directory+json'

/** The draft's media type only: a JSON document served as anything else is not a directory. */
export const SIGNATURES_DIRECTORY_PROFILE: MediaProfile = Object.freeze({
  accept: SIGNATURES_DIRECTORY_MEDIA_TYPE,
  mediaTypes: new Set([SIGNATURES_DIRECTORY_MEDIA_TYPE]),
})

export interface DirectoryKey {
  /** RFC 7638 SHA-256 thumbprint, base64url. */
  readonly keyid: string
  readonly keyObject: KeyObject
}

export interface SignatureDirectory {
  readonly keys: ReadonlyMap<string, DirectoryKey>
}

/** A directory body → its usable keys by thumbprint. Throws key_document_invalid. */
export async function parseSignatureDirectory(body: Uint8Array | string, pins?: ReadonlySet<string>): Promise<SignatureDirectory> {
  const entries = readEntries(body, false)
  refusePrivateMembers(entries)
  const keys = new Map<string, DirectoryKey>()
  const skipped: string[] = []
  let unpinned = 0
  for (const entry of entries) {
    // An identity's pins (keys/trust.ts): a key they do not list is never imported.
    if (!admitsEntry(entry, pins)) { unpinned++; continue }
    const imported = importPublicKey(entry)
    if (typeof imported === 'string') { skipped.push(imported); continue }
    const keyid = await calculateJwkThumbprint(imported.keyObject.export({ format: 'jwk' }) as JWK, 'sha256')
    if (pins !== undefined && !pins.has(keyid)) { unpinned++; continue }
    if (!keys.has(keyid)) keys.set(keyid, Object.freeze({ keyid, keyObject: imported.keyObject }))
  }
  if (keys.size === 0 && unpinned === 0) throw new GatewayError('key_document_invalid', `signatures directory has no usable signing key (${[...new Set(skipped)].join('; ')})`)
  return Object.freeze({ keys })
}

const KEY_BYTES = 128 + 3 * 1024
const directoryBytes = (d: SignatureDirectory): number => {
  let n = 64
  for (const k of d.keys.values()) n += KEY_BYTES + stringBytes(k.keyid)
  return n
}

export interface SignatureDirectoryDeps {
  readonly now?: () => number
  /** Default: a safe fetcher of its own; pass the gateway's to share its Agent. */
  readonly fetch?: FetchOne
  readonly onFetch?: (url: string, outcome: string, ms: number) => void
  readonly beforeFetch?: (identity: string) => void
  readonly onRefused?: (reason: RefusalReason, identity: string, client: string) => void
  readonly pinsFor?: PinLookup
  readonly onStale?: (owner: string, url: string, first: boolean) => void
}

export interface SignatureDirectoryReader {
  /** The key `keyid` of the directory at `directoryUrl`, which `identity` vouches for; `client` (the asking address) as for the key cache. */
  getKey(directoryUrl: URL, identity: string, keyid: string, client?: string): Promise<DirectoryKey>
  readonly size: number
  stats(): DocumentCacheStats
  close(): Promise<void>
}

export function createSignatureDirectoryReader(cfg: KeysConfig, deps: SignatureDirectoryDeps = {}): SignatureDirectoryReader {
  const ownFetcher = deps.fetch ? undefined : createSafeFetcher(cfg)
  const directories: DocumentCache<SignatureDirectory> = createDocumentCache<SignatureDirectory>({
    limits: cfg,
    profile: SIGNATURES_DIRECTORY_PROFILE,
    fetch: deps.fetch ?? ((request, signal) => ownFetcher!.fetch(request, signal)),
    now: deps.now,
    parse: (doc, request) => parseSignatureDirectory(doc.body, deps.pinsFor?.(request.owner)),
    sizeOf: directoryBytes,
    onFetch: deps.onFetch,
    beforeFetch: deps.beforeFetch,
    onRefused: deps.onRefused,
    onStale: deps.onStale,
  })
  const notFound = (): GatewayError => new GatewayError('key_not_found', 'the agent\'s signatures directory has no key with this keyid')
  return {
    async getKey(directoryUrl, identity, keyid, client) {
      // The URL is on the identity's own host (agent.ts); checked again here, where it is used.
      if (directoryUrl.hostname !== identity) throw new GatewayError('key_fetch_failed', 'the signatures directory is not on the agent\'s host')
      const request = { url: directoryUrl, owner: identity, client }
      const entry = await directories.get(request)
      const key = entry.value.keys.get(keyid)
      if (key !== undefined) return key
      const refreshed = await directories.refresh(request, entry)
      return (refreshed === entry ? undefined : refreshed.value.keys.get(keyid)) ?? (() => { throw notFound() })()
    },
    get size() { return directories.size },
    stats: () => directories.stats(),
    async close() {
      await directories.close()
      await ownFetcher?.close()
    },
  }
}
