// Shared shapes of the key subsystem (PROTOCOL.md §2.1, §2.4).

import type { JsonWebKey, KeyObject } from 'node:crypto'
import type { Config } from '../config/types.js'

export type KeysConfig = Config['keys']

/**
 * A public signing key as the key cache keeps it: the public JWK members
 * only, ~0.5 KB of heap. Importing it costs 3–60 µs (P-256 is the slow one),
 * so the cache keeps a bounded hot set of imported keys (hot-keys.ts).
 */
export interface StoredKey {
  /** RFC 7638 SHA-256 thumbprint (base64url) of the canonical public JWK. */
  readonly kid: string
  readonly kty: 'EC' | 'OKP' | 'RSA'
  readonly crv?: string
  /** The document's `alg` for this key, when it named one (RFC 7517 §4.4). */
  readonly alg?: string
  /** The public members only (kty, crv, x, y / n, e), as validated on import. */
  readonly jwk: Readonly<JsonWebKey>
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

/** The one seam for outbound I/O: fetch the document at `url`, or throw a GatewayError. */
export type FetchDocument = (url: URL, signal: AbortSignal) => Promise<FetchedDocument>
