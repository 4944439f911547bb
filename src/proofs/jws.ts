// Compact JWS splitting (RFC 7515 §7.1), for proofs only. Hot path: no jose
// here. jose's generic verify re-parses and re-imports on every call; we
// verify with node:crypto against a cached KeyObject (see proofs/signature.ts;
// measured in bench/). Only GatewayErrors leave this module.
//
// A client sends the same header on every request (DomainPoP: typ, alg, kid,
// jku; DPoP: typ, alg, jwk), so a header segment decoded once is remembered
// and the same frozen object returned: callers that derive something costly
// from a header (a DPoP proof's imported jwk, schemes/dpop/proof.ts) can key
// a WeakMap on it. Measured: bench/micro/pre-signature.ts.

import { GatewayError } from '../errors.js'

export interface CompactJws {
  /** Deep-frozen; the same object for the same header segment while it is remembered. */
  readonly header: Readonly<Record<string, unknown>>
  readonly payload: Record<string, unknown>
  /** ASCII bytes of `<b64 header>.<b64 payload>`. */
  readonly signingInput: string
  readonly signature: Buffer
}

const B64URL = /^[A-Za-z0-9_-]+$/

function decodeJsonObject(segment: string, what: string): Record<string, unknown> {
  let value: unknown
  try {
    value = JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'))
  } catch {
    throw new GatewayError('malformed_proof', `${what} is not base64url JSON`)
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new GatewayError('malformed_proof', `${what} is not a JSON object`)
  return value as Record<string, unknown>
}

/** Headers remembered: bounded in entries and in segment length; full → start over (a flood only churns it). */
const HEADER_MEMO_MAX = 1024
const HEADER_MEMO_MAX_CHARS = 2048
const headers = new Map<string, Readonly<Record<string, unknown>>>()

function deepFreeze<T>(v: T): T {
  if (v !== null && typeof v === 'object' && !Object.isFrozen(v)) {
    Object.freeze(v)
    for (const m of Object.values(v)) deepFreeze(m)
  }
  return v
}

function decodeHeader(segment: string): Readonly<Record<string, unknown>> {
  const known = headers.get(segment)
  if (known !== undefined) return known
  const header = deepFreeze(decodeJsonObject(segment, 'header'))
  if (segment.length <= HEADER_MEMO_MAX_CHARS) {
    if (headers.size >= HEADER_MEMO_MAX) headers.clear()
    headers.set(segment, header)
  }
  return header
}

/** RFC 8725bis: compact serialization only; a JWT holds only [A-Za-z0-9_.-]. */
export function splitCompactJws(token: string, maxBytes: number): CompactJws {
  if (token.length > maxBytes) throw new GatewayError('proof_too_large', `proof is larger than ${maxBytes} bytes`)
  const dot1 = token.indexOf('.')
  const dot2 = dot1 < 0 ? -1 : token.indexOf('.', dot1 + 1)
  if (dot1 <= 0 || dot2 < 0 || token.indexOf('.', dot2 + 1) >= 0) throw new GatewayError('malformed_proof', 'proof must be a compact JWS of three segments')
  const h = token.slice(0, dot1), p = token.slice(dot1 + 1, dot2), s = token.slice(dot2 + 1)
  if (!B64URL.test(h) || !B64URL.test(p) || !B64URL.test(s)) throw new GatewayError('malformed_proof', 'proof segments must be base64url without padding')
  return {
    header: decodeHeader(h),
    payload: decodeJsonObject(p, 'payload'),
    signingInput: token.slice(0, dot2),
    signature: Buffer.from(s, 'base64url'),
  }
}
