// The codes and challenge words the scheme folders register beside the
// gateway's own (src/errors.ts): one line per folder that has its own. Plain
// data, so src/errors.ts (which everything imports) stays free of cycles.

import { DPOP_AUTH_ERRORS, DPOP_ERRORS } from './dpop/errors.js'
import { MTLS_ERRORS } from './mtls/errors.js'

export const SCHEME_AUTH_ERRORS = { ...DPOP_AUTH_ERRORS } as const
export const SCHEME_ERRORS = { ...DPOP_ERRORS, ...MTLS_ERRORS } as const
