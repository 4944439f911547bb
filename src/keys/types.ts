// Shared shapes of the key subsystem (PROTOCOL.md §2.1, §2.4).

import type { KeyObject } from 'node:crypto'
import type { Config } from '../config/types.js'

export type KeysConfig = Config['keys']

/** A public signing key taken from an identity's key document. */
export interface ResolvedKey {
  /** RFC 7638 SHA-256 thumbprint (base64url) of the canonical public JWK. */
  readonly kid: string
  readonly keyObject: KeyObject
  readonly kty: 'EC' | 'OKP' | 'RSA'
  readonly crv?: string
  /** The document's `alg` for this key, when it named one (RFC 7517 §4.4). */
  readonly alg?: string
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
