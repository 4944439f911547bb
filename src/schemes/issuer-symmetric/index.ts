// The issuer-symmetric scheme (PROTOCOL.md §4, "Issuer-provided symmetric
// key"; RFC 7800 §3.3, the KDC model without a pre-shared secret):
//
//   Authorization: DomainPoP-Session <JWT signed by the identity's issuer, cnf.jwe>
//   DomainPoP-Proof: <HS256 JWS under the key inside cnf.jwe: htm, htu, iat, jti, ath>
//
// Same auth-scheme as a session ticket: the registry tells them apart by form
// (`byForm`: a JWS of three segments is an issuer token, a ticket is a JWE of
// five). As the gate runs it:
//   parse  — no I/O: the token's static checks (as a DPoP token's, with
//            cnf.jwe instead of cnf.jkt/jwk; token.ts) and the proof's header;
//            the identity is the host of the token's `iss`
//   (the gate's ACL)
//   verify — the issuer's key (discovery or pinning exactly as DPoP:
//            dpop/issuers.ts, the `dpop:` section's issuers), the token's
//            signature, then cnf.jwe opened with the gateway's encryption key
//            (proofs/cnf-jwe.ts) and bound to the token's iss and jti; the
//            opened key is cached by token hash until `exp` (cache.ts), and
//            trusted from the cache only while the issuer serves the same key;
//            then the HS256 proof in constant time, its claims, and `jti`
//            single use. All symmetric work is node:crypto.
// Principal: method `issuer-symmetric`, the `session` assurance (a rule with
// `sessions: false` refuses it), token facts (sub, client_id, scope).

import { createHash } from 'node:crypto'
import { GatewayError, InsufficientScopeError } from '../../errors.js'
import { parseAuthorization, serializeChallenge } from '../../http/auth-header.js'
import { isSameIssuer, compileIssuerRule } from '../../identity/issuer.js'
import { openCnfJwe } from '../../proofs/cnf-jwe.js'
import { checkChannelBinding } from '../../proofs/channel-binding.js'
import { athOf, checkSessionClaims, splitSessionProof, verifySessionProofMac, SessionClockError, type SplitSessionProof } from '../../proofs/session-proof.js'
import { keyFitsAlgorithm, verifySignature } from '../../proofs/signature.js'
import type { EncryptionKey } from '../../secrets/encryption-keys.js'
import type { Config } from '../../config/types.js'
import type { SchemeReplay } from '../module.js'
import type { Assurance, Claim, Principal, Scheme } from '../types.js'
import type { DpopConfig } from '../dpop/config.js'
import type { IssuerKeys, PinnedKeys } from '../dpop/issuers.js'
import type { IssuerPolicy } from '../../proofs/access-token.js'
import { createOpenedCache, type OpenedCache, type OpenedEntry } from './cache.js'
import { readSymmetricToken, type SymmetricToken } from './token.js'

export const ISSUER_SYMMETRIC = 'issuer-symmetric'
const AUTH_SCHEME = 'DomainPoP-Session'
const ASSURANCES: ReadonlySet<Assurance> = new Set(['session'])

export interface IssuerSymmetricClaim extends Claim {
  readonly token: SymmetricToken
  /** base64url SHA-256 of the token: the cache key and the proof's `ath`. */
  readonly hash: string
  readonly proof: SplitSessionProof
  readonly cached: OpenedEntry | undefined
}

export interface IssuerSymmetricDeps {
  readonly publicOrigin: string
  /** The issuer policy shared with DPoP: `dpop.issuers`, `dpop.algorithms`, `dpop.audience`. */
  readonly dpop: Pick<DpopConfig, 'issuers' | 'algorithms' | 'audience'>
  readonly pinned: ReadonlyMap<string, PinnedKeys>
  readonly proof: Pick<Config['proof'], 'maxAgeMs' | 'clockSkewMs' | 'maxBytes'>
  readonly allowPorts: readonly number[] | 'any'
  readonly issuerKeys: IssuerKeys
  /** The gateway's `cnf.jwe` keys (secrets `encryption`), newest first. */
  readonly encryptionKeys: readonly EncryptionKey[]
  /** Namespaced `issuer-symmetric`: the proof's `jti`, single use. */
  readonly replay: SchemeReplay
  readonly now: () => number
  /** Opened keys kept (default 10,000). */
  readonly cacheSize?: number
  /** Whether a bare 401 lists this scheme's challenge: false while the ticket scheme already says `DomainPoP-Session`. */
  readonly announce?: boolean
  readonly verifySignature?: typeof verifySignature
}

/** RFC 7638 §3.2 for an oct key: SHA-256 of {"k":…,"kty":"oct"}. A one-way name for a 256-bit random key. */
const octThumbprint = (key: Buffer): string => createHash('sha256').update(`{"k":"${key.toString('base64url')}","kty":"oct"}`).digest('base64url')

/** A compact JWS has three segments (an issuer token); a ticket (JWE) has five. */
export function isIssuerTokenForm(credential: string): boolean {
  const a = credential.indexOf('.')
  const b = a < 0 ? -1 : credential.indexOf('.', a + 1)
  return b > 0 && credential.indexOf('.', b + 1) < 0
}

export function createIssuerSymmetricScheme(deps: IssuerSymmetricDeps): Scheme<IssuerSymmetricClaim> {
  const audience = deps.dpop.audience ?? deps.publicOrigin
  const defaults: IssuerPolicy = { audience, algorithms: deps.dpop.algorithms }
  const policies = new Map<string, IssuerPolicy>()
  for (const [iss, p] of Object.entries(deps.dpop.issuers)) {
    for (const k of deps.pinned.keys()) if (isSameIssuer(iss, k)) policies.set(k, { audience: p.audience ?? audience, algorithms: p.algorithms ?? deps.dpop.algorithms })
  }
  const policyFor = (issuer: string): IssuerPolicy => policies.get(issuer) ?? defaults
  const issuers = compileIssuerRule(Object.keys(deps.dpop.issuers))
  const cache: OpenedCache = createOpenedCache(deps.cacheSize ?? 10_000)
  const verifySig = deps.verifySignature ?? verifySignature
  const windowMs = deps.proof.maxAgeMs + 2 * deps.proof.clockSkewMs
  const realm = deps.publicOrigin

  return {
    name: ISSUER_SYMMETRIC,
    authScheme: AUTH_SCHEME,
    byForm: isIssuerTokenForm,
    carriesScopes: true,
    fields: ['domainpop-proof'],

    parse(credentials, req) {
      const a = parseAuthorization(credentials.authorization ?? '')
      if (!a || a.scheme.toLowerCase() !== 'domainpop-session') throw new GatewayError('token_invalid', 'Authorization must be DomainPoP-Session <issuer token>')
      const proofValue = credentials.fields?.get('domainpop-proof')
      if (proofValue === undefined) throw new GatewayError('session_proof_malformed', 'an issuer token needs a DomainPoP-Proof header signed with the key in its cnf.jwe')
      const hash = athOf(a.credentials)
      // A hit stands for every static check: the same bytes, this scheme's policy, exp still ahead.
      const cached = cache.get(hash, req.nowMs)
      const token = cached?.token ?? readSymmetricToken(a.credentials, {
        nowMs: req.nowMs, clockSkewMs: deps.proof.clockSkewMs, maxBytes: deps.proof.maxBytes, allowPorts: deps.allowPorts, issuers, policyFor,
      })
      const proof = splitSessionProof(proofValue, deps.proof.maxBytes)
      return { identity: token.identity, token, hash, proof, cached }
    },

    async verify({ token, hash, proof, cached }, req): Promise<Principal> {
      const pinned = token.pinned ? deps.pinned.get(token.issuer) : undefined
      // Asked on every request, cached or not: a key gone from the issuer's set refuses the token (as DPoP).
      const issuerKey = await deps.issuerKeys.keyFor(token, pinned, req.client)
      let entry = cached
      if (entry?.issuerKey !== issuerKey) {
        if (entry) cache.delete(hash)
        if (!keyFitsAlgorithm(issuerKey.keyObject, token.alg)) throw new GatewayError('token_signature_invalid', 'the issuer key does not fit the token alg')
        if (!(await verifySig(token.alg, issuerKey.keyObject, token.signingInput, token.signature))) {
          throw new GatewayError('token_signature_invalid', 'the access token signature does not verify')
        }
        // Only a token the issuer signed costs an ECDH.
        const opened = openCnfJwe(token.cnf, deps.encryptionKeys)
        // RFC 7519 §5.3 replicated claims: the key was made for this very token (not copied from another).
        if (!isSameIssuer(opened.iss, token.issuer) || opened.jti !== token.jti) {
          throw new GatewayError('cnf_jwe_mismatch', 'cnf.jwe was made for another token (its iss or jti differ)')
        }
        entry = { token, issuerKey, key: opened.key, thumbprint: octThumbprint(opened.key), expMs: token.expMs }
        cache.set(hash, entry, deps.now())
      }
      deps.issuerKeys.markProven(token, pinned)
      const payload = verifySessionProofMac(proof, entry.key)
      const c = checkSessionClaims(payload, {
        method: req.method, path: req.path, publicOrigin: deps.publicOrigin, nowMs: req.nowMs,
        maxAgeMs: deps.proof.maxAgeMs, clockSkewMs: deps.proof.clockSkewMs, ath: hash,
      })
      const channelBound = checkChannelBinding(c.cb, req.channel.exporter)
      if (!(await deps.replay.firstUse(`${token.identity}\n${hash}\n${c.jti}`, windowMs))) {
        throw new GatewayError('session_proof_replayed', 'this proof was already used')
      }
      return {
        identity: token.identity,
        method: ISSUER_SYMMETRIC,
        thumbprint: entry.thumbprint,
        confirmation: { jkt: entry.thumbprint },
        channelBound,
        assurances: ASSURANCES,
        token: { sub: token.sub, clientId: token.clientId, scopes: token.scopes },
        responseHeaders: undefined,
      }
    },

    challenge(error) {
      if (error === undefined && deps.announce === false) return {}
      const params: Record<string, string> = { realm }
      if (error?.authError) {
        params.error = error.authError
        params.error_description = error.detail
        if (error instanceof InsufficientScopeError) params.scope = error.scope
      }
      const body: Record<string, string> = {}
      if (error instanceof SessionClockError) body.server_time = String(error.serverTimeSec)
      return { field: serializeChallenge(AUTH_SCHEME, params), body }
    },
  }
}
