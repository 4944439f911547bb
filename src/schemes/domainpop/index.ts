// The DomainPoP scheme (PROTOCOL.md §2): a proof signed with a key the
// identity's own domain hosts.
//   parse  — steps 1–4 (shape, header, static claims, nonce), no I/O: proof.ts
//   verify — steps 6–9 (key, signature, replay, channel binding); step 5,
//            authorization, has run in the gate before this is called
// Challenge: `WWW-Authenticate: DomainPoP realm=… nonce=… algs=…` plus the
// `DomainPoP-Nonce` header and a `nonce` member in the problem body (§1, §6).

import { GatewayError } from '../../errors.js'
import { parseAuthorization, serializeChallenge } from '../../http/auth-header.js'
import { readDomainPopProof, type DomainPopProof, type ProofDeps } from './proof.js'
import { verifySignature, keyFitsAlgorithm } from '../../proofs/signature.js'
import { checkChannelBinding } from '../../proofs/channel-binding.js'
import { sameAlg, type KeyCache } from '../../keys/index.js'
import type { NonceIssuer } from '../../secrets/nonce.js'
import type { KeyTrust } from '../../keys/trust.js'
import type { SchemeReplay } from '../module.js'
import type { Principal, Scheme } from '../types.js'
import { sessionRequestOf } from '../sessions/grant.js'

export const DOMAINPOP_NONCE_HEADER = 'DomainPoP-Nonce'

export interface DomainPopDeps {
  readonly proof: ProofDeps
  readonly keys: KeyCache
  /** The control point for keys learnt from a domain (keys/trust.ts): pins before the fetch, records and newKeys after the signature. */
  readonly keyTrust: KeyTrust
  /** Namespaced `dp`, kept for the whole iat acceptance window (PROTOCOL.md §2.3 step 8). */
  readonly replay: SchemeReplay
  readonly nonces: NonceIssuer
  readonly now: () => number
}

export function createDomainPopScheme(deps: DomainPopDeps): Scheme<DomainPopProof> {
  const realm = deps.proof.publicOrigin
  const algs = deps.proof.proof.algorithms.join(' ')
  const proofDeps: ProofDeps = { ...deps.proof, keyUrls: new Map() }
  return {
    name: 'domainpop',
    authScheme: 'DomainPoP',
    fields: [],

    parse(credentials, req) {
      return readDomainPopProof(domainPopToken(credentials.authorization), req, proofDeps)
    },

    async verify(proof, ctx): Promise<Principal> {
      // Step 6: the key, from cache or from the identity's own domain (§2.4).
      // A fetch for a domain not fetched this minute spends the new-domain budget (limits/abuse.ts).
      // Failed and new URLs are charged to (identity, client): a stranger cannot spend the identity's quota.
      // A pinned identity (ACL identities:): kid is the key's RFC 7638 thumbprint, so an unpinned key is refused before anything is fetched.
      deps.keyTrust.checkPin(proof.identity, proof.kid, 'domainpop')
      const key = await deps.keys.getKey(proof.keyUrl, proof.identity, proof.kid, ctx.client)

      // Step 7: signature, with the key's type checked against alg (RFC 8725 §3.1).
      // RFC 7517 §4.4: a key document that names an alg for the key binds it to that alg.
      if (key.alg !== undefined && !sameAlg(key.alg, proof.alg)) {
        throw new GatewayError('proof_signature_invalid', 'alg differs from the key document')
      }
      if (!keyFitsAlgorithm(key.keyObject, proof.alg)) throw new GatewayError('proof_signature_invalid', 'the key does not fit alg')
      if (!(await verifySignature(proof.alg, key.keyObject, proof.signingInput, proof.signature))) {
        throw new GatewayError('proof_signature_invalid', 'signature does not verify')
      }
      // Key trust: the key record, and newKeys: hold (key_held until approved).
      await deps.keyTrust.admit({ identity: proof.identity, thumbprint: key.kid, alg: proof.alg, scheme: 'domainpop', url: proof.keyUrl.href })
      // The key document vouched for a proof: it keeps its slot in the key cache.
      deps.keys.markProven(proof.keyUrl)

      // Step 8: jti single use, keyed by identity (RFC 9449 §11.1).
      if (!(await deps.replay.firstUse(`${proof.identity}\n${proof.jti}`))) {
        throw new GatewayError('proof_replayed', 'this proof was already used')
      }
      // Step 9: a `cb` that is present must match (§5); the rule's
      // `channelBinding: required` is the gate's policy stage.
      const channelBound = checkChannelBinding(proof.claims.cb, ctx.channel.exporter)
      // PROTOCOL.md §4: `epk` asks for a session ticket; the grant mints it with these HKDF inputs.
      const asked = sessionRequestOf(proof.claims)
      const sessionRequest = asked?.epk !== undefined
        ? { kind: 'ticket' as const, epk: asked.epk, nonce: String(proof.claims.nonce), aud: String(proof.claims.aud), kid: proof.kid, cb: channelBound ? String(proof.claims.cb) : undefined }
        : asked?.cookie ? { kind: 'cookie' as const } : undefined
      return {
        ...(sessionRequest ? { sessionRequest } : {}),
        identity: proof.identity,
        method: 'domainpop',
        thumbprint: key.kid,
        confirmation: { jkt: key.kid },
        channelBound,
        token: undefined,
        // The nonce is past half its life: hand the client the next one (§1).
        responseHeaders: proof.nonceRefresh ? [DOMAINPOP_NONCE_HEADER, deps.nonces.issue(deps.now())] : undefined,
      }
    },

    challenge(error) {
      const nonce = deps.nonces.issue(deps.now())
      const params: Record<string, string> = { realm, nonce, algs }
      if (error?.authError) {
        params.error = error.authError
        params.error_description = error.detail
      }
      return { field: serializeChallenge('DomainPoP', params), headers: [DOMAINPOP_NONCE_HEADER, nonce], body: { nonce } }
    },
  }
}

/** The compact JWS of `Authorization: DomainPoP <token68>`; malformed_proof for any other shape. */
export function domainPopToken(authorization: string | undefined): string {
  const parsed = parseAuthorization(authorization ?? '')
  if (!parsed) throw new GatewayError('malformed_proof', 'Authorization must be "DomainPoP <compact JWS>"')
  return parsed.credentials
}
