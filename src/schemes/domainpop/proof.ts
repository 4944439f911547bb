// DomainPoP proof checks that need no I/O: PROTOCOL.md §2.3 steps 1–4.
// Reads a compact JWS, returns the claims the later stages need, or throws a
// GatewayError with the §6 code. Pure but for the injected clock and nonce
// issuer. Step 5 (authorize) is the gate's; steps 6–9 (key, signature,
// replay, channel binding) are the scheme's verify (index.ts), so that
// authorization visibly precedes any fetch.

import { GatewayError } from '../../errors.js'
import { identityProblem, type Identity } from '../../identity/domain.js'
import type { Config, ProofAlgorithm } from '../../config/types.js'
import type { NonceIssuer } from '../../secrets/nonce.js'
import { checkKeyUrl } from '../../keys/url-policy.js'
import { splitCompactJws } from '../../proofs/jws.js'
import { MAX_JTI_CHARS, htuMatches, iatInWindow, isJti } from '../../proofs/claims.js'

export const DOMAINPOP_TYP = 'domainpop+jwt'
/** RFC 8725 §3.10 / PROTOCOL.md §2.2: header members that would let the proof pick its own key. */
const FORBIDDEN_HEADER_MEMBERS = ['jwk', 'x5c', 'x5u', 'x5t', 'x5t#S256', 'crit', 'zip', 'enc', 'b64'] as const
const THUMBPRINT = /^[A-Za-z0-9_-]{43}$/

export interface DomainPopProof {
  readonly identity: Identity
  readonly keyUrl: URL
  /** RFC 7638 SHA-256 thumbprint of the signing key. */
  readonly kid: string
  readonly alg: ProofAlgorithm
  readonly jti: string
  readonly iatSec: number
  /** The nonce is past half its life: send a fresh DomainPoP-Nonce with the response. */
  readonly nonceRefresh: boolean
  readonly signingInput: string
  readonly signature: Buffer
  readonly claims: Readonly<Record<string, unknown>>
}

export interface ProofContext {
  readonly method: string
  /** The normalized path the ACL matched (src/http/target.ts). */
  readonly path: string
  readonly nowMs: number
}

export interface ProofDeps {
  readonly publicOrigin: string
  readonly proof: Config['proof']
  readonly keys: Config['keys']
  readonly nonces: NonceIssuer
  /** Accepted key URLs (identity LF jku → URL), kept by the scheme: checkKeyUrl is pure and a client sends one jku on every request. */
  readonly keyUrls?: Map<string, URL>
}

export function readDomainPopProof(token: string, ctx: ProofContext, deps: ProofDeps): DomainPopProof {
  // Step 1: shape and size.
  const jws = splitCompactJws(token, deps.proof.maxBytes)
  const { header, payload } = jws

  // Step 2: header. RFC 8725 §3.11 explicit typing; §3.1 exact-case allowlist.
  if (header.typ !== DOMAINPOP_TYP) throw new GatewayError('proof_typ_invalid', `typ must be ${DOMAINPOP_TYP}`)
  const alg = header.alg
  if (typeof alg !== 'string' || !(deps.proof.algorithms as readonly string[]).includes(alg)) {
    throw new GatewayError('proof_alg_unsupported', `alg must be one of ${deps.proof.algorithms.join(' ')}`)
  }
  for (const m of FORBIDDEN_HEADER_MEMBERS) {
    if (Object.hasOwn(header, m)) throw new GatewayError('proof_header_forbidden', `header member ${m} is not allowed`)
  }
  if (typeof header.kid !== 'string' || !THUMBPRINT.test(header.kid)) throw new GatewayError('proof_kid_invalid', 'kid must be the RFC 7638 SHA-256 thumbprint of the key')
  if (typeof header.jku !== 'string') throw new GatewayError('proof_jku_invalid', 'jku is required')
  const iss = payload.iss
  const issWhy = identityProblem(iss)
  // The detail says why, never what: a label of the proof's iss is not echoed (docs/errors.md).
  if (issWhy) throw new GatewayError('proof_iss_invalid', `iss ${issWhy.replace(/label "[^"]*"/, 'a label')}`)
  const identity = iss as Identity
  const keyUrl = checkKeyUrlCached(header.jku, identity, deps) // jku host must equal iss exactly

  // Step 3: static claims.
  if (payload.aud !== deps.publicOrigin) throw new GatewayError('proof_aud_mismatch', 'aud must be the gateway origin')
  if (payload.htm !== ctx.method) throw new GatewayError('proof_htm_mismatch', 'htm does not match the request method')
  if (!htuMatches(payload.htu, deps.publicOrigin, ctx.path)) throw new GatewayError('proof_htu_mismatch', 'htu does not match the request URI')
  const iat = payload.iat
  if (typeof iat !== 'number' || !Number.isFinite(iat)) throw new GatewayError('proof_claims_invalid', 'iat must be a number')
  if (!iatInWindow(iat, ctx.nowMs, deps.proof.maxAgeMs, deps.proof.clockSkewMs)) {
    throw new GatewayError('proof_iat_invalid', 'iat is outside the acceptance window')
  }
  const jti = payload.jti
  if (!isJti(jti)) throw new GatewayError('proof_claims_invalid', `jti must be a string of 1-${MAX_JTI_CHARS} characters`)

  // Step 4: nonce (PROTOCOL.md §1).
  if (payload.nonce === undefined) throw new GatewayError('nonce_missing', 'a nonce from this gateway is required')
  const n = deps.nonces.check(payload.nonce, ctx.nowMs)
  if (!n.ok) throw new GatewayError(n.code, n.code === 'nonce_stale' ? 'nonce has expired' : 'nonce was not issued by this gateway')

  return {
    identity, keyUrl, kid: header.kid, alg: alg as ProofAlgorithm, jti, iatSec: iat,
    nonceRefresh: n.refresh, signingInput: jws.signingInput, signature: jws.signature, claims: payload,
  }
}

// checkKeyUrl is pure; a client sends the same jku on every request, so the
// accepted ones are remembered by the scheme (measured ~2 % of a proof).
const KEY_URL_CACHE_MAX = 10_000

function checkKeyUrlCached(jku: string, identity: Identity, deps: ProofDeps): URL {
  const cache = deps.keyUrls
  if (cache === undefined) return checkKeyUrl(jku, identity, deps.keys)
  const k = identity + '\n' + jku
  const hit = cache.get(k)
  if (hit) return hit
  const url = checkKeyUrl(jku, identity, deps.keys) // throws on refusal: refusals are never cached
  if (cache.size >= KEY_URL_CACHE_MAX) cache.clear()
  cache.set(k, url)
  return url
}
