// An RFC 7662 §2.2 introspection response, read as a DPoP-bound token
// (RFC 9449 §6.2). Pure but for `nowMs`. Returns the token's facts; throws
// GatewayError (401 invalid_token): token_inactive, token_unbound,
// token_expired, token_audience_mismatch, introspection_identity_mismatch,
// introspection_failed (not a usable JSON answer), token_invalid.
//
// The answer never names the identity: that is the configured issuer's host,
// decided before the ACL ran. An answer that says another issuer is refused,
// and its `sub` is only a subject within the issuer's domain (X-PoP-Subject).

import { GatewayError } from '../../../errors.js'
import { isSameIssuer } from '../../../identity/issuer.js'
import { optionalHeaderSafe, readScopes } from '../../../proofs/access-token.js'

export interface IntrospectedToken {
  /** RFC 9449 §6.2: `cnf.jkt`, the SHA-256 thumbprint of the key the token is bound to. */
  readonly jkt: string
  readonly sub: string | undefined
  readonly clientId: string | undefined
  readonly scopes: readonly string[]
  /** `exp` in ms, when the answer gave one. */
  readonly expMs: number | undefined
}

export interface AnswerPolicy {
  /** The configured issuer, canonical (identity/issuer.ts). */
  readonly issuer: string
  /** The `aud` the token must name, when the answer carries `aud`. */
  readonly audience: string
  readonly nowMs: number
  readonly clockSkewMs: number
}

const THUMBPRINT = /^[A-Za-z0-9_-]{43}$/

export function readIntrospectionAnswer(body: Uint8Array | string, p: AnswerPolicy): IntrospectedToken {
  let doc: unknown
  try {
    doc = JSON.parse(typeof body === 'string' ? body : Buffer.from(body).toString('utf8'))
  } catch {
    throw new GatewayError('introspection_failed', 'the introspection answer is not JSON')
  }
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) throw new GatewayError('introspection_failed', 'the introspection answer is not a JSON object')
  const a = doc as Record<string, unknown>
  // RFC 7662 §2.2: `active` is REQUIRED; anything but the boolean true is an inactive token.
  if (a.active !== true) throw new GatewayError('token_inactive', 'the issuer says this token is not active')
  // The identity was decided from configuration; an answer about another issuer's token is not ours to use.
  if (a.iss !== undefined && !isSameIssuer(a.iss, p.issuer)) {
    throw new GatewayError('introspection_identity_mismatch', 'the introspection answer names another issuer than the one configured')
  }
  // RFC 9449 §6.2: a DPoP-bound token says token_type DPoP (when the server says any) and carries cnf.jkt.
  if (a.token_type !== undefined && (typeof a.token_type !== 'string' || a.token_type.toLowerCase() !== 'dpop')) {
    throw new GatewayError('token_unbound', 'the introspected token is not a DPoP token: a bearer token is not accepted')
  }
  const cnf = a.cnf
  if (cnf === null || typeof cnf !== 'object' || Array.isArray(cnf) || !Object.hasOwn(cnf, 'jkt')) {
    throw new GatewayError('token_unbound', 'the introspected token has no cnf.jkt: a bearer token is not accepted')
  }
  const jkt = (cnf as Record<string, unknown>).jkt
  if (typeof jkt !== 'string' || !THUMBPRINT.test(jkt)) throw new GatewayError('token_invalid', 'the introspected cnf.jkt is not a SHA-256 JWK thumbprint')

  const expMs = seconds(a.exp, 'exp')
  if (expMs !== undefined && expMs + p.clockSkewMs <= p.nowMs) throw new GatewayError('token_expired', 'the access token has expired')
  const nbfMs = seconds(a.nbf, 'nbf')
  if (nbfMs !== undefined && nbfMs - p.clockSkewMs > p.nowMs) throw new GatewayError('token_expired', 'the access token is not valid yet')
  // RFC 7662 §2.2 `aud` is OPTIONAL; when the server says it, it must name this gateway (RFC 8725 §3.9).
  const aud = a.aud
  if (aud !== undefined) {
    const ok = typeof aud === 'string' ? aud === p.audience : Array.isArray(aud) && aud.includes(p.audience)
    if (!ok) throw new GatewayError('token_audience_mismatch', 'the introspected aud does not name this gateway')
  }
  return {
    jkt,
    sub: optionalHeaderSafe(a.sub, 'sub'),
    clientId: optionalHeaderSafe(a.client_id, 'client_id'),
    scopes: readScopes(a.scope),
    expMs,
  }
}

function seconds(v: unknown, name: string): number | undefined {
  if (v === undefined) return undefined
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new GatewayError('token_invalid', `the introspected ${name} must be a number`)
  return v * 1000
}
