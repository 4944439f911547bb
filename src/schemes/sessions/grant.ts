// Minting a session after a verified proof (PROTOCOL.md §4). A DomainPoP or
// DPoP proof asks with `epk` (an ephemeral ECDH public JWK: a ticket) or
// `ses: "cookie"` (a browser cookie). The gateway answers with a
// `DomainPoP-Session` response field or a `Set-Cookie`. Only a proof that has
// just verified gets here: nothing a client sends is ever turned into a
// session without one (session fixation).

import { GatewayError } from '../../errors.js'
import type { Identity } from '../../identity/domain.js'
import { deriveSessionKey, generateEphemeral, importEpk } from '../../proofs/session-key.js'
import type { MintingMethod, TicketBook } from './ticket.js'

export const SESSION_FIELD = 'domainpop-session'

/** What a verified proof asked for, read from its claims. Throws `proof_epk_invalid` / `proof_claims_invalid` on a bad request for one. */
export function sessionRequestOf(claims: Readonly<Record<string, unknown>>): { readonly epk?: unknown; readonly cookie: boolean } | undefined {
  const { epk, ses } = claims
  if (ses !== undefined && ses !== 'cookie') throw new GatewayError('proof_claims_invalid', 'ses must be "cookie"')
  if (epk === undefined && ses === undefined) return undefined
  return { epk, cookie: ses === 'cookie' }
}

export interface TicketMintInput {
  /** The proof's `epk` claim. */
  readonly epk: unknown
  /** The proof's `nonce` ("" when it had none), `aud` and `kid` (DPoP: the gateway's audience and the `jwk` thumbprint): the HKDF inputs. */
  readonly nonce: string
  readonly aud: string
  readonly kid: string
  readonly identity: Identity
  readonly method: MintingMethod
  /** The proof's verified channel binding: the ticket is bound to it. */
  readonly cb: string | undefined
}

/** The `DomainPoP-Session` value: `ticket="…", epk="<base64url(JSON)>", expires_in=N`. */
export function mintTicket(input: TicketMintInput, book: TicketBook, nowMs: number): string {
  const peer = importEpk(input.epk)
  if (typeof peer === 'string') throw new GatewayError('proof_epk_invalid', peer)
  // PROTOCOL.md §4: the gateway's epk uses the client's curve.
  const mine = generateEphemeral(peer.jwk.crv)
  let sk: Buffer
  try {
    sk = deriveSessionKey({ privateKey: mine.privateKey, peerPublicKey: peer.key, nonce: input.nonce, aud: input.aud, kid: input.kid })
  } catch {
    throw new GatewayError('proof_epk_invalid', 'epk gives no usable shared secret')
  }
  const { ticket, expiresInSec } = book.mint({ sk, identity: input.identity, jkt: input.kid, method: input.method, cb: input.cb }, nowMs)
  const epk = Buffer.from(JSON.stringify(mine.jwk)).toString('base64url')
  return `ticket="${ticket}", epk="${epk}", expires_in=${expiresInSec}`
}
