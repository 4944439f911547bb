// The per-request session proof (PROTOCOL.md §4): a compact JWS, alg HS256
// under the session key SK, typ `domainpop-session+jwt`, claims htm, htu, iat,
// jti, ath = base64url(SHA-256(ticket)) and optional cb. Signed by clients,
// checked by the gateway. Hot path: node:crypto, no jose (jose 6 is async
// WebCrypto only; measured ~87 µs per HS256 jwtVerify against ~5 µs here,
// docs/benchmarks.md). jose is the test oracle (test/unit/proofs/session-proof.test.ts).

import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto'
import { GatewayError } from '../errors.js'
import { MAX_JTI_CHARS, htuMatches, iatInWindow, isJti } from './claims.js'

export const SESSION_PROOF_TYP = 'domainpop-session+jwt'
const MAC_BYTES = 32
const B64URL = /^[A-Za-z0-9_-]+$/

/** RFC 9449 §4.2-style `ath`: base64url(SHA-256(ASCII(ticket))). */
export const athOf = (ticket: string): string => createHash('sha256').update(ticket).digest('base64url')

export interface SessionProofInput {
  readonly htm: string
  /** Origin + path; query and fragment are dropped. */
  readonly htu: string
  readonly ticket: string
  readonly iatSec?: number
  readonly jti?: string
  readonly cb?: string
}

const HEADER_SEGMENT = Buffer.from(JSON.stringify({ typ: SESSION_PROOF_TYP, alg: 'HS256' })).toString('base64url')

/** Signs a session proof with SK (clients, tests, the bench). */
export function signSessionProof(sk: Buffer, input: SessionProofInput): string {
  const claims: Record<string, unknown> = {
    htm: input.htm,
    htu: input.htu.split(/[?#]/)[0],
    iat: input.iatSec ?? Math.floor(Date.now() / 1000),
    jti: input.jti ?? randomBytes(16).toString('base64url'),
    ath: athOf(input.ticket),
    ...(input.cb !== undefined ? { cb: input.cb } : {}),
  }
  const signingInput = `${HEADER_SEGMENT}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}`
  return `${signingInput}.${createHmac('sha256', sk).update(signingInput).digest('base64url')}`
}

/** The pieces of a session proof before its MAC is checked: the header checked, nothing else trusted. */
export interface SplitSessionProof {
  readonly signingInput: string
  readonly payloadSegment: string
  readonly mac: Buffer
}

// Clients send the same header on every request: remember the header
// segments already found good (bounded), so the hot path skips its JSON parse.
const goodHeaders = new Set<string>([HEADER_SEGMENT])
const GOOD_HEADERS_MAX = 64

function checkHeader(segment: string): void {
  if (goodHeaders.has(segment)) return
  let h: unknown
  try { h = JSON.parse(Buffer.from(segment, 'base64url').toString('utf8')) } catch {
    throw new GatewayError('session_proof_malformed', 'session proof header is not base64url JSON')
  }
  if (h === null || typeof h !== 'object' || Array.isArray(h)) throw new GatewayError('session_proof_malformed', 'session proof header is not a JSON object')
  const header = h as Record<string, unknown>
  // RFC 8725 §3.11 explicit typing: a DomainPoP, DPoP or access-token JWT is never taken for a session proof.
  if (header.typ !== SESSION_PROOF_TYP) throw new GatewayError('session_proof_invalid', `typ must be ${SESSION_PROOF_TYP}`)
  // RFC 8725 §3.1: exactly the one algorithm, never `none`.
  if (header.alg !== 'HS256') throw new GatewayError('session_proof_invalid', 'alg must be HS256')
  for (const k of Object.keys(header)) {
    if (k !== 'typ' && k !== 'alg') throw new GatewayError('session_proof_invalid', `header member ${k.length <= 16 ? k : 'name'} is not allowed`)
  }
  if (goodHeaders.size < GOOD_HEADERS_MAX) goodHeaders.add(segment)
}

/** Shape and header of `DomainPoP-Proof` (RFC 7515 §7.1 compact form). No key needed. */
export function splitSessionProof(proof: string, maxBytes: number): SplitSessionProof {
  if (proof.length > maxBytes) throw new GatewayError('session_proof_malformed', `session proof is larger than ${maxBytes} bytes`)
  const dot1 = proof.indexOf('.')
  const dot2 = dot1 < 0 ? -1 : proof.indexOf('.', dot1 + 1)
  if (dot1 <= 0 || dot2 < 0 || proof.indexOf('.', dot2 + 1) >= 0) throw new GatewayError('session_proof_malformed', 'session proof must be a compact JWS of three segments')
  const h = proof.slice(0, dot1), p = proof.slice(dot1 + 1, dot2), s = proof.slice(dot2 + 1)
  if (!B64URL.test(h) || !B64URL.test(p) || !B64URL.test(s)) throw new GatewayError('session_proof_malformed', 'session proof segments must be base64url without padding')
  checkHeader(h)
  return { signingInput: proof.slice(0, dot2), payloadSegment: p, mac: Buffer.from(s, 'base64url') }
}

/** RFC 7515 §5.2 step 10 with RFC 7518 §3.2: the HMAC, compared in constant time; then the payload. */
export function verifySessionProofMac(split: SplitSessionProof, sk: Buffer): Record<string, unknown> {
  const expected = createHmac('sha256', sk).update(split.signingInput).digest()
  if (split.mac.length !== MAC_BYTES || !timingSafeEqual(expected, split.mac)) {
    throw new GatewayError('session_proof_signature_invalid', 'the session proof is not signed with this ticket\'s session key')
  }
  let v: unknown
  try { v = JSON.parse(Buffer.from(split.payloadSegment, 'base64url').toString('utf8')) } catch {
    throw new GatewayError('session_proof_malformed', 'session proof payload is not base64url JSON')
  }
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new GatewayError('session_proof_malformed', 'session proof payload is not a JSON object')
  return v as Record<string, unknown>
}

/** The gateway's clock travels in the error, so a client whose clock is off can correct (as Hawk's `tsm` does). */
export class SessionClockError extends GatewayError {
  constructor(readonly serverTimeSec: number) {
    super('session_proof_iat_invalid', `iat is outside the acceptance window; the gateway's time is ${serverTimeSec}`)
  }
}

export interface SessionClaimsContext {
  readonly method: string
  /** The normalized path the ACL matched. */
  readonly path: string
  readonly publicOrigin: string
  readonly nowMs: number
  readonly maxAgeMs: number
  readonly clockSkewMs: number
  /** base64url(SHA-256(the presented ticket)). */
  readonly ath: string
}

export interface SessionClaims { readonly jti: string; readonly iatSec: number; readonly cb: unknown }

/** The claims of a MAC-checked session proof (PROTOCOL.md §4; RFC 9449 §4.3 for htm, htu, iat, ath). */
export function checkSessionClaims(p: Record<string, unknown>, ctx: SessionClaimsContext): SessionClaims {
  // ath first: a proof made for another ticket says nothing about this one.
  if (p.ath !== ctx.ath) throw new GatewayError('session_proof_ath_mismatch', 'ath is not the hash of this ticket')
  if (p.htm !== ctx.method) throw new GatewayError('session_proof_mismatch', 'htm does not match the request method')
  if (!htuMatches(p.htu, ctx.publicOrigin, ctx.path)) throw new GatewayError('session_proof_mismatch', 'htu does not match the request URI')
  const iat = p.iat
  if (typeof iat !== 'number' || !Number.isFinite(iat)) throw new GatewayError('session_proof_invalid', 'iat must be a number')
  if (!iatInWindow(iat, ctx.nowMs, ctx.maxAgeMs, ctx.clockSkewMs)) throw new SessionClockError(Math.floor(ctx.nowMs / 1000))
  if (!isJti(p.jti)) throw new GatewayError('session_proof_invalid', `jti must be a string of 1-${MAX_JTI_CHARS} characters`)
  return { jti: p.jti, iatSec: iat, cb: p.cb }
}
