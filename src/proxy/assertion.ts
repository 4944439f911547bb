// The signed upstream assertion (PROTOCOL.md §7): `X-PoP-Assertion`, an ES256
// JWT saying who the gateway let in, so an upstream can check that a request
// came through the gateway rather than trusting headers anyone on its network
// could set (docs/upstream.md).
//
//   header  { alg: ES256, typ: popgate-assertion+jwt, kid }
//   claims  iss (publicOrigin), sub (identity), aud (identityHeaders.assertionAudience,
//           default the upstream's origin), iat, exp (iat + 60 s), jti,
//           auth_method, cnf.jkt (RFC 7800 §3.1: the client key's RFC 7638
//           thumbprint), rule (the ACL rule id, when it has one), htm, htu,
//           channel_bound (only when true); for token schemes, when the token
//           has them: token_sub (the token's own `sub`, as X-PoP-Subject: the
//           JWT's `sub` is already the identity), client_id and scope
//
// Built for the hot path: the header segment and the constant claims are
// serialized once per key set; per request one JSON.stringify, one ECDSA
// signature (node:crypto, IEEE P1363 encoding as JWS wants) and a random jti.
// The newest key signs; the JWKS (own-routes) publishes every key.

import { randomUUID, sign } from 'node:crypto'
import type { AssertionKey } from '../secrets/assertion-keys.js'
import type { Principal } from '../schemes/types.js'

export const ASSERTION_TYPE = 'popgate-assertion+jwt'
export const ASSERTION_TTL_SEC = 60
/** Where the gateway publishes the verification keys, under publicOrigin. */
export const JWKS_PATH = '/.well-known/popgate/jwks.json'

export interface AssertionSigner {
  /** The compact JWT for one authenticated request. */
  sign(principal: Principal, method: string, path: string, ruleId: string | undefined, nowMs: number): string
  /** The JWKS document: every configured key, public half only. */
  readonly jwks: string
}

export function createAssertionSigner(keys: readonly AssertionKey[], opts: { issuer: string; audience: string }): AssertionSigner {
  const signer = keys[0]
  if (!signer) throw new Error('createAssertionSigner: at least one key is required')
  const head = Buffer.from(JSON.stringify({ alg: 'ES256', typ: ASSERTION_TYPE, kid: signer.kid })).toString('base64url') + '.'
  const fixed = `{"iss":${JSON.stringify(opts.issuer)},"aud":${JSON.stringify(opts.audience)}`
  const key = { key: signer.privateKey, dsaEncoding: 'ieee-p1363' as const }
  return {
    jwks: JSON.stringify({ keys: keys.map((k) => k.publicJwk) }),
    sign(p, method, path, ruleId, nowMs) {
      const iat = Math.floor(nowMs / 1000)
      const claims: Record<string, unknown> = {
        sub: p.identity, iat, exp: iat + ASSERTION_TTL_SEC, jti: randomUUID(),
        auth_method: p.method, cnf: { jkt: p.thumbprint }, rule: ruleId, htm: method, htu: opts.issuer + path,
      }
      if (p.channelBound) claims.channel_bound = true
      // Everything the upstream sees as an identity header is signed here too (issue 19, Info).
      const token = p.token
      if (token !== undefined) {
        if (token.sub !== undefined) claims.token_sub = token.sub
        if (token.clientId !== undefined) claims.client_id = token.clientId
        if (token.scopes !== undefined && token.scopes.length > 0) claims.scope = token.scopes.join(' ')
      }
      // `fixed` is an object's opening: splice the per-request members after it.
      const body = fixed + ',' + JSON.stringify(claims).slice(1)
      const input = head + Buffer.from(body).toString('base64url')
      return input + '.' + sign('sha256', Buffer.from(input), key).toString('base64url')
    },
  }
}
