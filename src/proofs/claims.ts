// Claim checks every proof kind shares (DomainPoP, DPoP): the `iat`
// acceptance window and the `jti` shape. Pure.

/** Longest `jti` accepted: it becomes part of a replay-store key. */
export const MAX_JTI_CHARS = 128

/** A `jti` the replay store can key on: a string of 1–MAX_JTI_CHARS characters. */
export const isJti = (jti: unknown): jti is string => typeof jti === 'string' && jti.length > 0 && jti.length <= MAX_JTI_CHARS

/**
 * RFC 9449 §11.1, docs/protocol.md §2: `iat` (seconds) no later than now + skew and
 * no earlier than now − maxAge − skew, both edges included. The caller has
 * already checked that it is a finite number.
 */
export function iatInWindow(iatSec: number, nowMs: number, maxAgeMs: number, clockSkewMs: number): boolean {
  const iatMs = iatSec * 1000
  return iatMs <= nowMs + clockSkewMs && iatMs >= nowMs - maxAgeMs - clockSkewMs
}
