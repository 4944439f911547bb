// DPoP's codes and challenge words (PROTOCOL.md §3, RFC 9449, RFC 6750 §3.1),
// registered with the gateway's through src/schemes/errors.ts. Plain data:
// src/errors.ts builds its registry from it, so this file imports nothing.

/** The `error` words only DPoP's challenge says. */
export const DPOP_AUTH_ERRORS = {
  use_dpop_nonce: 'RFC 9449 §8',
  invalid_dpop_proof: 'RFC 9449 §7.1',
} as const

/** RFC 9449 §8: the nonce round trip is a step of a client's first request, not a failure. */
export const DPOP_CHALLENGE_CODES = ['dpop_nonce_required'] as const

const BAD_REQUEST = { status: 400, title: 'Bad Request' } as const
const UNAUTHORIZED = { status: 401, title: 'Unauthorized' } as const

export const DPOP_ERRORS = {
  dpop_credentials_invalid: { ...BAD_REQUEST, authError: 'invalid_request' },
  // The access token is wrong: invalid_token.
  token_invalid: { ...UNAUTHORIZED, authError: 'invalid_token' },
  token_alg_unsupported: { ...UNAUTHORIZED, authError: 'invalid_token' },
  token_expired: { ...UNAUTHORIZED, authError: 'invalid_token' },
  token_audience_mismatch: { ...UNAUTHORIZED, authError: 'invalid_token' },
  token_unbound: { ...UNAUTHORIZED, authError: 'invalid_token' },
  token_bearer_refused: { ...UNAUTHORIZED, authError: 'invalid_token' },
  token_signature_invalid: { ...UNAUTHORIZED, authError: 'invalid_token' },
  token_issuer_not_allowed: { ...UNAUTHORIZED, authError: 'invalid_token' },
  issuer_metadata_invalid: { ...UNAUTHORIZED, authError: 'invalid_token' },
  // RFC 7662 introspection of opaque tokens: every failure is the token's (401), never the gateway's.
  token_inactive: { ...UNAUTHORIZED, authError: 'invalid_token' },
  introspection_failed: { ...UNAUTHORIZED, authError: 'invalid_token' },
  introspection_identity_mismatch: { ...UNAUTHORIZED, authError: 'invalid_token' },
  // RFC 9449 §8, §7.1: the nonce, the proof.
  dpop_nonce_required: { ...UNAUTHORIZED, authError: 'use_dpop_nonce' },
  dpop_nonce_invalid: { ...UNAUTHORIZED, authError: 'use_dpop_nonce' },
  dpop_proof_invalid: { ...UNAUTHORIZED, authError: 'invalid_dpop_proof' },
  dpop_proof_mismatch: { ...UNAUTHORIZED, authError: 'invalid_dpop_proof' },
  dpop_proof_signature_invalid: { ...UNAUTHORIZED, authError: 'invalid_dpop_proof' },
  dpop_proof_replayed: { ...UNAUTHORIZED, authError: 'invalid_dpop_proof' },
} as const
