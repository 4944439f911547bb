// Session tickets (PROTOCOL.md §4): what a ticket holds, sealing one after a
// proof, and opening one on a later request, with a bounded cache of opened
// tickets keyed by `ath` so a client's follow-up requests skip the AES-GCM
// open (docs/benchmarks.md). Any replica holding the same ticket keys opens
// any ticket: there is no session store.
//
// Contents (JSON inside the JWE; opaque to clients):
//   sk   base64url of the 32-byte session key
//   sub  the identity          jkt  the proof key's RFC 7638 thumbprint
//   amr  the method that minted it: "domainpop" | "dpop"
//   iat  mint time, seconds (fractional: revocation compares milliseconds)
//   exp  expiry, seconds      cb   the channel binding it was minted with (optional)

import { GatewayError } from '../../errors.js'
import { identityProblem, type Identity } from '../../identity/domain.js'
import { Lru } from '../../keys/lru.js'
import { createSealer, type Sealer } from '../../secrets/sealer.js'
import type { NamedSecret } from '../../secrets/types.js'

export const TICKET_TYP = 'popgate-ticket'
/** Comfortably above a real ticket (~400 characters) and under `proof.maxBytes`. */
export const MAX_TICKET_CHARS = 2048
export type MintingMethod = 'domainpop' | 'dpop'

export interface TicketContents {
  readonly sk: Buffer
  readonly identity: Identity
  readonly jkt: string
  readonly method: MintingMethod
  readonly iatMs: number
  readonly expMs: number
  readonly cb: string | undefined
}

export interface TicketBookOptions {
  readonly ttlMs: number
  readonly clockSkewMs: number
  /** Opened tickets kept, by `ath` (default 10,000). */
  readonly cacheSize?: number
}

export interface TicketBook {
  readonly ttlMs: number
  mint(t: Omit<TicketContents, 'iatMs' | 'expMs'>, nowMs: number): { ticket: string; expiresInSec: number }
  /** Opens (or finds already opened) and checks expiry and key retirement. `ath` = base64url(SHA-256(ticket)). */
  open(ticket: string, ath: string, nowMs: number): TicketContents
  readonly stats: () => { cached: number }
}

const B64URL_32 = /^[A-Za-z0-9_-]{43}$/

function readContents(v: Record<string, unknown>): TicketContents {
  const bad = (what: string): never => { throw new GatewayError('ticket_invalid', `ticket content is invalid (${what})`) }
  if (typeof v.sk !== 'string' || !B64URL_32.test(v.sk)) bad('sk')
  if (identityProblem(v.sub) !== undefined) bad('sub')
  if (typeof v.jkt !== 'string' || !B64URL_32.test(v.jkt)) bad('jkt')
  if (v.amr !== 'domainpop' && v.amr !== 'dpop') bad('amr')
  if (typeof v.iat !== 'number' || !Number.isFinite(v.iat) || typeof v.exp !== 'number' || !Number.isFinite(v.exp)) bad('iat/exp')
  if (v.cb !== undefined && (typeof v.cb !== 'string' || !B64URL_32.test(v.cb))) bad('cb')
  return {
    sk: Buffer.from(v.sk as string, 'base64url'), identity: v.sub as Identity, jkt: v.jkt as string, method: v.amr as MintingMethod,
    iatMs: Math.round((v.iat as number) * 1000), expMs: Math.round((v.exp as number) * 1000), cb: v.cb as string | undefined,
  }
}

interface Cached { readonly contents: TicketContents; readonly keyUsableUntilMs: number }

export function createTicketBook(keys: readonly NamedSecret[], opts: TicketBookOptions): TicketBook {
  const sealer: Sealer = createSealer(keys, {
    typ: TICKET_TYP, maxChars: MAX_TICKET_CHARS, retiredGraceMs: opts.ttlMs + opts.clockSkewMs, noun: 'ticket',
    codes: { tooLarge: 'ticket_too_large', malformed: 'ticket_malformed', invalid: 'ticket_invalid', unknownKey: 'ticket_key_unknown', retired: 'ticket_key_retired' },
  })
  const cache = new Lru<string, Cached>(opts.cacheSize ?? 10_000)
  const expiryCheck = (c: TicketContents, nowMs: number) => {
    // RFC 7519 §4.1.4 with the configured skew, as for proofs.
    if (nowMs >= c.expMs + opts.clockSkewMs) throw new GatewayError('ticket_expired', 'the session ticket has expired; send a proof for a new one')
  }
  return {
    ttlMs: opts.ttlMs,
    mint(t, nowMs) {
      const expMs = nowMs + opts.ttlMs
      const payload = {
        sk: t.sk.toString('base64url'), sub: t.identity, jkt: t.jkt, amr: t.method,
        iat: nowMs / 1000, exp: expMs / 1000, ...(t.cb !== undefined ? { cb: t.cb } : {}),
      }
      return { ticket: sealer.seal(payload), expiresInSec: Math.floor(opts.ttlMs / 1000) }
    },
    open(ticket, ath, nowMs) {
      const hit = cache.get(ath)
      if (hit) {
        if (nowMs >= hit.contents.expMs + opts.clockSkewMs || nowMs > hit.keyUsableUntilMs) cache.delete(ath) // evicted at expiry; opened again below for the exact code
        else return hit.contents
      }
      if (ticket.length > MAX_TICKET_CHARS) throw new GatewayError('ticket_too_large', `ticket is larger than ${MAX_TICKET_CHARS} characters`)
      const opened = sealer.open(ticket, nowMs)
      const contents = readContents(opened.value)
      expiryCheck(contents, nowMs)
      cache.set(ath, { contents, keyUsableUntilMs: opened.keyUsableUntilMs })
      return contents
    },
    stats: () => ({ cached: cache.size }),
  }
}
