// The `dpop:` config section (PROTOCOL.md §3, docs/configuration.md): its
// types and its reader, validated once with the rest of the config.

import { Section, bool, filePath, httpUrl, listOf, mapOf, oneOf, scalar, type Reader } from '../../config/readers.js'
import { audience } from '../../config/sections/features.js'
import { canonicalIssuer, readIssuer } from '../../identity/issuer.js'
import { readIntrospection, type IntrospectionConfig } from './introspection/config.js'

/** Access-token signing algorithms an issuer may sign with (RFC 7518 §3.1); never `none` or HS*. */
export const TOKEN_ALGORITHMS = ['RS256', 'PS256', 'ES256', 'ES384', 'EdDSA', 'Ed25519'] as const
export type TokenAlgorithm = typeof TOKEN_ALGORITHMS[number]
/** Default allowlist for issuers that are not pinned: what authorization servers use. */
const DEFAULT_TOKEN_ALGORITHMS: readonly TokenAlgorithm[] = ['RS256', 'PS256', 'ES256', 'EdDSA', 'Ed25519']

export interface PinnedIssuer {
  readonly jwksUri: string | undefined
  /** Absolute path of a JWK Set on disk (read at load). */
  readonly jwksFile: string | undefined
  readonly audience: string | undefined
  readonly algorithms: readonly TokenAlgorithm[] | undefined
  /** RFC 7662: the issuer answers for its opaque tokens here (introspection/). */
  readonly introspection?: IntrospectionConfig | undefined
}

export interface DpopConfig {
  /** Accept `Authorization: DPoP` + `DPoP` (schemes/dpop/). */
  readonly enabled: boolean
  /** The `aud` access tokens must hold; undefined: publicOrigin. */
  readonly audience: string | undefined
  /** Access-token algorithms of issuers that are not pinned. */
  readonly algorithms: readonly TokenAlgorithm[]
  /** RFC 9449 §9: every proof must carry a nonce this gateway issued. */
  readonly requireNonce: boolean
  /** Issuer URL → where its keys are (pinned issuers), and its own audience and algorithms. */
  readonly issuers: Readonly<Record<string, PinnedIssuer>>
  /** Issuers advertised in the RFC 9728 document besides the pinned ones (discovered, not pinned). */
  readonly authorizationServers?: readonly string[]
}

const tokenAlgorithms = listOf(scalar(oneOf(TOKEN_ALGORITHMS)), { nonEmpty: true, unique: true })

const httpsUrl = (example: string) => scalar((v) => {
  const u = httpUrl(v, example)
  return typeof u === 'string' ? u : u.protocol !== 'https:' ? 'must be an https: URL' : { value: u.href }
})

/** An issuer identifier as written: compared byte for byte with a token's `iss` (RFC 8414 §2). */
const issuerId = scalar((v) => {
  const u = httpUrl(v, 'https://as.alice.example')
  return typeof u === 'string' ? u : u.protocol !== 'https:' ? 'must be an https: URL' : { value: v as string }
})

/** `dpop.issuers`: issuer URL → where its keys are, and its own audience and algorithms. */
const issuers: Reader<Record<string, PinnedIssuer>> = mapOf(
  (k) => {
    const u = httpUrl(k, 'https://as.alice.example')
    if (typeof u === 'string') return u
    if (u.protocol !== 'https:') return 'must be an https: URL (PROTOCOL.md §3)'
    // The form tokens' iss must have (identity/issuer.ts), so a pinned issuer can match one.
    const issuer = readIssuer(k as string)
    return typeof issuer === 'string' ? `is not an issuer a token can name: ${issuer}` : { value: k as string }
  },
  (node, path, source) => {
    const s = new Section({ file: source, overrides: new Map() }, node, path, ['jwksUri', 'jwksFile', 'audience', 'algorithms', 'introspection'])
    const jwksUri = s.get('jwksUri', httpsUrl('https://as.alice.example/jwks'), undefined)
    const jwksFile = s.get('jwksFile', scalar(filePath), undefined)
    const introspection = readIntrospection(s)
    // An issuer of opaque tokens only needs no key set; one that also signs JWTs names it.
    if (introspection === undefined && jwksUri === undefined && jwksFile === undefined && !s.has('jwksUri') && !s.has('jwksFile')) {
      s.report('jwksUri', 'is required (or jwksFile: a JWK Set on disk, or introspection: for opaque tokens)')
    }
    if (jwksUri !== undefined && jwksFile !== undefined) s.report('jwksFile', 'give jwksUri or jwksFile, not both')
    return {
      jwksUri,
      jwksFile,
      audience: s.get('audience', scalar(audience), undefined),
      algorithms: s.get('algorithms', tokenAlgorithms, undefined),
      ...(introspection !== undefined ? { introspection } : {}),
    }
  },
)

export function readDpop(root: Section): DpopConfig {
  const d = root.sub('dpop', ['enabled', 'audience', 'issuers', 'algorithms', 'requireNonce', 'authorizationServers'])
  return {
    enabled: d.get('enabled', scalar(bool), false),
    audience: d.get('audience', scalar(audience), undefined),
    algorithms: d.get('algorithms', tokenAlgorithms, DEFAULT_TOKEN_ALGORITHMS),
    requireNonce: d.get('requireNonce', scalar(bool), true),
    issuers: oneIntrospecting(d, pinnedOnce(d, d.get('issuers', issuers, {}))),
    authorizationServers: d.get('authorizationServers', listOf(issuerId, { unique: true }), []),
  }
}

/** `https://alice.test` and `https://alice.test/` are one issuer (identity/issuer.ts): pinned once. */
function pinnedOnce(d: Section, pinned: DpopConfig['issuers']): DpopConfig['issuers'] {
  const seen = new Map<string, string>()
  for (const iss of Object.keys(pinned)) {
    const url = readIssuer(iss)
    if (typeof url === 'string') continue
    const canonical = canonicalIssuer(url)
    const first = seen.get(canonical)
    if (first !== undefined) d.report('issuers', `${iss} and ${first} are the same issuer; pin it once`)
    seen.set(canonical, iss)
  }
  return pinned
}

/**
 * An opaque token names no issuer, so the configuration must (PROTOCOL.md §3:
 * the identity is known before any I/O): at most one pinned issuer
 * introspects, and every opaque token is that issuer's.
 */
function oneIntrospecting(d: Section, pinned: DpopConfig['issuers']): DpopConfig['issuers'] {
  const named = Object.entries(pinned).filter(([, p]) => p.introspection !== undefined).map(([iss]) => iss)
  if (named.length > 1) d.report('issuers', `only one issuer may have introspection (opaque tokens name no issuer); ${named.join(' and ')} both do`)
  return pinned
}
