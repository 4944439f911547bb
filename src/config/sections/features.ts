// Section `identityHeaders` (the scheme modules own theirs: src/schemes/<name>/;
// `cors` is config/sections/cors.ts).

import type { Config } from '../types.js'
import { Section, bool, headerPrefix, listOf, refine, scalar, size, str } from '../readers.js'
import { stripEntry } from './upstream-host.js'

/** A JWT `aud` value (RFC 7519 StringOrURI): printable, no spaces, bounded. */
export const audience = refine(str, (v) => (v.length <= 256 && /^[\x21-\x7e]+$/.test(v) ? { value: v } : 'must be at most 256 printable ASCII characters without spaces (a URL or a name)'))

export function readIdentityHeaders(root: Section): Config['identityHeaders'] {
  const ih = root.sub('identityHeaders', ['prefix', 'assertion', 'assertionAudience', 'signature', 'signatureMaxBody', 'forwardAuthorization', 'strip'])
  return {
    prefix: ih.get('prefix', scalar(headerPrefix), 'X-PoP-'),
    // Signing keys come from the secrets file's `assertion` list (secrets/load.ts); assembly/build-state.ts refuses `true` without one.
    assertion: ih.get('assertion', scalar(bool), false),
    assertionAudience: ih.get('assertionAudience', scalar(audience), undefined),
    // Signed with the same assertion keys; pipeline/build-state.ts refuses `true` without one.
    signature: ih.get('signature', scalar(bool), false),
    signatureMaxBodyBytes: ih.get('signatureMaxBody', size, 1024 * 1024),
    forwardAuthorization: ih.get('forwardAuthorization', scalar(bool), false),
    strip: ih.get('strip', listOf(scalar(stripEntry), { unique: true }), []),
  }
}
