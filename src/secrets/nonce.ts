// Stateless nonces (PROTOCOL.md §1). Any replica holding the same secrets can
// check a nonce another one issued; no shared store.
//
//   nonce = base64url( version(1) | kidLen(1) | kid | issuedAt(u32 seconds) | random(12) | HMAC-SHA256(key, all before)[0..16] )
//
// The newest key signs; every listed key verifies (rotation across replicas:
// add the new key last, move it first, wait one TTL, drop the old one;
// docs/configuration.md, "Rotating secrets"). Replay is stopped by `jti`, not
// by consuming nonces.

import { randomBytes, timingSafeEqual } from 'node:crypto'
import { createHmacSha256 } from './hmac.js'
import type { NamedSecret } from './types.js'

const VERSION = 1
const RANDOM_BYTES = 12
const MAC_BYTES = 16
export const MAX_NONCE_CHARS = 128

export type NonceCheck =
  | { readonly ok: true; readonly issuedAtMs: number; /** past half its life: send a fresh one */ readonly refresh: boolean }
  | { readonly ok: false; readonly code: 'nonce_invalid' | 'nonce_stale' }

export interface NonceIssuer {
  issue(nowMs: number): string
  check(nonce: unknown, nowMs: number): NonceCheck
}

export function createNonceIssuer(secrets: readonly NamedSecret[], opts: { ttlMs: number; clockSkewMs: number }): NonceIssuer {
  if (secrets.length === 0) throw new Error('createNonceIssuer: at least one secret is required')
  // One HMAC per key, its pads derived once (secrets/hmac.ts).
  const byKid = new Map(secrets.map((s) => [s.id, createHmacSha256(s.key)]))
  const currentKid = Buffer.from(secrets[0]!.id, 'latin1')
  const currentMac = createHmacSha256(secrets[0]!.key)

  const mac = (hmac: (data: Buffer) => Buffer, data: Buffer) => hmac(data).subarray(0, MAC_BYTES)
  // A client reuses one nonce for many proofs: remember nonces whose HMAC
  // already verified (their issue time), so the hot path skips decode + HMAC
  // (measured ~4.5 % of a per-request proof). Age is still checked every time.
  const verified = new Map<string, number>()
  const VERIFIED_MAX = 10_000
  const ageCheck = (issuedAtMs: number, nowMs: number): NonceCheck => {
    const ageMs = nowMs - issuedAtMs
    if (ageMs < -opts.clockSkewMs) return { ok: false, code: 'nonce_invalid' } // from the future: not ours
    if (ageMs > opts.ttlMs) return { ok: false, code: 'nonce_stale' }
    return { ok: true, issuedAtMs, refresh: ageMs > opts.ttlMs / 2 }
  }

  return {
    issue(nowMs) {
      const head = Buffer.allocUnsafe(2 + currentKid.length + 4 + RANDOM_BYTES)
      head[0] = VERSION
      head[1] = currentKid.length
      currentKid.copy(head, 2)
      head.writeUInt32BE(Math.floor(nowMs / 1000), 2 + currentKid.length)
      randomBytes(RANDOM_BYTES).copy(head, 6 + currentKid.length)
      return Buffer.concat([head, mac(currentMac, head)]).toString('base64url')
    },
    check(nonce, nowMs) {
      if (typeof nonce === 'string') {
        const known = verified.get(nonce)
        if (known !== undefined) return ageCheck(known, nowMs)
      }
      if (typeof nonce !== 'string' || nonce.length === 0 || nonce.length > MAX_NONCE_CHARS || !/^[A-Za-z0-9_-]+$/.test(nonce)) {
        return { ok: false, code: 'nonce_invalid' }
      }
      const raw = Buffer.from(nonce, 'base64url')
      if (raw.length < 2 || raw[0] !== VERSION) return { ok: false, code: 'nonce_invalid' }
      const kidLen = raw[1]!
      const headLen = 2 + kidLen + 4 + RANDOM_BYTES
      if (raw.length !== headLen + MAC_BYTES) return { ok: false, code: 'nonce_invalid' }
      const key = byKid.get(raw.subarray(2, 2 + kidLen).toString('latin1'))
      if (!key) return { ok: false, code: 'nonce_invalid' }
      const head = raw.subarray(0, headLen)
      if (!timingSafeEqual(mac(key, head), raw.subarray(headLen))) return { ok: false, code: 'nonce_invalid' }
      const issuedAtMs = raw.readUInt32BE(2 + kidLen) * 1000
      // Only canonical spellings are remembered (and accepted): one nonce, one string.
      if (raw.toString('base64url') !== nonce) return { ok: false, code: 'nonce_invalid' }
      if (verified.size >= VERIFIED_MAX) verified.clear()
      verified.set(nonce, issuedAtMs)
      return ageCheck(issuedAtMs, nowMs)
    },
  }
}
