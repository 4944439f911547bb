// The client half of session tickets (PROTOCOL.md §4), shared by the
// DomainPoP and DPoP clients: ask for a ticket (an ephemeral ECDH key whose
// public half goes in the proof's `epk`), read the gateway's
// `DomainPoP-Session` answer and derive the same session key, then sign an
// HS256 session proof per request. Renewal: from a tenth of its lifetime (at
// most a minute) before expiry a ticket is not used; the next request sends
// a full proof with a new `epk` instead.

import type { KeyObject } from 'node:crypto'
import { parseChallenges } from '../http/auth-header.js'
import { deriveSessionKey, generateEphemeral, importEpk, type EcdhPublicJwk, type SessionCurve } from '../proofs/session-key.js'
import { signSessionProof } from '../proofs/session-proof.js'

export const SESSION_SCHEME = 'DomainPoP-Session'

export interface Ticket {
  readonly ticket: string
  readonly sk: Buffer
  readonly expiresAtMs: number
  /** From here on the ticket is not used: the next request sends a full proof for a new one. */
  readonly renewAtMs: number
}

/** An ephemeral key waiting for the gateway's answer, and the HKDF inputs of the proof that carried it. */
export interface PendingTicket {
  readonly privateKey: KeyObject
  readonly epk: EcdhPublicJwk
}

export const newPendingTicket = (curve: SessionCurve = 'P-256'): PendingTicket => {
  const { privateKey, jwk } = generateEphemeral(curve)
  return { privateKey, epk: jwk }
}

/** `ticket="…", epk="…", expires_in=N` → its parts, or undefined when the field is absent or unreadable. */
export function parseSessionField(value: string | null): { ticket: string; epk: unknown; expiresInSec: number } | undefined {
  if (!value) return undefined
  let params: Record<string, string>
  try {
    // The field is an auth-param list; read it as the parameters of a challenge.
    params = parseChallenges(`${SESSION_SCHEME} ${value}`)[0]?.params ?? {}
  } catch { return undefined }
  const { ticket, epk, expires_in: exp } = params
  if (!ticket || !epk || !exp || !/^\d{1,9}$/.test(exp)) return undefined
  try {
    return { ticket, epk: JSON.parse(Buffer.from(epk, 'base64url').toString('utf8')), expiresInSec: Number(exp) }
  } catch { return undefined }
}

/** The gateway's answer + the pending key → a usable ticket. `nonce`, `aud`, `kid`: the values of the proof that carried `epk`. */
export function acceptTicket(res: Response, pending: PendingTicket, hkdf: { nonce: string; aud: string; kid: string }, nowMs = Date.now()): Ticket | undefined {
  const field = parseSessionField(res.headers.get('domainpop-session'))
  if (!field) return undefined
  const peer = importEpk(field.epk)
  if (typeof peer === 'string' || peer.jwk.crv !== pending.epk.crv) return undefined
  const sk = deriveSessionKey({ privateKey: pending.privateKey, peerPublicKey: peer.key, ...hkdf })
  const lifeMs = field.expiresInSec * 1000
  // Renew a tenth of the lifetime before expiry, at most a minute before: a request in flight never carries a ticket about to lapse.
  return { ticket: field.ticket, sk, expiresAtMs: nowMs + lifeMs, renewAtMs: nowMs + lifeMs - Math.min(60_000, lifeMs / 10) }
}

/** Sets `Authorization: DomainPoP-Session` and `DomainPoP-Proof` for one request. */
export function presentTicket(headers: Headers, t: Ticket, req: { method: string; htu: string; cb?: string }): void {
  headers.set('authorization', `${SESSION_SCHEME} ${t.ticket}`)
  headers.set('domainpop-proof', signSessionProof(t.sk, { htm: req.method, htu: req.htu, ticket: t.ticket, cb: req.cb }))
}

/**
 * Whether the gateway refused a request that carried a ticket in a way a full
 * proof may fix: 401 (expired, revoked, `sessions: false`, a bad session
 * proof) or 400 (a ticket it cannot read). A 403 is the ACL's answer, which a
 * proof would get too.
 */
export const ticketRefused = (res: Response): boolean => res.status === 401 || res.status === 400

/** Tickets per audience (gateway origin), renewed before expiry. */
export function createTicketJar(opts: { now?: () => number } = {}) {
  const tickets = new Map<string, Ticket>()
  const now = opts.now ?? Date.now
  return {
    /** A ticket not yet due for renewal. */
    usable(audience: string): Ticket | undefined {
      const t = tickets.get(audience)
      if (!t) return undefined
      if (now() >= t.renewAtMs) { tickets.delete(audience); return undefined }
      return t
    },
    set: (audience: string, t: Ticket) => { tickets.set(audience, t) },
    drop: (audience: string) => { tickets.delete(audience) },
  }
}

export type Attempt = (mayUseTicket: boolean) => Promise<{ res: Response; usedTicket: boolean }>

/**
 * One request with the ticket when there is a usable one. A refused ticket is
 * dropped; when the body can be sent again the request is repeated with a
 * full proof. `final`: the answer must be returned as is (a stream body, or a
 * ticket that was accepted); otherwise the caller may still answer a nonce
 * challenge once.
 */
export async function sendWithTicket(attempt: Attempt, drop: () => void, replayable: boolean): Promise<{ res: Response; final: boolean }> {
  const { res, usedTicket } = await attempt(true)
  const refused = usedTicket && ticketRefused(res)
  if (refused) drop()
  if (!replayable || (usedTicket && !refused)) return { res, final: true }
  if (!usedTicket) return { res, final: false }
  await res.body?.cancel()
  return { res: (await attempt(false)).res, final: false }
}
