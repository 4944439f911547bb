// Stateless nonces (PROTOCOL.md §1): HMAC'd, rotatable, time-limited, opaque
// base64url of at most 128 characters. Every test passes the clock in.

import t from 'tap'
import { randomBytes } from 'node:crypto'
import { createNonceIssuer, MAX_NONCE_CHARS } from '../../../src/secrets/nonce.js'
import type { NamedSecret } from '../../../src/secrets/types.js'

const TTL_MS = 300_000
const SKEW_MS = 5_000
const opts = { ttlMs: TTL_MS, clockSkewMs: SKEW_MS }
const T0 = 1_700_000_000_000 // a whole second, so issuedAt == T0
const secret = (id: string): NamedSecret => ({ id, key: randomBytes(32) })
const OLD = secret('n1')
const NEW = secret('n2')

t.test('issue → check round trip', async (t) => {
  const issuer = createNonceIssuer([OLD], opts)
  const nonce = issuer.issue(T0)
  t.same(issuer.check(nonce, T0), { ok: true, issuedAtMs: T0, refresh: false })
  t.same(issuer.check(nonce, T0 + 1234), { ok: true, issuedAtMs: T0, refresh: false }, 'usable several times: not consumed')
  t.not(issuer.issue(T0), nonce, 'random bytes: two nonces of the same second differ')
  const midSecond = issuer.issue(T0 + 999)
  t.match(issuer.check(midSecond, T0 + 999), { ok: true, issuedAtMs: T0 }, 'issue time is whole seconds')
})

t.test('shape: base64url only, at most 128 characters, even with the longest key id', async (t) => {
  for (const id of ['a', 'n1', 'x'.repeat(16)]) {
    const issuer = createNonceIssuer([secret(id)], opts)
    for (let i = 0; i < 50; i++) {
      const n = issuer.issue(T0 + i * 1000)
      t.ok(n.length <= MAX_NONCE_CHARS && n.length <= 128, `length ${n.length}`)
      t.match(n, /^[A-Za-z0-9_-]+$/)
    }
  }
})

t.test('a changed byte anywhere → nonce_invalid', async (t) => {
  const issuer = createNonceIssuer([OLD], opts)
  const raw = Buffer.from(issuer.issue(T0), 'base64url')
  for (let i = 0; i < raw.length; i++) {
    for (const flip of [0x01, 0x80, 0xff]) {
      const bad = Buffer.from(raw)
      bad[i]! ^= flip
      t.same(issuer.check(bad.toString('base64url'), T0), { ok: false, code: 'nonce_invalid' }, `byte ${i} ^ ${flip}`)
    }
  }
  t.same(issuer.check(raw.subarray(0, raw.length - 1).toString('base64url'), T0), { ok: false, code: 'nonce_invalid' }, 'truncated')
  t.same(issuer.check(Buffer.concat([raw, Buffer.from([0])]).toString('base64url'), T0), { ok: false, code: 'nonce_invalid' }, 'extended')
})

t.test('a forged issue time (re-dating an old nonce) → nonce_invalid, not accepted as fresh', async (t) => {
  const issuer = createNonceIssuer([OLD], opts)
  const raw = Buffer.from(issuer.issue(T0), 'base64url')
  raw.writeUInt32BE(T0 / 1000 + 3600, 2 + OLD.id.length)
  t.same(issuer.check(raw.toString('base64url'), T0 + 3600_000), { ok: false, code: 'nonce_invalid' })
})

t.test('another secret, or the same key id with another key → nonce_invalid', async (t) => {
  const a = createNonceIssuer([OLD], opts)
  t.same(createNonceIssuer([secret('other')], opts).check(a.issue(T0), T0), { ok: false, code: 'nonce_invalid' })
  t.same(createNonceIssuer([secret(OLD.id)], opts).check(a.issue(T0), T0), { ok: false, code: 'nonce_invalid' })
})

t.test('rotation: the newest key signs, every listed key verifies', async (t) => {
  const before = createNonceIssuer([OLD], opts)
  const during = createNonceIssuer([NEW, OLD], opts)
  const after = createNonceIssuer([NEW], opts)
  t.match(during.check(before.issue(T0), T0), { ok: true }, 'a replica on [new, old] accepts a replica on [old]')
  const fromNew = during.issue(T0)
  t.match(during.check(fromNew, T0), { ok: true })
  t.match(after.check(fromNew, T0), { ok: true }, 'nonces from [new, old] are signed by new')
  t.same(before.check(fromNew, T0), { ok: false, code: 'nonce_invalid' }, 'a replica on [old] rejects nonces signed by new')
  t.same(after.check(before.issue(T0), T0), { ok: false, code: 'nonce_invalid' }, 'a dropped key no longer verifies')
  t.throws(() => createNonceIssuer([], opts), 'at least one secret')
})

t.test('ttl: stale after nonceTtl; refresh after half of it', async (t) => {
  const issuer = createNonceIssuer([OLD], opts)
  const n = issuer.issue(T0)
  t.same(issuer.check(n, T0 + TTL_MS / 2), { ok: true, issuedAtMs: T0, refresh: false }, 'exactly half: no refresh yet')
  t.same(issuer.check(n, T0 + TTL_MS / 2 + 1), { ok: true, issuedAtMs: T0, refresh: true }, 'past half its life: refresh')
  t.same(issuer.check(n, T0 + TTL_MS), { ok: true, issuedAtMs: T0, refresh: true }, 'last valid millisecond')
  t.same(issuer.check(n, T0 + TTL_MS + 1), { ok: false, code: 'nonce_stale' })
  t.same(issuer.check(n, T0 + 10 * TTL_MS), { ok: false, code: 'nonce_stale' })
  const short = createNonceIssuer([OLD], { ttlMs: 10_000, clockSkewMs: 0 })
  t.same(short.check(short.issue(T0), T0 + 10_001), { ok: false, code: 'nonce_stale' }, 'ttl is an option')
})

t.test('from the future: within clock skew ok, beyond it invalid', async (t) => {
  const issuer = createNonceIssuer([OLD], opts)
  const n = issuer.issue(T0)
  t.match(issuer.check(n, T0 - SKEW_MS), { ok: true }, 'a replica whose clock is up to skew behind')
  t.same(issuer.check(n, T0 - SKEW_MS - 1), { ok: false, code: 'nonce_invalid' })
  t.same(issuer.check(n, T0 - 3600_000), { ok: false, code: 'nonce_invalid' })
})

t.test('anything that is not a nonce string → nonce_invalid, never a throw', async (t) => {
  const issuer = createNonceIssuer([OLD], opts)
  const good = issuer.issue(T0)
  const inputs: unknown[] = [
    undefined, null, 0, 123, true, {}, [], [good], Buffer.from(good), { toString: () => good },
    '', 'a', 'AA', '====', good + '=', good.replace(/.$/, '+'), good.slice(0, 10) + '/' + good.slice(11), ` ${good}`, `${good}\n`,
    'A'.repeat(MAX_NONCE_CHARS + 1), good + 'A'.repeat(MAX_NONCE_CHARS), Buffer.from([2, ...Buffer.from(good, 'base64url').subarray(1)]).toString('base64url'),
  ]
  for (const input of inputs) t.same(issuer.check(input, T0), { ok: false, code: 'nonce_invalid' }, JSON.stringify(typeof input === 'string' ? input.slice(0, 40) : String(input)))
})

t.test('only the canonical spelling of a nonce is accepted; the verified memo still checks age', async (t) => {
  const { createNonceIssuer } = await import('../../../src/secrets/nonce.js')
  const issuer = createNonceIssuer([{ id: 'dev', key: Buffer.alloc(32, 7) }], { ttlMs: 300_000, clockSkewMs: 5_000 })
  const now = 1_800_000_000_000
  const nonce = issuer.issue(now)
  const bytes = Buffer.from(nonce, 'base64url')
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'
  const alternates = [...alphabet].map((c) => nonce.slice(0, -1) + c).filter((s) => s !== nonce && Buffer.from(s, 'base64url').equals(bytes))
  t.ok(alternates.length > 0, 'the last character has unused bits, so other spellings of the same bytes exist')
  for (const alt of alternates) t.match(issuer.check(alt, now), { ok: false, code: 'nonce_invalid' }, `non-canonical ${alt.slice(-3)}`)
  t.match(issuer.check(nonce, now), { ok: true })
  t.match(issuer.check(nonce, now), { ok: true }, 'second check answered from the memo')
  t.match(issuer.check(nonce, now + 301_000), { ok: false, code: 'nonce_stale' }, 'the memo does not skip the age check')
  t.match(issuer.check(nonce, now - 60_000), { ok: false, code: 'nonce_invalid' }, 'nor the future check')
})
