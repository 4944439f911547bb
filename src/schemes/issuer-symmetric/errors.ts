// The issuer-symmetric scheme's codes (PROTOCOL.md §4, "Issuer-provided
// symmetric key"; RFC 7800 §3.3), registered with the gateway's through
// src/schemes/errors.ts. Plain data: this file imports nothing. The proof's
// codes are the session proof's (session_proof_*), the token's the DPoP
// token's (token_*): the same checks, the same words.

const UNAUTHORIZED = { status: 401, title: 'Unauthorized' } as const

export const ISSUER_SYMMETRIC_ERRORS = {
  // The token's cnf.jwe: invalid_token (RFC 6750 §3.1), like every other token failure.
  cnf_jwe_malformed: { ...UNAUTHORIZED, authError: 'invalid_token' },
  cnf_jwe_alg_unsupported: { ...UNAUTHORIZED, authError: 'invalid_token' },
  cnf_jwe_key_unknown: { ...UNAUTHORIZED, authError: 'invalid_token' },
  cnf_jwe_invalid: { ...UNAUTHORIZED, authError: 'invalid_token' },
  cnf_jwe_mismatch: { ...UNAUTHORIZED, authError: 'invalid_token' },
} as const
