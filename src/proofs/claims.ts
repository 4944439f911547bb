// Claim checks every proof kind shares: the `iat` acceptance window, the
// `jti` shape and the `htu` comparison. Pure.

import { parseTarget } from '../http/target.js'

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

/**
 * RFC 9449 §4.3 (9): htu is compared ignoring query and fragment, after
 * RFC 3986 §6.2.2/§6.2.3 normalization. The expected value is built from
 * the configured publicOrigin and the normalized path, never from Host or
 * X-Forwarded-*.
 */
export function htuMatches(htu: unknown, publicOrigin: string, path: string): boolean {
  if (typeof htu !== 'string' || htu.length > 8192) return false
  // Fast path: the exact string a well-behaved client sends.
  if (htu.length === publicOrigin.length + path.length && htu.startsWith(publicOrigin) && htu.endsWith(path)) return true
  let url: URL
  try { url = new URL(htu) } catch { return false }
  if (url.username || url.password || url.origin !== publicOrigin) return false
  try {
    return parseTarget(url.pathname).path === path
  } catch {
    return false
  }
}
