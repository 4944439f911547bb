// Stage: authenticate a DomainPoP proof (PROTOCOL.md §2.3), in the order the
// protocol fixes. Authorization (step 5) runs before the key is fetched, so a
// stranger cannot make the gateway fetch anything by sending proofs.

import type { IncomingMessage } from 'node:http'
import type { Socket } from 'node:net'
import { GatewayError, isGatewayError } from '../errors.js'
import { clientAddress, isAuthFailure, rateLimited } from '../limits/abuse.js'
import { authorize, type Rule, type Decision } from '../acl/index.js'
import { readDomainPopProof, type DomainPopProof } from '../proofs/domainpop.js'
import { verifySignature, keyFitsAlgorithm } from '../proofs/signature.js'
import { checkChannelBinding } from '../proofs/channel-binding.js'
import { extractCredentials } from './credentials.js'
import type { GatewayState } from './state.js'

export interface Authenticated {
  readonly proof: DomainPopProof
  readonly decision: Decision & { allow: true }
  readonly thumbprint: string
  readonly channelBound: boolean
}

/** Credentials (stage 4) then proof (stage 5); throws credentials_missing when there are none. */
export async function authenticate(state: GatewayState, req: IncomingMessage, method: string, path: string, rule: Rule | undefined): Promise<Authenticated> {
  const client = clientAddress(req, state.headers)
  const wait = state.abuse.clients.retryAfterSec(client, state.now())
  if (wait > 0) {
    state.metrics.inc('popgate_rate_limited_total', { scope: 'client' })
    throw rateLimited(wait, 'from this address')
  }
  try {
    const credentials = extractCredentials(req, state.config.proof.maxBytes)
    if (!credentials) throw new GatewayError('credentials_missing', 'credentials are required')
    return await authenticateDomainPop(state, credentials.token, method, path, rule, req.socket)
  } catch (err) {
    if (isGatewayError(err) && isAuthFailure(err)) state.abuse.clients.hit(client, state.now())
    throw err
  }
}

export async function authenticateDomainPop(state: GatewayState, token: string, method: string, path: string, rule: Rule | undefined, socket: Socket): Promise<Authenticated> {
  // Steps 1–4: shape, header, static claims, nonce. No I/O.
  const proof = readDomainPopProof(token, { method, path, nowMs: state.now() }, state.proofDeps)
  const wait = state.abuse.identities.retryAfterSec(proof.identity, state.now())
  if (wait > 0) {
    state.metrics.inc('popgate_rate_limited_total', { scope: 'identity' })
    throw rateLimited(wait, 'for this identity')
  }
  try {
    return await verifyDomainPop(state, proof, method, rule, socket)
  } catch (err) {
    if (isGatewayError(err) && isAuthFailure(err)) state.abuse.identities.hit(proof.identity, state.now())
    throw err
  }
}

async function verifyDomainPop(state: GatewayState, proof: DomainPopProof, method: string, rule: Rule | undefined, socket: Socket): Promise<Authenticated> {
  // Step 5: authorize before fetching.
  const decision = authorize(state.acl, rule, proof.identity, method)
  if (!decision.allow) throw new ForbiddenError(decision)

  // Step 6: the key, from cache or from the identity's own domain (§2.4).
  // A fetch for a domain not fetched this minute spends the new-domain budget (limits/abuse.ts).
  const key = await state.keys.getKey(proof.keyUrl, proof.identity, proof.kid)

  // Step 7: signature, with the key's type checked against alg (RFC 8725 §3.1).
  // RFC 7517 §4.4: a key document that names an alg for the key binds it to that alg.
  if (key.alg !== undefined && key.alg !== proof.alg && !(isEdDsa(key.alg) && isEdDsa(proof.alg))) {
    throw new GatewayError('proof_signature_invalid', 'alg differs from the key document')
  }
  if (!keyFitsAlgorithm(key.keyObject, proof.alg)) throw new GatewayError('proof_signature_invalid', 'the key does not fit alg')
  if (!(await verifySignature(proof.alg, key.keyObject, proof.signingInput, proof.signature))) {
    throw new GatewayError('proof_signature_invalid', 'signature does not verify')
  }

  // Step 8: jti single use, keyed by identity (RFC 9449 §11.1).
  if (!(await state.replay.firstUse(`dp\n${proof.identity}\n${proof.jti}`, state.replayTtlMs))) {
    state.metrics.inc('popgate_replays_total')
    throw new GatewayError('proof_replayed', 'this proof was already used')
  }
  // Step 9: channel binding, when present or required by the rule (§5).
  const channelBound = checkChannelBinding(proof.claims.cb, socket, decision.rule.channelBinding === 'required')
  return { proof, decision, thumbprint: key.kid, channelBound }
}

const isEdDsa = (alg: string) => alg === 'EdDSA' || alg === 'Ed25519'

/** A 403 that remembers which decision caused it, for the access log. */
export class ForbiddenError extends GatewayError {
  constructor(readonly decision: Decision) {
    super('forbidden', 'the ACL does not allow this identity here')
  }
}
