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
// An opaque access token (not a compact JWS) is the one introspecting pinned
// issuer's (introspection/): its identity is that issuer's host, known from
// configuration before the ACL runs; verify asks the issuer (RFC 7662) and
// checks the answer's `cnf.jkt` against the proof's key.
// Also owns `Authorization: Bearer`: this gateway takes no plain bearer
// tokens, and a DPoP-bound one presented as Bearer is a downgrade (RFC 9449
// §7.2); the one Bearer token accepted is an RFC 8705 §3 certificate-bound
// one (`cnf["x5t#S256"]` only), on a request whose client certificate it
// names. A DPoP token may carry `x5t#S256` beside `jkt`: then both hold.
// Either way the principal has the `certificate-bound` assurance.
// Challenge: `WWW-Authenticate: DPoP algs=…` plus `DPoP-Nonce`.

import { GatewayError, InsufficientScopeError } from '../../errors.js'
import { parseAuthorization, serializeChallenge } from '../../http/auth-header.js'
import { verifySignature, keyFitsAlgorithm } from '../../proofs/signature.js'
import type { KeySet } from '../../keys/index.js'
import type { NonceIssuer } from '../../secrets/nonce.js'
import type { KeyTrust } from '../../keys/trust.js'
import type { Config } from '../../config/types.js'
import type { SchemeReplay } from '../module.js'
import type { Assurance, Claim, Principal, Scheme } from '../types.js'
import { checkCertificateBinding } from '../../proofs/certificate-binding.js'
import type { ClientCertificate } from '../../tls/certificate.js'
import type { DpopConfig } from './config.js'
import { readAccessToken, type AccessToken, type IssuerPolicy } from '../../proofs/access-token.js'
import { canonicalIssuer, compileIssuerRule, readIssuer } from '../../identity/issuer.js'
import { readDpopProof, DPOP_PROOF_ALGORITHMS, type DpopProof } from './proof.js'
import type { IssuerKeys, PinnedKeys } from './issuers.js'
import { createTokenCache, tokenHash, type CachedToken, type TokenCache } from './token-cache.js'
import type { Introspector } from './introspection/introspector.js'
import type { Identity } from '../../identity/domain.js'

export const DPOP_NONCE_HEADER = 'DPoP-Nonce'

export interface DpopClaim extends Claim {
  /** A JWT access token, read; undefined for an opaque one. */
  readonly token: AccessToken | undefined
  /** An opaque access token as sent, to be introspected (never logged, never a cache key). */
  readonly opaque?: string
  /** Undefined for a certificate-bound Bearer token (RFC 8705 §3): the TLS handshake proved the key. */
  readonly proof: DpopProof | undefined
  /** The client certificate the token's `x5t#S256` named (checked in parse). */
  readonly certificate?: ClientCertificate | undefined
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
  /** The control point for keys learnt from a domain (keys/trust.ts): the issuer's key against the identity's pins, records, newKeys. */
  readonly keyTrust: KeyTrust
  /** Namespaced `dpop`: RFC 9449 §11.1 jti single use for the proof window. */
  readonly replay: SchemeReplay
  readonly nonces: NonceIssuer
  readonly now: () => number
  /** RFC 9728 §5.1: the `resource_metadata` challenge parameter, when the gateway publishes it. */
  readonly resourceMetadata?: string
  /** Verified tokens; default a cache of this scheme's own (TOKEN_CACHE_DEFAULTS). */
  readonly tokenCache?: TokenCache
  /** The one pinned issuer that introspects opaque tokens, and its identity (the issuer's host). */
  readonly introspection?: { readonly identity: Identity; readonly introspector: Introspector }
  /** The signature check (a test counts the token's). Default proofs/signature.ts. */
  readonly verifySignature?: typeof verifySignature
}

const CERTIFICATE_BOUND: ReadonlySet<Assurance> = new Set(['certificate-bound'])

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


  /** RFC 9449 §11.1: jti single use, per identity and key; the namespace keeps DPoP apart from other schemes. */
  async function firstUse(identity: string, proof: DpopProof): Promise<void> {
    if (!(await deps.replay.firstUse(`${identity}\n${proof.thumbprint}\n${proof.jti}`))) {
      throw new GatewayError('dpop_proof_replayed', 'this DPoP proof was already used')
    }
  }

  /** A proof-bound principal; `x5tS256` and `certificate` when the token is also certificate-bound (RFC 8705 §3). */
  function principalOf(identity: string, jkt: string, facts: Principal['token'], proof: DpopProof, x5tS256?: string, certificate?: ClientCertificate): Principal {
    // PROTOCOL.md §4, docs/protocol.md: `epk` as an extra claim asks for a session ticket; HKDF takes the
    // proof's nonce (or ""), the gateway's publicOrigin as aud and the proof key's thumbprint as kid.
    // `ses: "cookie"` (an extra claim too) asks for a browser session cookie; `epk` wins when both are sent, as for DomainPoP.
    const epk = proof.claims.epk
    const sessionRequest = epk !== undefined
      ? { kind: 'ticket' as const, epk, nonce: typeof proof.claims.nonce === 'string' ? proof.claims.nonce : '', aud: deps.publicOrigin, kid: proof.thumbprint }
      : proof.claims.ses === 'cookie' ? { kind: 'cookie' as const } : undefined
    return {
      ...(sessionRequest ? { sessionRequest } : {}),
      identity,
      method: 'dpop',
      thumbprint: jkt,
      confirmation: x5tS256 === undefined ? { jkt } : { jkt, 'x5t#S256': x5tS256 },
      channelBound: false,
      ...(certificate !== undefined ? { assurances: CERTIFICATE_BOUND, certificate } : {}),
      token: facts === undefined ? undefined : { sub: facts.sub, clientId: facts.clientId, scopes: facts.scopes },
      // RFC 9449 §8.2: a new nonce may come on any response; send one before the client's expires.
      responseHeaders: proof.nonceRefresh ? [DPOP_NONCE_HEADER, deps.nonces.issue(deps.now())] : undefined,
    }
  }

  /** An opaque token: no I/O; the identity is the introspecting issuer's host (configuration, not the token). */
  function parseOpaque(raw: string, hash: string, bearer: boolean, fields: ReadonlyMap<string, string> | undefined, ctx: { method: string; path: string; nowMs: number }): DpopClaim {
    const intro = deps.introspection!
    // RFC 6750 §2.1 b64token, bounded like a JWT token.
    if (raw.length > deps.proof.maxBytes || !B64TOKEN.test(raw)) throw new GatewayError('token_invalid', 'the access token is neither a JWT nor an opaque token')
    // RFC 9449 §7.2: this gateway takes no bearer tokens; an opaque one is introspected only when DPoP-presented.
    if (bearer) throw new GatewayError('token_bearer_refused', 'a DPoP-bound token must be presented with the DPoP scheme')
    const proofValue = fields?.get('dpop')
    if (proofValue === undefined) throw new GatewayError('dpop_credentials_invalid', 'a DPoP proof header is required with a DPoP token')
    // A cached active answer lets parse refuse a proof by another key before any work; otherwise verify compares.
    const known = intro.introspector.peek(hash, ctx.nowMs)
    const proof = readDpopProof(proofValue, hash, known?.active === true ? known.token.jkt : undefined, {
      method: ctx.method, path: ctx.path, nowMs: ctx.nowMs, publicOrigin: deps.publicOrigin,
      maxAgeMs: deps.proof.maxAgeMs, clockSkewMs: deps.proof.clockSkewMs, maxBytes: deps.proof.maxBytes,
      requireNonce: deps.dpop.requireNonce, nonces: deps.nonces,
    })
    return { identity: intro.identity, token: undefined, opaque: raw, proof, tokenHash: hash }
  }

  /** After the ACL allowed the issuer's host and the proof's signature verified: ask the issuer (RFC 7662). */
  async function verifyOpaque(raw: string, hash: string, proof: DpopProof): Promise<Principal> {
    const intro = deps.introspection!
    const facts = await intro.introspector.introspect(raw, hash, deps.now())
    // RFC 9449 §6.2, §4.3 (12): the key the issuer bound the token to is the key that signed this proof.
    if (facts.jkt !== proof.thumbprint) throw new GatewayError('dpop_proof_mismatch', 'DPoP proof key is not the key the token is bound to')
    await firstUse(intro.identity, proof)
    return principalOf(intro.identity, facts.jkt, facts, proof)
  }

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
      if (deps.introspection !== undefined && isOpaque(parsed.credentials)) return parseOpaque(parsed.credentials, hash, bearer, credentials.fields, ctx)
      // A hit stands for every check readAccessToken made: the same bytes, this scheme's policy, and exp still ahead.
      const cached = tokens.get(hash, ctx.nowMs)
      const token = cached?.token ?? readAccessToken(parsed.credentials, {
        nowMs: ctx.nowMs, clockSkewMs: deps.proof.clockSkewMs, maxBytes: deps.proof.maxBytes, allowPorts: deps.allowPorts, issuers, policyFor,
      })
      // RFC 8705 §3: the token names the client certificate; the request's (socket or trusted hop) must be it.
      // Checked on every request, cached token or not. Chaining is not asked: the issuer bound the token to
      // this exact certificate (RFC 8705 §2.2 allows self-signed ones) and the handshake proved its key.
      const certificate = token.x5tS256 === undefined ? undefined : ctx.channel.clientCert
      if (token.x5tS256 !== undefined) checkCertificateBinding(token.x5tS256, certificate)
      if (bearer) {
        // RFC 9449 §7.2: a DPoP-bound token presented as Bearer is a downgrade (a token without cnf was refused above).
        if (token.jkt !== undefined || token.x5tS256 === undefined) throw new GatewayError('token_bearer_refused', 'a DPoP-bound token must be presented with the DPoP scheme')
        if (credentials.fields?.get('dpop') !== undefined) throw new GatewayError('dpop_credentials_invalid', 'a DPoP proof comes with a DPoP token, not a Bearer one')
        return { identity: token.identity, token, proof: undefined, tokenHash: hash, cached, certificate }
      }
      if (token.jkt === undefined) throw new GatewayError('token_invalid', 'the token is bound to a client certificate only: present it as Bearer (RFC 8705 §3)')
      const proofValue = credentials.fields?.get('dpop')
      if (proofValue === undefined) throw new GatewayError('dpop_credentials_invalid', 'a DPoP proof header is required with a DPoP token')
      const proof = readDpopProof(proofValue, hash, token.jkt, {
        method: ctx.method, path: ctx.path, nowMs: ctx.nowMs, publicOrigin: deps.publicOrigin,
        maxAgeMs: deps.proof.maxAgeMs, clockSkewMs: deps.proof.clockSkewMs, maxBytes: deps.proof.maxBytes,
        requireNonce: deps.dpop.requireNonce, nonces: deps.nonces,
      })
      return { identity: token.identity, token, proof, tokenHash: hash, cached, certificate }
    },

    async verify({ token, opaque, proof, tokenHash: hash, cached, certificate }, ctx): Promise<Principal> {
      // The proof first: it needs no I/O, and a bad one must cost no fetch.
      if (proof !== undefined && !(await verifySig(proof.alg, proof.key, proof.signingInput, proof.signature))) {
        throw new GatewayError('dpop_proof_signature_invalid', 'DPoP proof signature does not verify')
      }
      if (token === undefined) return verifyOpaque(opaque!, hash, proof!)
      const pinned = token.pinned ? deps.pinned.get(token.issuer) : undefined
      // Asked on every request, cached or not: a key gone from the issuer's set refuses the token here.
      const key = await deps.keyTrust.counted('dpop', deps.issuerKeys.keyFor(token, pinned, ctx.client))
      // The issuer's key is the identity's key: a pinned identity takes only its pinned thumbprints (checked before any signature work).
      deps.keyTrust.checkPin(token.identity, key.thumbprint, 'dpop')
      if (cached?.key !== key) {
        // Not verified with this key yet (a new token, or the issuer's set changed since): the full check.
        if (cached) tokens.delete(hash)
        if (!keyFitsAlgorithm(key.keyObject, token.alg)) throw new GatewayError('token_signature_invalid', 'the issuer key does not fit the token alg')
        if (!(await verifySig(token.alg, key.keyObject, token.signingInput, token.signature))) {
          throw new GatewayError('token_signature_invalid', 'the access token signature does not verify')
        }
        tokens.set(hash, token, key, deps.now())
      }
      await deps.keyTrust.admit({ identity: token.identity, thumbprint: key.thumbprint, alg: token.alg, scheme: 'dpop', url: key.source })
      deps.issuerKeys.markProven(token, pinned)
      const assurances = certificate === undefined ? undefined : CERTIFICATE_BOUND
      if (proof === undefined) {
        // RFC 8705 §3: a certificate-bound Bearer token; nothing per request to replay (the handshake proved the key).
        return {
          identity: token.identity,
          method: 'dpop',
          thumbprint: token.x5tS256!,
          confirmation: { 'x5t#S256': token.x5tS256! },
          channelBound: false,
          assurances,
          certificate,
          token: { sub: token.sub, clientId: token.clientId, scopes: token.scopes },
          responseHeaders: undefined,
        }
      }
      await firstUse(token.identity, proof)
      return principalOf(token.identity, token.jkt!, token, proof, token.x5tS256, certificate)
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
    // An issuer pinned for introspection only has no key set: a JWT in its name finds no key (never discovery).
    out.set(canonicalPinned(iss), p.jwksUri !== undefined ? { jwksUri: new URL(p.jwksUri) } : { jwks: sets.get(iss) ?? NO_KEYS })
  }
  return out
}

/** RFC 6750 §2.1 b64token: what an opaque token may be made of. */
const B64TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/

/** Not a compact JWS (header.payload.signature): an opaque token, the introspecting issuer's. */
const isOpaque = (token: string): boolean => token.split('.', 4).length !== 3

const NO_KEYS: KeySet = Object.freeze({ keys: [], withheld: [] })

/** A `dpop.issuers` key in canonical form (the config loader already refused one that is not an issuer). */
export function canonicalPinned(iss: string): string {
  const url = readIssuer(iss)
  return typeof url === 'string' ? iss : canonicalIssuer(url)
}
