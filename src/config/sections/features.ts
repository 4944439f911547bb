// Sections `dpop` and `identityHeaders` (`sessions` and `cors`: schemes/session/config.ts). Some of their
// switches name features that are not built yet: switching one on is refused,
// never silently ignored (an operator would believe a protection is in
// place). Their other keys are still validated and kept, so a config written
// for the next version fails now, at its line, rather than later.

import type { Config } from '../types.js'
import { Section, bool, filePath, headerPrefix, httpUrl, listOf, mapOf, oneOf, refine, scalar, str, type Reader } from '../readers.js'
import { stripEntry } from './upstream-host.js'

const NOT_YET = 'are not supported by this version yet'

/** Access-token algorithms an issuer may sign with (RFC 7518 §3.1); never `none` or HS*. */
export const TOKEN_ALGORITHMS = ['RS256', 'PS256', 'ES256', 'ES384', 'EdDSA', 'Ed25519'] as const
/** Default allowlist for issuers that are not pinned: what authorization servers use. */
const DEFAULT_TOKEN_ALGORITHMS = ['RS256', 'PS256', 'ES256', 'EdDSA', 'Ed25519']

const tokenAlgorithms = listOf(scalar(oneOf(TOKEN_ALGORITHMS)), { nonEmpty: true, unique: true })

const httpsUrl = (example: string) => scalar((v) => {
  const u = httpUrl(v, example)
  return typeof u === 'string' ? u : u.protocol !== 'https:' ? 'must be an https: URL' : { value: u.href }
})

type PinnedIssuer = Config['dpop']['issuers'][string]

/** `dpop.issuers`: issuer URL → where its keys are, and its own audience and algorithms. */
const issuers: Reader<Record<string, PinnedIssuer>> = mapOf(
  (k) => {
    const u = httpUrl(k, 'https://as.alice.example')
    return typeof u === 'string' ? u : u.protocol !== 'https:' ? 'must be an https: URL (PROTOCOL.md §3)' : { value: k as string }
  },
  (node, path, source) => {
    const s = new Section({ file: source, overrides: new Map() }, node, path, ['jwksUri', 'jwksFile', 'audience', 'algorithms'])
    const jwksUri = s.get('jwksUri', httpsUrl('https://as.alice.example/jwks'), undefined)
    const jwksFile = s.get('jwksFile', scalar(filePath), undefined)
    if (jwksUri === undefined && jwksFile === undefined && !s.has('jwksUri') && !s.has('jwksFile')) s.report('jwksUri', 'is required (or jwksFile: a JWK Set on disk)')
    if (jwksUri !== undefined && jwksFile !== undefined) s.report('jwksFile', 'give jwksUri or jwksFile, not both')
    return {
      jwksUri,
      jwksFile,
      audience: s.get('audience', scalar(audience), undefined),
      algorithms: s.get('algorithms', tokenAlgorithms, undefined),
    }
  },
)

export function readDpop(root: Section): Config['dpop'] {
  const d = root.sub('dpop', ['enabled', 'audience', 'issuers', 'algorithms', 'requireNonce'])
  return {
    enabled: d.get('enabled', scalar(bool), false),
    audience: d.get('audience', scalar(audience), undefined),
    algorithms: d.get('algorithms', tokenAlgorithms, DEFAULT_TOKEN_ALGORITHMS as Config['dpop']['algorithms']),
    requireNonce: d.get('requireNonce', scalar(bool), true),
    issuers: d.get('issuers', issuers, {}),
  }
}

/** A JWT `aud` value (RFC 7519 StringOrURI): printable, no spaces, bounded. */
const audience = refine(str, (v) => (v.length <= 256 && /^[\x21-\x7e]+$/.test(v) ? { value: v } : 'must be at most 256 printable ASCII characters without spaces (a URL or a name)'))

export function readIdentityHeaders(root: Section): Config['identityHeaders'] {
  const ih = root.sub('identityHeaders', ['prefix', 'assertion', 'assertionAudience', 'forwardAuthorization', 'strip'])
  return {
    prefix: ih.get('prefix', scalar(headerPrefix), 'X-PoP-'),
    // Signing keys come from the secrets file's `assertion` list (secrets/load.ts); pipeline/build-state.ts refuses `true` without one.
    assertion: ih.get('assertion', scalar(bool), false),
    assertionAudience: ih.get('assertionAudience', scalar(audience), undefined),
    forwardAuthorization: ih.get('forwardAuthorization', scalar(bool), false),
    strip: ih.get('strip', listOf(scalar(stripEntry), { unique: true }), []),
  }
}
