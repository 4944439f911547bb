// An issuer token whose key confirmation is `cnf.jwe` (RFC 7800 §3.3;
// PROTOCOL.md §4): every check of a DPoP-bound token that needs no key
// (schemes/dpop/token.ts readSignedToken: typ, iss → identity, alg allowlist,
// exp/nbf, aud), then the `cnf` shape and the JWE's header (proofs/cnf-jwe.ts
// splitCnfJwe). Pure but for `nowMs`. Nothing is decrypted here: that waits
// for the issuer's signature, after the ACL (verify).

import { GatewayError } from '../../errors.js'
import { splitCnfJwe, type CnfJweParts } from '../../proofs/cnf-jwe.js'
import { readSignedToken, type SignedTokenFacts, type TokenContext } from '../../proofs/access-token.js'

export interface SymmetricToken extends SignedTokenFacts {
  /** The token's own `jti`: its `cnf.jwe` must replicate it. */
  readonly jti: string
  /** `exp`, ms: the opened key is cached no longer. */
  readonly expMs: number
  readonly cnf: CnfJweParts
}

const bad = (why: string): GatewayError => new GatewayError('token_invalid', why)

export function readSymmetricToken(token: string, ctx: TokenContext): SymmetricToken {
  const { facts, payload } = readSignedToken(token, ctx)
  const cnf = payload.cnf
  if (cnf === undefined) throw new GatewayError('token_unbound', 'the token has no cnf: a bearer token is not accepted')
  if (cnf === null || typeof cnf !== 'object' || Array.isArray(cnf)) throw bad('token cnf must be an object')
  const members = Object.keys(cnf)
  // RFC 7800 §3.1: one confirmation method; a cnf.jwk or cnf.jkt token goes with a DPoP proof (PROTOCOL.md §3).
  if (members.length !== 1 || members[0] !== 'jwe') throw bad('a DomainPoP-Session issuer token must hold exactly cnf.jwe; a cnf.jwk or cnf.jkt token is presented with DPoP')
  const jti = payload.jti
  if (typeof jti !== 'string' || jti.length === 0 || jti.length > 256) throw bad('token jti is required: cnf.jwe is bound to it')
  return { ...facts, jti, expMs: (payload.exp as number) * 1000, cnf: splitCnfJwe((cnf as Record<string, unknown>).jwe) }
}
