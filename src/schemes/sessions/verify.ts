// A request that presents a session ticket (PROTOCOL.md §4):
//   Authorization: DomainPoP-Session <ticket>
//   DomainPoP-Proof: <HS256 JWS under the ticket's session key>
// Split in the gate's two halves: `parseSessionRequest` needs no I/O (opens
// the ticket: CPU only, cached by `ath`) and names the identity for the ACL;
// `verifySessionRequest` checks the revocation list, the HMAC, the claims,
// the channel binding and the `jti` (the one I/O: the replay store). The ACL
// itself is the gate's, on every request.

import { GatewayError } from '../../errors.js'
import type { Identity } from '../../identity/domain.js'
import type { Revocations } from '../../revocation/types.js'
import { checkChannelBinding } from '../../proofs/channel-binding.js'
import { athOf, checkSessionClaims, splitSessionProof, verifySessionProofMac, type SplitSessionProof } from '../../proofs/session-proof.js'
import { timingSafeEqual } from 'node:crypto'
import type { MintingMethod, TicketBook, TicketContents } from './ticket.js'

export interface SessionDeps {
  readonly tickets: TicketBook
  readonly replay: { firstUse(key: string, ttlMs: number): Promise<boolean> }
  readonly revocations: Revocations
  readonly publicOrigin: string
  readonly maxAgeMs: number
  readonly clockSkewMs: number
  /** `proof.maxBytes`: the cap on the session proof. */
  readonly maxProofBytes: number
}

export interface SessionClaim {
  readonly identity: Identity
  readonly ticket: TicketContents
  readonly ath: string
  readonly proof: SplitSessionProof
}

export interface SessionPrincipal {
  readonly identity: Identity
  /** The thumbprint of the key whose proof minted the ticket. */
  readonly jkt: string
  readonly mintedBy: MintingMethod
  readonly channelBound: boolean
  readonly expMs: number
}

export interface SessionRequest {
  readonly method: string
  readonly path: string
  readonly nowMs: number
  /** RFC 9266 exporter of this TLS 1.3 connection, when there is one. */
  readonly exporter: Buffer | undefined
}

export function parseSessionRequest(ticket: string, proof: string | undefined, nowMs: number, deps: SessionDeps): SessionClaim {
  if (proof === undefined) throw new GatewayError('session_proof_malformed', 'a session ticket needs a DomainPoP-Proof header signed with its session key')
  const split = splitSessionProof(proof, deps.maxProofBytes)
  const ath = athOf(ticket)
  const opened = deps.tickets.open(ticket, ath, nowMs)
  return { identity: opened.identity, ticket: opened, ath, proof: split }
}

export async function verifySessionRequest(claim: SessionClaim, req: SessionRequest, deps: SessionDeps): Promise<SessionPrincipal> {
  const { ticket } = claim
  const payload = verifySessionProofMac(claim.proof, ticket.sk)
  const c = checkSessionClaims(payload, {
    method: req.method, path: req.path, publicOrigin: deps.publicOrigin, nowMs: req.nowMs,
    maxAgeMs: deps.maxAgeMs, clockSkewMs: deps.clockSkewMs, ath: claim.ath,
  })
  const notBefore = deps.revocations.notBefore(ticket.identity)
  if (notBefore !== undefined && ticket.iatMs < notBefore) throw new GatewayError('session_revoked', 'the sessions of this identity were revoked; send a proof for a new ticket')
  // PROTOCOL.md §5: a ticket minted over a bound proof works only on that TLS connection; a `cb` in the proof must match too.
  let channelBound = checkChannelBinding(c.cb, req.exporter)
  if (ticket.cb !== undefined) {
    if (!req.exporter) throw new GatewayError('channel_binding_unavailable', 'this ticket is bound to a TLS 1.3 connection terminated by the gateway')
    if (!timingSafeEqual(Buffer.from(ticket.cb, 'base64url'), req.exporter)) throw new GatewayError('channel_binding_mismatch', 'this ticket is bound to another TLS connection')
    channelBound = true
  }
  // Single use of (ath, jti) for the acceptance window (PROTOCOL.md §4, §2.3 step 8).
  const windowMs = deps.maxAgeMs + 2 * deps.clockSkewMs
  if (!(await deps.replay.firstUse(`session\n${claim.ath}\n${c.jti}`, windowMs))) throw new GatewayError('session_proof_replayed', 'this session proof was already used')
  return { identity: ticket.identity, jkt: ticket.jkt, mintedBy: ticket.method, channelBound, expMs: ticket.expMs }
}
