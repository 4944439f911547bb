// The codes and challenge words the scheme folders register beside the
// gateway's own (src/errors.ts): one line per folder that has its own. Plain
// data, so src/errors.ts (which everything imports) stays free of cycles.

import { DPOP_AUTH_ERRORS, DPOP_CHALLENGE_CODES, DPOP_ERRORS } from './dpop/errors.js'
import { MTLS_ERRORS } from './mtls/errors.js'
import { ISSUER_SYMMETRIC_ERRORS } from './issuer-symmetric/errors.js'

export const SCHEME_AUTH_ERRORS = { ...DPOP_AUTH_ERRORS } as const
export const SCHEME_ERRORS = { ...DPOP_ERRORS, ...ISSUER_SYMMETRIC_ERRORS, ...MTLS_ERRORS } as const
/** Scheme codes that are a step of a normal flow (logged and counted as decision `challenge`). */
export const SCHEME_CHALLENGE_CODES: readonly string[] = [...DPOP_CHALLENGE_CODES]
