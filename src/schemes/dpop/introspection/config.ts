// `dpop.issuers.<issuer>.introspection` (PROTOCOL.md §3, §4 "Introspection";
// RFC 7662): where a pinned issuer answers for its opaque access tokens, how
// the gateway authenticates there, and how long answers are kept. Read with
// the rest of the `dpop:` section; problems carry file:line like every other.

import { Section, duration, httpUrl, oneOf, scalar, filePath, str, type Check } from '../../../config/readers.js'

/** Client authentication at the introspection endpoint (RFC 7662 §2.1, RFC 6749 §2.3.1, RFC 7523 §2.2). */
export type IntrospectionAuth =
  | { readonly method: 'client_secret_basic'; readonly clientSecret: string }
  | { readonly method: 'private_key_jwt'; readonly keyFile: string; readonly alg: ClientAssertionAlg; readonly kid: string | undefined }

export const CLIENT_ASSERTION_ALGS = ['ES256', 'ES384', 'PS256', 'RS256', 'EdDSA'] as const
export type ClientAssertionAlg = typeof CLIENT_ASSERTION_ALGS[number]

export interface IntrospectionConfig {
  /** RFC 7662 §2: the endpoint, https (or a host in keys.allowHttp, development). */
  readonly endpoint: string
  readonly clientId: string
  readonly auth: IntrospectionAuth
  /** How long an active answer is kept at most; never past the token's `exp`. */
  readonly cacheTtlMs: number
  /** How long an inactive (or unusable) answer is kept. */
  readonly negativeTtlMs: number
}

/** Short enough that a revoked token stops working within a minute; long enough that a busy client costs one call a minute. */
export const DEFAULT_CACHE_TTL_MS = 60_000
export const DEFAULT_NEGATIVE_TTL_MS = 5_000

const endpointUrl = scalar((v) => {
  const u = httpUrl(v, 'https://as.alice.example/introspect')
  if (typeof u === 'string') return u
  if (u.hash !== '') return 'must not have a fragment'
  return { value: u.href }
})

/** RFC 6749 §2.3.1 / Appendix A.1: printable ASCII (VSCHAR), at most 256 characters here. */
const vschar: Check<string> = (v, source) => {
  const s = str(v, source)
  if (typeof s === 'string') return s
  return /^[\x20-\x7e]{1,256}$/.test(s.value) ? s : 'must be 1-256 printable ASCII characters'
}

const KNOWN = ['endpoint', 'clientId', 'clientSecret', 'privateKeyJwt', 'cacheTtl', 'negativeTtl']

/** The `introspection:` map of one pinned issuer, or undefined when absent. */
export function readIntrospection(issuer: Section): IntrospectionConfig | undefined {
  if (!issuer.has('introspection')) return undefined
  const s = issuer.sub('introspection', KNOWN)
  const endpoint = s.required('endpoint', endpointUrl, 'https://invalid.invalid/')
  const clientId = s.required('clientId', scalar(vschar), '')
  const hasSecret = s.has('clientSecret')
  const hasKey = s.has('privateKeyJwt')
  if (hasSecret === hasKey) s.report(hasSecret ? 'privateKeyJwt' : 'clientSecret', 'give exactly one of clientSecret (client_secret_basic) or privateKeyJwt (private_key_jwt)')
  let auth: IntrospectionAuth
  if (hasKey) {
    const k = s.sub('privateKeyJwt', ['keyFile', 'alg', 'kid'])
    auth = {
      method: 'private_key_jwt',
      keyFile: k.required('keyFile', scalar(filePath), ''),
      alg: k.get('alg', scalar(oneOf(CLIENT_ASSERTION_ALGS)), 'ES256'),
      kid: k.get('kid', scalar(vschar), undefined),
    }
  } else {
    auth = { method: 'client_secret_basic', clientSecret: s.get('clientSecret', scalar(vschar), '') }
  }
  const cacheTtlMs = s.get('cacheTtl', duration({ allowZero: true }), DEFAULT_CACHE_TTL_MS)
  const negativeTtlMs = s.get('negativeTtl', duration({ allowZero: true }), DEFAULT_NEGATIVE_TTL_MS)
  return { endpoint, clientId, auth, cacheTtlMs, negativeTtlMs }
}
