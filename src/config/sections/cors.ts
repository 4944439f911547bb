// Section `cors`: the origins, besides `publicOrigin`, whose pages may call
// the gateway with credentials — read by the CORS answers (http/cors.ts; a
// rule's `cors.origins` replaces the list for that rule) and by the session
// cookie's CSRF guard (schemes/sessions/csrf.ts, PROTOCOL.md §4). Each entry is an origin as
// `publicOrigin` is (scheme, host, optional port; no path, no `*`),
// normalized to its ASCII serialization (RFC 6454 §6.2), so the CSRF check
// compares strings exactly. One list, validated once.

import type { Config } from '../types.js'
import { Section, listOf, origin, scalar } from '../readers.js'

export function readCors(root: Section): Config['cors'] {
  const c = root.sub('cors', ['origins'])
  return { origins: c.get('origins', listOf(scalar(origin), { unique: true }), []) }
}
