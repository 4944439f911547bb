// One error type for the whole gateway, and one registry of its codes.
// Stages throw `GatewayError(code)`; only src/http/respond.ts turns one into a
// response (status, WWW-Authenticate error, problem+json). PROTOCOL.md §6.

import { SCHEME_AUTH_ERRORS, SCHEME_CHALLENGE_CODES, SCHEME_ERRORS } from './schemes/errors.js'

/**
 * Every `error` word a challenge may carry, with where it is defined. Each
 * scheme's challenge (src/schemes/) says one of these; docs/errors.md lists
 * the same words and a test checks that the two agree.
 */
export const AUTH_ERRORS = {
  invalid_request: 'RFC 6750 §3.1',
  invalid_token: 'RFC 6750 §3.1',
  insufficient_scope: 'RFC 6750 §3.1',
  use_nonce: 'docs/protocol.md §2.3',
  invalid_proof: 'docs/protocol.md §2.3',
  // The schemes' own words (src/schemes/<name>/errors.ts).
  ...SCHEME_AUTH_ERRORS,
  invalid_signature: 'docs/protocol.md (HTTP Message Signatures)',
} as const

export type AuthError = keyof typeof AUTH_ERRORS

export interface ErrorSpec {
  readonly status: number
  /** `error=` param on the failed scheme's challenge (a scheme may say it in its own words); undefined → no error param (or no challenge). */
  readonly authError?: AuthError
  readonly title: string
}

const spec = (status: number, title: string, authError?: AuthError): ErrorSpec => ({ status, title, authError })

/**
 * Every code a client can see. docs/errors.md lists the same table and a test
 * (test/unit/errors.test.ts) checks that the two agree.
 */
export const ERRORS = {
  // 400: the request itself is not something we can reason about
  bad_request: spec(400, 'Bad Request'),
  headers_too_large: spec(431, 'Request Header Fields Too Large'),
  request_timeout: spec(408, 'Request Timeout'),
  path_rejected: spec(400, 'Bad Request'),
  body_not_allowed: spec(400, 'Bad Request'),
  malformed_proof: spec(400, 'Bad Request', 'invalid_request'),
  multiple_credentials: spec(400, 'Bad Request', 'invalid_request'),
  proof_too_large: spec(400, 'Bad Request', 'invalid_request'),
  // Session tickets and session proofs (PROTOCOL.md §4): the form is wrong
  ticket_malformed: spec(400, 'Bad Request', 'invalid_request'),
  ticket_too_large: spec(400, 'Bad Request', 'invalid_request'),
  session_proof_malformed: spec(400, 'Bad Request', 'invalid_request'),
  body_too_large: spec(413, 'Payload Too Large'),
  // 401 with a bare challenge
  credentials_missing: spec(401, 'Unauthorized'),
  // 401: the gate's own checks on what a scheme verified (docs/architecture.md)
  identity_mismatch: spec(401, 'Unauthorized', 'invalid_token'),
  credentials_not_accepted: spec(401, 'Unauthorized'),
  // 401 use_nonce (PROTOCOL.md §2.3 step 4)
  nonce_missing: spec(401, 'Unauthorized', 'use_nonce'),
  nonce_stale: spec(401, 'Unauthorized', 'use_nonce'),
  nonce_invalid: spec(401, 'Unauthorized', 'use_nonce'),
  // 401 invalid_proof: the proof itself is wrong
  proof_typ_invalid: spec(401, 'Unauthorized', 'invalid_proof'),
  proof_alg_unsupported: spec(401, 'Unauthorized', 'invalid_proof'),
  proof_header_forbidden: spec(401, 'Unauthorized', 'invalid_proof'),
  proof_jku_invalid: spec(401, 'Unauthorized', 'invalid_proof'),
  proof_iss_invalid: spec(401, 'Unauthorized', 'invalid_proof'),
  proof_kid_invalid: spec(401, 'Unauthorized', 'invalid_proof'),
  proof_claims_invalid: spec(401, 'Unauthorized', 'invalid_proof'),
  proof_aud_mismatch: spec(401, 'Unauthorized', 'invalid_proof'),
  proof_htm_mismatch: spec(401, 'Unauthorized', 'invalid_proof'),
  proof_htu_mismatch: spec(401, 'Unauthorized', 'invalid_proof'),
  proof_iat_invalid: spec(401, 'Unauthorized', 'invalid_proof'),
  proof_signature_invalid: spec(401, 'Unauthorized', 'invalid_proof'),
  proof_replayed: spec(401, 'Unauthorized', 'invalid_proof'),
  proof_epk_invalid: spec(401, 'Unauthorized', 'invalid_proof'),
  // 401: session tickets and cookies (PROTOCOL.md §4): the credential is not (or no longer) good
  ticket_invalid: spec(401, 'Unauthorized', 'invalid_token'),
  ticket_key_unknown: spec(401, 'Unauthorized', 'invalid_token'),
  ticket_key_retired: spec(401, 'Unauthorized', 'invalid_token'),
  ticket_expired: spec(401, 'Unauthorized', 'invalid_token'),
  session_revoked: spec(401, 'Unauthorized', 'invalid_token'),
  session_refused: spec(401, 'Unauthorized', 'invalid_token'),
  // The session cookie: every failure is a 401 (a browser's page can only prove again), and the answer clears it.
  cookie_malformed: spec(401, 'Unauthorized', 'invalid_token'),
  cookie_too_large: spec(401, 'Unauthorized', 'invalid_token'),
  cookie_invalid: spec(401, 'Unauthorized', 'invalid_token'),
  cookie_key_unknown: spec(401, 'Unauthorized', 'invalid_token'),
  cookie_key_retired: spec(401, 'Unauthorized', 'invalid_token'),
  cookie_expired: spec(401, 'Unauthorized', 'invalid_token'),
  // 401: the HS256 session proof is wrong (PROTOCOL.md §4)
  session_proof_invalid: spec(401, 'Unauthorized', 'invalid_proof'),
  session_proof_signature_invalid: spec(401, 'Unauthorized', 'invalid_proof'),
  session_proof_ath_mismatch: spec(401, 'Unauthorized', 'invalid_proof'),
  session_proof_mismatch: spec(401, 'Unauthorized', 'invalid_proof'),
  session_proof_iat_invalid: spec(401, 'Unauthorized', 'invalid_proof'),
  session_proof_replayed: spec(401, 'Unauthorized', 'invalid_proof'),
  // 401: channel binding (PROTOCOL.md §5, RFC 9266)
  channel_binding_unavailable: spec(401, 'Unauthorized', 'invalid_request'),
  channel_binding_mismatch: spec(401, 'Unauthorized', 'invalid_proof'),
  // 401 invalid_proof: the identity's domain did not give us a usable key (§2.4)
  key_fetch_timeout: spec(401, 'Unauthorized', 'invalid_proof'),
  key_fetch_blocked_address: spec(401, 'Unauthorized', 'invalid_proof'),
  key_fetch_status: spec(401, 'Unauthorized', 'invalid_proof'),
  key_fetch_failed: spec(401, 'Unauthorized', 'invalid_proof'),
  key_fetch_redirect: spec(401, 'Unauthorized', 'invalid_proof'),
  key_fetch_too_large: spec(401, 'Unauthorized', 'invalid_proof'),
  key_fetch_content_type: spec(401, 'Unauthorized', 'invalid_proof'),
  key_fetch_busy: spec(401, 'Unauthorized', 'invalid_proof'),
  key_fetch_quota: spec(401, 'Unauthorized', 'invalid_proof'),
  key_document_invalid: spec(401, 'Unauthorized', 'invalid_proof'),
  key_not_found: spec(401, 'Unauthorized', 'invalid_proof'),
  // Key trust (docs/security.md "Key trust"): the ACL's identities: settings, enforced at the one control point (keys/trust.ts)
  key_not_pinned: spec(401, 'Unauthorized', 'invalid_proof'),
  key_held: spec(401, 'Unauthorized', 'invalid_proof'),
  // The schemes' own codes (src/schemes/<name>/errors.ts).
  ...SCHEME_ERRORS,
  // Client certificates (docs/tls.md): the listener's `require`, an RFC 9440 Client-Cert from a trusted hop
  client_certificate_required: spec(403, 'Forbidden'),
  client_certificate_invalid: spec(403, 'Forbidden'),
  client_cert_header_invalid: spec(400, 'Bad Request'),
  // RFC 8705 §3: a credential bound to a client certificate
  certificate_binding_unavailable: spec(401, 'Unauthorized', 'invalid_token'),
  certificate_binding_mismatch: spec(401, 'Unauthorized', 'invalid_token'),
  // HTTP Message Signatures (RFC 9421, Web Bot Auth)
  signature_malformed: spec(400, 'Bad Request', 'invalid_request'),
  signature_multiple: spec(400, 'Bad Request', 'invalid_request'),
  signature_agent_invalid: spec(400, 'Bad Request', 'invalid_request'),
  content_digest_mismatch: spec(400, 'Bad Request', 'invalid_request'),
  signature_component_missing: spec(401, 'Unauthorized', 'invalid_signature'),
  signature_authority_mismatch: spec(401, 'Unauthorized', 'invalid_signature'),
  signature_expired: spec(401, 'Unauthorized', 'invalid_signature'),
  signature_tag_invalid: spec(401, 'Unauthorized', 'invalid_signature'),
  signature_alg_unsupported: spec(401, 'Unauthorized', 'invalid_signature'),
  signature_nonce_required: spec(401, 'Unauthorized', 'invalid_signature'),
  signature_invalid: spec(401, 'Unauthorized', 'invalid_signature'),
  signature_replayed: spec(401, 'Unauthorized', 'invalid_signature'),
  // 403: authenticated, ACL says no (or nothing matches)
  forbidden: spec(403, 'Forbidden', 'insufficient_scope'),
  // CSRF guard of the session cookie (PROTOCOL.md §4)
  cookie_origin_refused: spec(403, 'Forbidden'),
  cookie_origin_missing: spec(403, 'Forbidden'),
  // CORS (http/cors.ts): a preflight, or a request with credentials, from an origin not in cors.origins
  cors_origin_refused: spec(403, 'Forbidden'),
  insufficient_scope: spec(403, 'Forbidden', 'insufficient_scope'),
  // 429: abuse limits
  rate_limited: spec(429, 'Too Many Requests'),
  // 5xx: our side or the upstream's
  replay_store_unavailable: spec(503, 'Service Unavailable'),
  upstream_unavailable: spec(502, 'Bad Gateway'),
  upstream_timeout: spec(504, 'Gateway Timeout'),
  internal_error: spec(500, 'Internal Server Error'),
} as const satisfies Record<string, ErrorSpec>

export type ErrorCode = keyof typeof ERRORS

/** RFC 6750 §3: error_description is limited to %x20-21 / %x23-5B / %x5D-7E. */
export function sanitizeDescription(text: string): string {
  return text.replace(/[^\x20-\x21\x23-\x5b\x5d-\x7e]/g, '?').slice(0, 200)
}

export class GatewayError extends Error {
  readonly code: ErrorCode
  readonly status: number
  readonly authError: AuthError | undefined
  readonly title: string
  /** Client-safe: never holds a credential; printable ASCII without `"` or `\`. */
  readonly detail: string
  /** Sent as Retry-After (429, 503). */
  readonly retryAfterSec: number | undefined
  /**
   * A key fetch failed because the key host could not be reached or answered
   * 5xx (RFC 5861 §4 "stale-if-error": an error, not an answer): a key that
   * verified before may be served stale (keys/document-cache.ts).
   */
  readonly outage: boolean

  constructor(code: ErrorCode, detail?: string, options?: { cause?: unknown; retryAfterSec?: number; outage?: boolean }) {
    const s = ERRORS[code]
    const safe = sanitizeDescription(detail ?? s.title)
    super(safe, options)
    this.name = 'GatewayError'
    this.code = code
    this.status = s.status
    this.authError = s.authError
    this.title = s.title
    this.retryAfterSec = options?.retryAfterSec
    this.outage = options?.outage === true
    this.detail = safe
  }
}

/**
 * Refusals that are a step of a normal flow, not a failure: a request without
 * credentials (the challenge) and the codes a scheme registers as such (a
 * DPoP proof without the nonce this gateway requires, RFC 9449 §8).
 * Logged and counted as decision `challenge`, like the first 401.
 */
export const CHALLENGE_CODES: ReadonlySet<string> = new Set<string>(['credentials_missing', ...SCHEME_CHALLENGE_CODES])

export const isGatewayError = (e: unknown): e is GatewayError => e instanceof GatewayError

/** 403 insufficient_scope for a rule's `scopes` (RFC 6750 §3.1); `scope` is the challenge's `scope` parameter (§3). */
export class InsufficientScopeError extends GatewayError {
  constructor(readonly scope: string) {
    super('insufficient_scope', 'the access token lacks a scope this route requires')
  }
}
