// Session tickets in the browser (PROTOCOL.md §4). The proof carries `epk`,
// the public half of an ephemeral ECDH P-256 key made non-extractable; the
// gateway answers with its own `epk` and a sealed ticket; both sides derive
//
//   SK = HKDF-SHA256(ikm = ECDH x-coordinate, salt = UTF-8(nonce),
//                    info = UTF-8("domainpop session v1|" + aud + "|" + kid))
//
// Here ECDH → HKDF → HMAC is done with deriveKey at every step and
// extractable = false: neither the shared secret nor SK is ever a byte array
// a script could read. Later requests carry the ticket and an HS256 session
// proof (typ `domainpop-session+jwt`, claims htm, htu, iat, jti, ath).

import { b64url, b64urlJson, fromB64url, randomId, textOf, utf8 } from './encoding.js'
import { parseSessionField } from './challenge.js'

export interface Ticket {
  readonly ticket: string
  /** The HMAC key (non-extractable). */
  readonly sk: CryptoKey
  readonly ath: string
  readonly expiresAtMs: number
  /** From here on a full proof is sent instead, for a new ticket. */
  readonly renewAtMs: number
}

export interface PendingTicket {
  readonly privateKey: CryptoKey
  readonly epk: { kty: 'EC'; crv: 'P-256'; x: string; y: string }
}

const ECDH = { name: 'ECDH', namedCurve: 'P-256' } as const

export async function newPendingTicket(): Promise<PendingTicket> {
  const pair = await crypto.subtle.generateKey(ECDH, false, ['deriveKey', 'deriveBits']) as CryptoKeyPair
  const j = await crypto.subtle.exportKey('jwk', pair.publicKey)
  return { privateKey: pair.privateKey, epk: { kty: 'EC', crv: 'P-256', x: j.x!, y: j.y! } }
}

/** ECDH → HKDF base key, non-extractable; through deriveBits only where a browser cannot derive an HKDF key directly. */
async function sharedSecret(priv: CryptoKey, peer: CryptoKey): Promise<CryptoKey> {
  try {
    return await crypto.subtle.deriveKey({ name: 'ECDH', public: peer }, priv, { name: 'HKDF' }, false, ['deriveKey'])
  } catch {
    const z = await crypto.subtle.deriveBits({ name: 'ECDH', public: peer }, priv, 256)
    return await crypto.subtle.importKey('raw', z, 'HKDF', false, ['deriveKey'])
  }
}

/** The gateway's `DomainPoP-Session` answer + the pending key → a ticket, or undefined when there is none or it is unusable. */
export async function acceptTicket(res: Response, pending: PendingTicket, hkdf: { nonce: string; aud: string; kid: string }, nowMs: number): Promise<Ticket | undefined> {
  const field = parseSessionField(res.headers.get('domainpop-session'))
  if (!field) return undefined
  let peerJwk: Record<string, unknown>
  try { peerJwk = JSON.parse(textOf(fromB64url(field.epk))) } catch { return undefined }
  if (peerJwk.kty !== 'EC' || peerJwk.crv !== 'P-256' || typeof peerJwk.x !== 'string' || typeof peerJwk.y !== 'string') return undefined
  let sk: CryptoKey
  try {
    const peer = await crypto.subtle.importKey('jwk', { kty: 'EC', crv: 'P-256', x: peerJwk.x, y: peerJwk.y }, ECDH, false, [])
    const base = await sharedSecret(pending.privateKey, peer)
    sk = await crypto.subtle.deriveKey(
      { name: 'HKDF', hash: 'SHA-256', salt: utf8(hkdf.nonce), info: utf8(`domainpop session v1|${hkdf.aud}|${hkdf.kid}`) },
      base, { name: 'HMAC', hash: 'SHA-256', length: 256 }, false, ['sign'])
  } catch { return undefined }
  const lifeMs = field.expiresInSec * 1000
  const ath = b64url(await crypto.subtle.digest('SHA-256', utf8(field.ticket)))
  // Renewed a tenth of its life (at most a minute) early: a request in flight never carries a lapsing ticket.
  return { ticket: field.ticket, sk, ath, expiresAtMs: nowMs + lifeMs, renewAtMs: nowMs + lifeMs - Math.min(60_000, lifeMs / 10) }
}

const SESSION_HEADER = b64urlJson({ typ: 'domainpop-session+jwt', alg: 'HS256' })

/** Sets `Authorization: DomainPoP-Session <ticket>` and the HS256 `DomainPoP-Proof`. */
export async function presentTicket(headers: Headers, t: Ticket, req: { method: string; htu: string; nowMs: number }): Promise<void> {
  const claims = { htm: req.method, htu: req.htu, iat: Math.floor(req.nowMs / 1000), jti: randomId(), ath: t.ath }
  const signingInput = `${SESSION_HEADER}.${b64urlJson(claims)}`
  const mac = b64url(await crypto.subtle.sign('HMAC', t.sk, utf8(signingInput)))
  headers.set('authorization', `DomainPoP-Session ${t.ticket}`)
  headers.set('domainpop-proof', `${signingInput}.${mac}`)
}
