// A bound access token (PROTOCOL.md §3; RFC 9068, RFC 7800): every check that
// needs no key. Both token families read it here: DPoP-bound tokens (RFC 9449
// §6, `cnf.jkt` or `cnf.jwk`) and certificate-bound ones (RFC 8705 §3,
// `cnf["x5t#S256"]`, presented as DPoP or as Bearer). A token bound to
// nothing is a bearer token and is refused. Pure but for `nowMs`. Reads the
// compact JWT and the issuer policy; returns what verify needs; throws
// GatewayError (token_* codes, 401 invalid_token; proof_too_large).
// Whether a certificate binding matches the connection is the caller's
// check (proofs/certificate-binding.ts): it needs the request's certificate.
//
// The token's signature is checked in verify, with the issuer's keys, after
// the ACL has said yes to the issuer's host. Everything here only decides
// whether that is worth doing, and what identity to ask the ACL about.

import { GatewayError, isGatewayError } from '../errors.js'
import type { Identity } from '../identity/domain.js'
import { readIssuer, type IssuerRule } from '../identity/issuer.js'
import { splitCompactJws } from './jws.js'
import { SIGNATURE_ALGORITHMS, type SignatureAlgorithm } from './signature.js'
import { readPublicJwk } from './public-jwk.js'

/** RFC 9068 §2.1 `at+jwt` (and its long form); plain `JWT` for issuers that predate it. */
const TOKEN_TYPS: ReadonlySet<unknown> = new Set(['at+jwt', 'application/at+jwt', 'JWT'])
/** Members a JWS header must not carry here: we do not understand `crit`, and a JWE is not a signed token. */
const FORBIDDEN_HEADER = ['crit', 'enc', 'zip'] as const
const THUMBPRINT = /^[A-Za-z0-9_-]{43}$/
/** Values forwarded in identity headers: printable ASCII, bounded (a header cannot carry CR/LF). */
const HEADER_SAFE = /^[\x20-\x7e]{1,512}$/
/** RFC 6749 §3.3 scope-token. */
const SCOPE_TOKEN = /^[\x21\x23-\x5b\x5d-\x7e]{1,256}$/

/** What the operator configured for one issuer, or the defaults for an issuer named only by its token. */
export interface IssuerPolicy {
  readonly audience: string
  readonly algorithms: readonly string[]
}

export interface AccessToken {
  readonly identity: Identity
  /** `iss` in canonical form (identity/issuer.ts): the key for pinned settings and the metadata's `issuer`. */
  readonly issuer: string
  /** Pinned in `dpop.issuers`: keys from configuration, never discovered. */
  readonly pinned: boolean
  readonly issuerUrl: URL
  readonly alg: SignatureAlgorithm
  readonly kid: string | undefined
  /** `cnf.jkt`, or the thumbprint of `cnf.jwk` (RFC 9449 §6); undefined when the token is bound only to a certificate. */
  readonly jkt: string | undefined
  /** `cnf["x5t#S256"]` as the token carries it (RFC 8705 §3.1), unchecked: proofs/certificate-binding.ts compares it with the request's certificate. */
  readonly x5tS256: string | undefined
  readonly sub: string | undefined
  readonly clientId: string | undefined
  readonly scopes: readonly string[]
  readonly signingInput: string
  readonly signature: Buffer
}

export interface TokenContext {
  readonly nowMs: number
  readonly clockSkewMs: number
  readonly maxBytes: number
  readonly allowPorts: readonly number[] | 'any'
  /** Which issuers may speak for their host (identity/issuer.ts). */
  readonly issuers: IssuerRule
  /** By canonical issuer. */
  readonly policyFor: (issuer: string) => IssuerPolicy
}

const bad = (why: string): GatewayError => new GatewayError('token_invalid', why)

/** An access token with its `cnf` read by `readCnf` (a DPoP token: exactly one of jkt or jwk). */
export function readAccessToken(token: string, ctx: TokenContext): AccessToken {
  const { facts, payload } = readSignedToken(token, ctx)
  return { ...facts, ...readConfirmation(payload.cnf) }
}

/** Everything of an issuer's signed token but its `cnf` (shared with schemes/issuer-symmetric, whose `cnf` is `jwe`). */
export interface SignedTokenFacts extends Omit<AccessToken, 'jkt' | 'x5tS256'> {}

/** The checks every issuer token gets before its key is known (RFC 9068, RFC 8725); `payload` for the caller's own `cnf`. */
export function readSignedToken(token: string, ctx: TokenContext): { facts: SignedTokenFacts; payload: Readonly<Record<string, unknown>> } {
  let jws
  try {
    jws = splitCompactJws(token, ctx.maxBytes)
  } catch (err) {
    throw isGatewayError(err) && err.code === 'malformed_proof' ? bad('the access token is not a compact JWS') : err
  }
  const { header, payload } = jws
  // RFC 8725 §3.11-3.12: a DPoP proof or a DomainPoP proof is never a token here.
  if (!TOKEN_TYPS.has(header.typ)) throw bad('token typ must be at+jwt or JWT')
  for (const m of FORBIDDEN_HEADER) if (Object.hasOwn(header, m)) throw bad(`token header member ${m} is not allowed`)

  const iss = payload.iss
  if (typeof iss !== 'string') throw bad('token iss is required')
  const issuerUrl = readIssuerUrl(iss, ctx.allowPorts)
  // Issue 19: a path of a domain speaks for the domain only when its operator pinned it.
  const { issuer, pinned } = ctx.issuers.admit(issuerUrl)
  const identity = issuerUrl.hostname as Identity
  const policy = ctx.policyFor(issuer)

  // RFC 8725 §3.1: the issuer's allowlist, exact case; never none or a MAC.
  const alg = header.alg
  if (typeof alg !== 'string' || !policy.algorithms.includes(alg) || !SIGNATURE_ALGORITHMS.has(alg)) {
    throw new GatewayError('token_alg_unsupported', `token alg must be one of ${policy.algorithms.join(' ')}`)
  }
  const kid = header.kid
  if (kid !== undefined && (typeof kid !== 'string' || kid.length === 0 || kid.length > 256)) throw bad('token kid must be a short string')

  const exp = payload.exp
  if (typeof exp !== 'number' || !Number.isFinite(exp)) throw bad('token exp is required')
  if (exp * 1000 + ctx.clockSkewMs <= ctx.nowMs) throw new GatewayError('token_expired', 'the access token has expired')
  const nbf = payload.nbf
  if (nbf !== undefined) {
    if (typeof nbf !== 'number' || !Number.isFinite(nbf)) throw bad('token nbf must be a number')
    if (nbf * 1000 - ctx.clockSkewMs > ctx.nowMs) throw new GatewayError('token_expired', 'the access token is not valid yet')
  }
  // RFC 8725 §3.9, RFC 9068 §4: aud must name this gateway.
  const aud = payload.aud
  const audOk = typeof aud === 'string' ? aud === policy.audience : Array.isArray(aud) && aud.includes(policy.audience)
  if (!audOk) throw new GatewayError('token_audience_mismatch', 'token aud does not name this gateway')

  const facts: SignedTokenFacts = {
    identity, issuer, pinned, issuerUrl, alg: alg as SignatureAlgorithm, kid: kid as string | undefined,
    sub: optionalHeaderSafe(payload.sub, 'sub'),
    clientId: optionalHeaderSafe(payload.client_id, 'client_id'),
    scopes: readScopes(payload.scope),
    signingInput: jws.signingInput,
    signature: jws.signature,
  }
  return { facts, payload }
}

/**
 * `iss` must be an https URL in canonical form whose host is a valid identity
 * (PROTOCOL.md §3, identity/issuer.ts), on an allowed port.
 */
export function readIssuerUrl(issuer: string, allowPorts: readonly number[] | 'any'): URL {
  const url = readIssuer(issuer)
  if (typeof url === 'string') throw bad(`token iss ${url}`)
  if (url.port !== '' && allowPorts !== 'any' && !allowPorts.includes(Number(url.port))) throw bad(`token iss port ${url.port} is not allowed`)
  return url
}

/** What the token is bound to: a DPoP key, a client certificate, or both. */
export interface Confirmation { readonly jkt: string | undefined; readonly x5tS256: string | undefined }

const CNF_MEMBERS: ReadonlySet<string> = new Set(['jkt', 'jwk', 'x5t#S256'])

/**
 * RFC 7800 §3.1: at most one of `jkt` (RFC 9449 §6.1) or `jwk` (RFC 7800
 * §3.2), and/or `x5t#S256` (RFC 8705 §3.1); at least one; no other member.
 */
function readConfirmation(cnf: unknown): Confirmation {
  if (cnf === undefined) throw new GatewayError('token_unbound', 'the token has no cnf: a bearer token is not accepted')
  if (cnf === null || typeof cnf !== 'object' || Array.isArray(cnf)) throw bad('token cnf must be an object')
  const members = Object.keys(cnf)
  if (members.length === 0 || !members.every((m) => CNF_MEMBERS.has(m))) throw bad('token cnf must hold jkt, jwk or x5t#S256')
  const c = cnf as Record<string, unknown>
  if (Object.hasOwn(c, 'jkt') && Object.hasOwn(c, 'jwk')) throw bad('token cnf must hold one of jkt or jwk, not both')
  let x5tS256: string | undefined
  if (Object.hasOwn(c, 'x5t#S256')) {
    // The form (43 base64url characters, never hex) is checked with the certificate, where its code says why.
    if (typeof c['x5t#S256'] !== 'string' || c['x5t#S256'].length > 128) throw bad('token cnf x5t#S256 must be a short string')
    x5tS256 = c['x5t#S256']
  }
  if (Object.hasOwn(c, 'jkt')) {
    if (typeof c.jkt !== 'string' || !THUMBPRINT.test(c.jkt)) throw bad('token cnf.jkt must be a SHA-256 JWK thumbprint')
    return { jkt: c.jkt, x5tS256 }
  }
  if (Object.hasOwn(c, 'jwk')) {
    const key = readPublicJwk(c.jwk)
    if (typeof key === 'string') throw bad(`token cnf.${key}`)
    return { jkt: key.thumbprint, x5tS256 }
  }
  return { jkt: undefined, x5tS256 }
}

export function optionalHeaderSafe(v: unknown, name: string): string | undefined {
  if (v === undefined) return undefined
  if (typeof v !== 'string' || !HEADER_SAFE.test(v)) throw bad(`token ${name} must be printable ASCII of at most 512 characters`)
  return v
}

/** RFC 6749 §3.3 / RFC 9068 §2.2.3: `scope` is space-separated scope-tokens. */
export function readScopes(v: unknown): readonly string[] {
  if (v === undefined) return []
  if (typeof v !== 'string' || v.length > 4096) throw bad('token scope must be a string')
  const out = v.split(' ').filter((s) => s !== '')
  if (out.length > 64 || !out.every((s) => SCOPE_TOKEN.test(s))) throw bad('token scope is not a list of scope tokens')
  return out
}
