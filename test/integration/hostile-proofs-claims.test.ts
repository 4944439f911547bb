// Hostile DomainPoP proofs, part 3: the static claims and the nonce
// (PROTOCOL.md §2.3 steps 3–4). Nothing here may cause a key fetch. The
// gateways' clock is injected and starts on a whole second, so the iat
// window edges (proof.maxAge 60 s + clockSkew 5 s, default config) are
// tested exactly.

import t from 'tap'
import { runTable, allowed, invalidProof as invalid, useNonce, type Row, type RowCtx } from './hostile-proofs-runner.js'
import { randomB64url } from '../helpers/forge.js'

const claims = (c: RowCtx, edits: Record<string, unknown>) => ({ token: c.forge({ claims: edits }) })
/** Default config: nonce.ttl 5m. */
const NONCE_TTL_MS = 300_000

const rows: Row[] = [
  { name: 'control: a valid proof', build: (c) => ({ token: c.valid() }), expect: allowed() },
  {
    // RFC 9449 §4.3 (9): htu is compared without query and fragment.
    name: 'control: htu with the query of the request (ignored)',
    build: (c) => ({ path: '/foo?x=1', token: c.forge({ claims: { htu: `${c.origin}/foo?x=1` } }) }),
    expect: allowed(),
  },
  { name: 'control: iat at the old edge (now − 65 s)', build: (c) => claims(c, { iat: c.nowSec() - 65 }), expect: allowed() },
  { name: 'control: iat at the future edge (now + 5 s)', build: (c) => claims(c, { iat: c.nowSec() + 5 }), expect: allowed() },
  { name: 'control: jti of exactly 128 characters', build: (c) => claims(c, { jti: 'j'.repeat(128) }), expect: allowed() },

  // aud: the gateway's publicOrigin, a string, exactly.
  { name: 'aud another origin', build: (c) => claims(c, { aud: 'https://evil.test' }), expect: invalid('proof_aud_mismatch') },
  { name: 'aud with a trailing slash', build: (c) => claims(c, { aud: `${c.origin}/` }), expect: invalid('proof_aud_mismatch') },
  { name: 'aud an array holding the origin', build: (c) => claims(c, { aud: [c.origin] }), expect: invalid('proof_aud_mismatch') },
  { name: 'aud the origin over http', build: (c) => claims(c, { aud: c.origin.replace('https:', 'http:') }), expect: invalid('proof_aud_mismatch') },
  { name: 'aud missing', build: (c) => claims(c, { aud: undefined }), expect: invalid('proof_aud_mismatch') },

  // htm / htu: the request, built from publicOrigin and never from Host or X-Forwarded-*.
  { name: 'htm POST on a GET', build: (c) => claims(c, { htm: 'POST' }), expect: invalid('proof_htm_mismatch') },
  { name: 'htm in lower case (get)', build: (c) => claims(c, { htm: 'get' }), expect: invalid('proof_htm_mismatch') },
  { name: 'htm missing', build: (c) => claims(c, { htm: undefined }), expect: invalid('proof_htm_mismatch') },
  { name: 'htu another path', build: (c) => claims(c, { htu: `${c.origin}/reports/q3` }), expect: invalid('proof_htu_mismatch') },
  { name: 'htu with a trailing slash', build: (c) => claims(c, { htu: `${c.origin}/foo/` }), expect: invalid('proof_htu_mismatch') },
  { name: 'htu another origin', build: (c) => claims(c, { htu: 'https://evil.test/foo' }), expect: invalid('proof_htu_mismatch') },
  { name: 'htu over http', build: (c) => claims(c, { htu: 'http://gw.test/foo' }), expect: invalid('proof_htu_mismatch') },
  { name: 'htu with userinfo', build: (c) => claims(c, { htu: 'https://alice@gw.test/foo' }), expect: invalid('proof_htu_mismatch') },
  { name: 'htu missing', build: (c) => claims(c, { htu: undefined }), expect: invalid('proof_htu_mismatch') },
  {
    name: 'htu naming the Host the request was sent with',
    build: (c) => ({ headers: [['Host', 'evil.test']], token: c.forge({ claims: { htu: 'http://evil.test/foo' } }) }),
    expect: invalid('proof_htu_mismatch'),
  },
  {
    name: 'htu naming a host that X-Forwarded-Host / Forwarded vouch for',
    build: (c) => ({
      headers: [['X-Forwarded-Host', 'evil.test'], ['X-Forwarded-Proto', 'https'], ['Forwarded', 'host=evil.test;proto=https']],
      token: c.forge({ claims: { htu: 'https://evil.test/foo' } }),
    }),
    expect: invalid('proof_htu_mismatch'),
  },
  {
    // RFC 9112 §3.2.2 absolute-form would bring its own authority; the gateway routes origin-form only.
    name: 'absolute-form request-target naming the forged htu origin',
    build: (c) => ({ path: 'https://evil.test/foo', token: c.forge({ claims: { htu: 'https://evil.test/foo' } }) }),
    expect: { status: 400, code: 'path_rejected' },
  },
  {
    // PROTOCOL.md §5: "A cb that is present must match"; a plain-HTTP
    // connection has no TLS exporter, so no cb can match it. A proof bound to
    // one TLS channel must not be accepted on another (§2.3 step 9).
    name: 'cb (channel binding) present on a plain-HTTP connection',
    build: (c) => claims(c, { cb: randomB64url(32) }),
    expect: { status: 401, code: 'channel_binding_unavailable', error: 'invalid_request' },
  },

  // iat window and jti shape.
  { name: 'iat five minutes in the past', build: (c) => claims(c, { iat: c.nowSec() - 300 }), expect: invalid('proof_iat_invalid') },
  { name: 'iat five minutes in the future', build: (c) => claims(c, { iat: c.nowSec() + 300 }), expect: invalid('proof_iat_invalid') },
  { name: 'iat one second past the old edge (now − 66 s)', build: (c) => claims(c, { iat: c.nowSec() - 66 }), expect: invalid('proof_iat_invalid') },
  { name: 'iat one second past the future edge (now + 6 s)', build: (c) => claims(c, { iat: c.nowSec() + 6 }), expect: invalid('proof_iat_invalid') },
  { name: 'iat in milliseconds', build: (c) => claims(c, { iat: c.nowSec() * 1000 }), expect: invalid('proof_iat_invalid') },
  { name: 'iat a string', build: (c) => claims(c, { iat: String(c.nowSec()) }), expect: invalid('proof_claims_invalid') },
  { name: 'iat missing', build: (c) => claims(c, { iat: undefined }), expect: invalid('proof_claims_invalid') },
  { name: 'jti missing', build: (c) => claims(c, { jti: undefined }), expect: invalid('proof_claims_invalid') },
  { name: 'jti over 128 characters', build: (c) => claims(c, { jti: 'j'.repeat(129) }), expect: invalid('proof_claims_invalid') },
  { name: 'jti empty', build: (c) => claims(c, { jti: '' }), expect: invalid('proof_claims_invalid') },
  { name: 'jti a number', build: (c) => claims(c, { jti: 42 }), expect: invalid('proof_claims_invalid') },

  // Nonce: HMAC, version, age (§1). Missing, stale or forged → use_nonce with a fresh one.
  { name: 'nonce missing', build: (c) => claims(c, { nonce: undefined }), expect: useNonce('nonce_missing') },
  { name: 'nonce forged (random base64url)', build: (c) => claims(c, { nonce: randomB64url(37) }), expect: useNonce('nonce_invalid') },
  {
    name: 'nonce with one bit flipped',
    build: (c) => {
      const raw = Buffer.from(c.nonce, 'base64url')
      raw[raw.length >> 1] ^= 1
      return claims(c, { nonce: raw.toString('base64url') })
    },
    expect: useNonce('nonce_invalid'),
  },
  {
    // Same format, same key id ("dev"), same clock: only the secret differs.
    name: 'nonce from a gateway with a different secret',
    build: async (c) => claims(c, { nonce: await c.challenge('strict') }),
    expect: useNonce('nonce_invalid'),
  },
  {
    name: 'nonce expired (issued, then the clock passes nonce.ttl)',
    build: async (c) => {
      const nonce = await c.challenge('main')
      c.advanceClockMs(NONCE_TTL_MS + 1000)
      return claims(c, { nonce, iat: c.nowSec() })
    },
    expect: useNonce('nonce_stale'),
  },
  { name: 'nonce over 128 characters', build: (c) => claims(c, { nonce: c.nonce + 'A'.repeat(129 - c.nonce.length) }), expect: useNonce('nonce_invalid') },
  { name: 'nonce a number', build: (c) => claims(c, { nonce: 1 }), expect: useNonce('nonce_invalid') },
  { name: 'nonce empty', build: (c) => claims(c, { nonce: '' }), expect: useNonce('nonce_invalid') },
  { name: 'nonce with a character outside base64url', build: (c) => claims(c, { nonce: `${c.nonce.slice(1)}=` }), expect: useNonce('nonce_invalid') },
  { name: 'control: a valid proof after the clock moved (the fresh nonce works)', build: (c) => ({ token: c.valid() }), expect: allowed() },
]

await runTable(t, rows)
