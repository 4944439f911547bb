// Shared shapes of the key subsystem (PROTOCOL.md §2.1, §2.4).

import type { KeyObject } from 'node:crypto'
import type { Config } from '../config/types.js'

export type KeysConfig = Config['keys']

/**
 * A public signing key as the key cache keeps it: thumbprint, type and the
 * public members only, in one object of one fixed shape (absent members are
 * undefined), ~0.45 KB of heap per cached domain with its cache entry.
 * Importing it costs 3–60 µs (P-256 is the slow one), so the cache keeps a
 * bounded hot set of imported keys (hot-keys.ts).
 */
export interface StoredKey {
  /** RFC 7638 SHA-256 thumbprint (base64url) of the canonical public JWK. */
  readonly kid: string
  readonly kty: 'EC' | 'OKP' | 'RSA'
  /** EC and OKP. */
  readonly crv: string | undefined
  /** The document's `alg` for this key, when it named one (RFC 7517 §4.4). */
  readonly alg: string | undefined
  /** EC and OKP public members (RFC 7518 §6.2.1, RFC 8037 §2). */
  readonly x: string | undefined
  readonly y: string | undefined
  /** RSA public members (RFC 7518 §6.3.1). */
  readonly n: string | undefined
  readonly e: string | undefined
}

/** A stored key with its imported KeyObject (~2.7 KB of OpenSSL memory for P-256), ready to verify. */
export interface ResolvedKey extends StoredKey {
  readonly keyObject: KeyObject
}

/** Response headers, lowercased, as undici and node:http give them. */
export type ResponseHeaders = Readonly<Record<string, string | string[] | undefined>>

/** A 200 response whose head already passed the response policy and whose body is within the cap. */
export interface FetchedDocument {
  readonly status: number
  readonly headers: ResponseHeaders
  readonly body: Buffer
}

/** The DomainPoP seam for outbound I/O: GET the key document at `url`, or throw a GatewayError. */
export type FetchDocument = (url: URL, signal: AbortSignal) => Promise<FetchedDocument>

/**
 * What a call accepts back: the Accept header it sends and the response media
 * types it takes (lowercase, without parameters). One per kind of document.
 */
export interface MediaProfile {
  readonly accept: string
  /** Empty: any (or none), and the body is not looked at (a webhook's answer). */
  readonly mediaTypes: ReadonlySet<string>
  /** Any 2xx is a success, not only 200 (a webhook's 202 or 204). */
  readonly any2xx?: boolean
}

/** One outbound request through the safe fetcher. */
export interface FetchRequest {
  readonly url: URL
  /** Default GET. */
  readonly method?: 'GET' | 'POST'
  readonly profile: MediaProfile
  /** POST only: the body and its Content-Type (e.g. an RFC 7662 introspection form). */
  readonly body?: { readonly contentType: string; readonly bytes: Buffer | string }
  /** POST only: an `Authorization` value (RFC 7662 §2.1 client authentication, e.g. `Basic …`). Never logged. */
  readonly authorization?: string
  /** Response body cap; default keys.maxBytes. */
  readonly maxBytes?: number
}

/** The generic seam for outbound I/O: one request, or throw a GatewayError key_fetch_*. */
export type FetchOne = (request: FetchRequest, signal: AbortSignal) => Promise<FetchedDocument>
