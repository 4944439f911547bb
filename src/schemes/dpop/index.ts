// The DPoP scheme (PROTOCOL.md §3): `Authorization: DPoP <access token>` plus
// `DPoP: <proof>` (RFC 9449), the token issued by an OAuth server on the
// identity's domain and bound to the proof's key (RFC 7800 `cnf`).
//   parse  — no I/O: the token's and the proof's static checks (token.ts,
//            proof.ts); the identity is the host of the token's `iss`, when
//            that issuer may speak for its host (identity/issuer.ts)
//   verify — after the gate's ACL step: the issuer's keys (issuers.ts, through
//            the keys layer), the token's and the proof's signatures, then
//            `jti` single use
// A token already verified is taken from the token cache (token-cache.ts):
// its parse and signature check are skipped while its issuer's key is the
// same; the proof, its `jti` and the ACL are checked on every request.
// Also owns `Authorization: Bearer`, only to refuse it (RFC 9449 §7.2): this
// gateway takes no bearer tokens, and a DPoP-bound one presented as Bearer is
// a downgrade. Challenge: `WWW-Authenticate: DPoP algs=…` plus `DPoP-Nonce`.

import { GatewayError, InsufficientScopeError } from '../../errors.js'
import { parseAuthorization, serializeChallenge } from '../../http/auth-header.js'
import { verifySignature, keyFitsAlgorithm } from '../../proofs/signature.js'
import type { KeySet } from '../../keys/index.js'
import type { NonceIssuer } from '../../secrets/nonce.js'
import type { Config } from '../../config/types.js'
import type { SchemeReplay } from '../module.js'
import type { Claim, Principal, Scheme } from '../types.js'
import type { DpopConfig } from './config.js'
import { readAccessToken, type AccessToken, type IssuerPolicy } from './token.js'
import { canonicalIssuer, compileIssuerRule, readIssuer } from '../../identity/issuer.js'
import { readDpopProof, DPOP_PROOF_ALGORITHMS, type DpopProof } from './proof.js'
import type { IssuerKeys, PinnedKeys } from './issuers.js'
import { createTokenCache, tokenHash, type CachedToken, type TokenCache } from './token-cache.js'

export const DPOP_NONCE_HEADER = 'DPoP-Nonce'

export interface DpopClaim extends Claim {
  readonly token: AccessToken
  readonly proof: DpopProof
  /** base64url SHA-256 of the token: the token cache's key, and the proof's `ath`. */
  readonly tokenHash: string
  /** The cache's entry when this token was verified before. */
  readonly cached?: CachedToken | undefined
}

export interface DpopDeps {
  readonly publicOrigin: string
  readonly dpop: DpopConfig
  /** Pinned issuers' keys: a set read from jwksFile at load, or a jwksUri. */
  readonly pinned: ReadonlyMap<string, PinnedKeys>
  readonly proof: Pick<Config['proof'], 'maxAgeMs' | 'clockSkewMs' | 'maxBytes'>
  readonly allowPorts: readonly number[] | 'any'
  readonly issuerKeys: IssuerKeys
  /** Namespaced `dpop`: RFC 9449 §11.1 jti single use for the proof window. */
  readonly replay: SchemeReplay
  readonly nonces: NonceIssuer
  readonly now: () => number
  /** RFC 9728 §5.1: the `resource_metadata` challenge parameter, when the gateway publishes it. */
  readonly resourceMetadata?: string
  /** Verified tokens; default a cache of this scheme's own (TOKEN_CACHE_DEFAULTS). */
  readonly tokenCache?: TokenCache
  /** The signature check (a test counts the token's). Default proofs/signature.ts. */
  readonly verifySignature?: typeof verifySignature
}

/** Our failures in DPoP's words (RFC 9449 §7.1, §9): a key-layer failure is the token's, not a proof's. */
const DPOP_WORDS: Readonly<Record<string, string>> = { use_nonce: 'use_dpop_nonce', invalid_proof: 'invalid_token' }

export function createDpopScheme(deps: DpopDeps): Scheme<DpopClaim> {
  const audience = deps.dpop.audience ?? deps.publicOrigin
  const defaults: IssuerPolicy = { audience, algorithms: deps.dpop.algorithms }
  // Pinned issuers by canonical form (identity/issuer.ts), as tokens' issuers are looked up.
  const policies = new Map<string, IssuerPolicy>(Object.entries(deps.dpop.issuers).map(([iss, p]) => [canonicalPinned(iss), { audience: p.audience ?? audience, algorithms: p.algorithms ?? deps.dpop.algorithms }]))
  const policyFor = (issuer: string): IssuerPolicy => policies.get(issuer) ?? defaults
  const issuers = compileIssuerRule(Object.keys(deps.dpop.issuers))
  const algs = [...DPOP_PROOF_ALGORITHMS].join(' ')
  const tokens = deps.tokenCache ?? createTokenCache()
  const verifySig = deps.verifySignature ?? verifySignature

  return {
    name: 'dpop',
    authScheme: 'DPoP',
    alsoAuthSchemes: ['Bearer'],
    carriesScopes: true,
    fields: ['dpop'],
    // The token and its proof, for an upstream that reads the token itself (a rule's forwardToken).
    forwardable: ['authorization', 'dpop'],

    parse(credentials, ctx) {
      const parsed = parseAuthorization(credentials.authorization ?? '')
      if (!parsed) throw new GatewayError('dpop_credentials_invalid', 'Authorization must be "DPoP <access token>"')
      const bearer = parsed.scheme.toLowerCase() === 'bearer'
      const hash = tokenHash(parsed.credentials)
      // A hit stands for every check readAccessToken made: the same bytes, this scheme's policy, and exp still ahead.
      const cached = tokens.get(hash, ctx.nowMs)
      const token = cached?.token ?? readAccessToken(parsed.credentials, {
        nowMs: ctx.nowMs, clockSkewMs: deps.proof.clockSkewMs, maxBytes: deps.proof.maxBytes, allowPorts: deps.allowPorts, issuers, policyFor,
      })
      // RFC 9449 §7.2: a bound token presented as Bearer is refused (a token without cnf was refused above).
      if (bearer) throw new GatewayError('token_bearer_refused', 'a DPoP-bound token must be presented with the DPoP scheme')
      const proofValue = credentials.fields?.get('dpop')
      if (proofValue === undefined) throw new GatewayError('dpop_credentials_invalid', 'a DPoP proof header is required with a DPoP token')
      const proof = readDpopProof(proofValue, hash, token.jkt, {
        method: ctx.method, path: ctx.path, nowMs: ctx.nowMs, publicOrigin: deps.publicOrigin,
        maxAgeMs: deps.proof.maxAgeMs, clockSkewMs: deps.proof.clockSkewMs, maxBytes: deps.proof.maxBytes,
        requireNonce: deps.dpop.requireNonce, nonces: deps.nonces,
      })
      return { identity: token.identity, token, proof, tokenHash: hash, cached }
    },

    async verify({ token, proof, tokenHash: hash, cached }, ctx): Promise<Principal> {
      // The proof first: it needs no I/O, and a bad one must cost no fetch.
      if (!(await verifySig(proof.alg, proof.key, proof.signingInput, proof.signature))) {
        throw new GatewayError('dpop_proof_signature_invalid', 'DPoP proof signature does not verify')
      }
      const pinned = token.pinned ? deps.pinned.get(token.issuer) : undefined
      // Asked on every request, cached or not: a key gone from the issuer's set refuses the token here.
      const key = await deps.issuerKeys.keyFor(token, pinned, ctx.client)
      if (cached?.key !== key) {
        // Not verified with this key yet (a new token, or the issuer's set changed since): the full check.
        if (cached) tokens.delete(hash)
        if (!keyFitsAlgorithm(key.keyObject, token.alg)) throw new GatewayError('token_signature_invalid', 'the issuer key does not fit the token alg')
        if (!(await verifySig(token.alg, key.keyObject, token.signingInput, token.signature))) {
          throw new GatewayError('token_signature_invalid', 'the access token signature does not verify')
        }
        tokens.set(hash, token, key, deps.now())
      }
      deps.issuerKeys.markProven(token, pinned)
      // RFC 9449 §11.1: jti single use, per identity and key; the namespace keeps DPoP apart from other schemes.
      if (!(await deps.replay.firstUse(`${token.identity}\n${proof.thumbprint}\n${proof.jti}`))) {
        throw new GatewayError('dpop_proof_replayed', 'this DPoP proof was already used')
      }
      // PROTOCOL.md §4, docs/protocol.md: `epk` as an extra claim asks for a session ticket; HKDF takes the
      // proof's nonce (or ""), the gateway's publicOrigin as aud and the proof key's thumbprint as kid.
      // `ses: "cookie"` (an extra claim too) asks for a browser session cookie; `epk` wins when both are sent, as for DomainPoP.
      const epk = proof.claims.epk
      const sessionRequest = epk !== undefined
        ? { kind: 'ticket' as const, epk, nonce: typeof proof.claims.nonce === 'string' ? proof.claims.nonce : '', aud: deps.publicOrigin, kid: proof.thumbprint }
        : proof.claims.ses === 'cookie' ? { kind: 'cookie' as const } : undefined
      return {
        ...(sessionRequest ? { sessionRequest } : {}),
        identity: token.identity,
        method: 'dpop',
        thumbprint: token.jkt,
        confirmation: { jkt: token.jkt },
        channelBound: false,
        token: { sub: token.sub, clientId: token.clientId, scopes: token.scopes },
        // RFC 9449 §8.2: a new nonce may come on any response; send one before the client's expires.
        responseHeaders: proof.nonceRefresh ? [DPOP_NONCE_HEADER, deps.nonces.issue(deps.now())] : undefined,
      }
    },

    challenge(error) {
      const nonce = deps.nonces.issue(deps.now())
      const params: Record<string, string> = { algs }
      if (deps.resourceMetadata !== undefined) params.resource_metadata = deps.resourceMetadata
      if (error?.authError) {
        params.error = DPOP_WORDS[error.authError] ?? error.authError
        params.error_description = error.detail
        if (error instanceof InsufficientScopeError) params.scope = error.scope
      }
      return { field: serializeChallenge('DPoP', params), headers: [DPOP_NONCE_HEADER, nonce] }
    },
  }
}

/** A pinned issuer's keys as the scheme takes them, by canonical issuer (`sets` by the issuer as configured). */
export function pinnedKeys(issuers: DpopConfig['issuers'], sets: ReadonlyMap<string, KeySet>): Map<string, PinnedKeys> {
  const out = new Map<string, PinnedKeys>()
  for (const [iss, p] of Object.entries(issuers)) {
    out.set(canonicalPinned(iss), p.jwksUri !== undefined ? { jwksUri: new URL(p.jwksUri) } : { jwks: sets.get(iss) })
  }
  return out
}

/** A `dpop.issuers` key in canonical form (the config loader already refused one that is not an issuer). */
function canonicalPinned(iss: string): string {
  const url = readIssuer(iss)
  return typeof url === 'string' ? iss : canonicalIssuer(url)
}
