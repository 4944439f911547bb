// Sealed credentials (JWE compact, dir + A256GCM, kid + typ): node:crypto
// here, jose as the oracle both ways; rotation (the newest seals, every
// listed key opens, a retired key stops after TTL + skew) and every
// tampered, truncated, oversized or foreign value refused with its code.

import t from 'tap'
import { randomBytes } from 'node:crypto'
import { CompactEncrypt, compactDecrypt } from 'jose'
import { GatewayError } from '../../../src/errors.js'
import { createSealer, type SealerOptions } from '../../../src/secrets/sealer.js'
import type { NamedSecret } from '../../../src/secrets/types.js'

const NOW = 1_765_100_000_000
const TTL = 3_600_000, SKEW = 5_000
const opts: SealerOptions = {
  typ: 'popgate-ticket', maxChars: 2048, retiredGraceMs: TTL + SKEW, noun: 'ticket',
  codes: { tooLarge: 'ticket_too_large', malformed: 'ticket_malformed', invalid: 'ticket_invalid', unknownKey: 'ticket_key_unknown', retired: 'ticket_key_retired' },
}
const key = (id: string, retiredAtMs?: number): NamedSecret => ({ id, key: randomBytes(32), ...(retiredAtMs !== undefined ? { retiredAtMs } : {}) })
const T1 = key('t1'), T2 = key('t2')
const code = (fn: () => unknown): string | undefined => {
  try { fn() } catch (e) { return e instanceof GatewayError ? e.code : `not a GatewayError: ${String(e)}` }
  return undefined
}
const joseSeal = (k: NamedSecret, header: Record<string, unknown>, payload: object) =>
  new CompactEncrypt(new TextEncoder().encode(JSON.stringify(payload))).setProtectedHeader({ alg: 'dir', enc: 'A256GCM', ...header }).encrypt(k.key)

t.test('round trip; the protected header names kid and typ', async (t) => {
  const s = createSealer([T1], opts)
  const sealed = s.seal({ a: 1, b: 'x' })
  t.same(s.open(sealed, NOW), { value: { a: 1, b: 'x' }, keyUsableUntilMs: Infinity })
  const header = JSON.parse(Buffer.from(sealed.split('.')[0]!, 'base64url').toString())
  t.same(header, { alg: 'dir', enc: 'A256GCM', kid: 't1', typ: 'popgate-ticket' })
  t.equal(sealed.split('.')[1], '', 'dir: empty encrypted key')
  t.not(s.seal({ a: 1 }), s.seal({ a: 1 }), 'a fresh IV per seal')
})

t.test('jose interop: jose opens ours, we open jose\'s', async (t) => {
  const s = createSealer([T1], opts)
  const { plaintext, protectedHeader } = await compactDecrypt(s.seal({ sub: 'alice.example' }), T1.key)
  t.same(JSON.parse(new TextDecoder().decode(plaintext)), { sub: 'alice.example' })
  t.equal(protectedHeader.kid, 't1')
  const byJose = await joseSeal(T1, { kid: 't1', typ: 'popgate-ticket' }, { sub: 'bob.example' })
  t.same(s.open(byJose, NOW).value, { sub: 'bob.example' })
  const reordered = await new CompactEncrypt(new TextEncoder().encode('{"z":0}')).setProtectedHeader({ typ: 'popgate-ticket', kid: 't1', enc: 'A256GCM', alg: 'dir' }).encrypt(T1.key)
  t.same(s.open(reordered, NOW).value, { z: 0 }, 'header member order does not matter')
})

t.test('rotation: the newest seals, every listed key opens; a dropped key is unknown', async (t) => {
  const before = createSealer([T1], opts)
  const old = before.seal({ n: 1 })
  const after = createSealer([T2, T1], opts)
  t.equal(after.sealingKid, 't2')
  t.same(after.open(old, NOW).value, { n: 1 }, 'the old key still opens')
  t.equal(JSON.parse(Buffer.from(after.seal({}).split('.')[0]!, 'base64url').toString()).kid, 't2')
  const dropped = createSealer([T2], opts)
  t.equal(code(() => dropped.open(old, NOW)), 'ticket_key_unknown')
})

t.test('a retired key opens for TTL + skew after retirement, then not', async (t) => {
  const retiredAt = NOW - TTL
  const r = key('t1', retiredAt)
  const sealedBefore = createSealer([r.retiredAtMs === undefined ? r : { id: r.id, key: r.key }], opts).seal({ n: 1 })
  const s = createSealer([T2, r], opts)
  t.equal(s.open(sealedBefore, retiredAt + TTL + SKEW).keyUsableUntilMs, retiredAt + TTL + SKEW, 'at the edge: still opens')
  t.equal(code(() => s.open(sealedBefore, retiredAt + TTL + SKEW + 1)), 'ticket_key_retired', 'past it: refused with its own code')
  t.throws(() => createSealer([key('t0', NOW)], opts), 'the newest key cannot be retired')
})

t.test('tampered, truncated, oversized and foreign values', async (t) => {
  const s = createSealer([T1], opts)
  const good = s.seal({ sub: 'alice.example' })
  const [h, , iv, ct, tag] = good.split('.') as [string, string, string, string, string]
  const flip = (seg: string) => { const b = Buffer.from(seg, 'base64url'); b[0]! ^= 1; return b.toString('base64url') }
  t.equal(code(() => s.open(`${h}..${iv}.${flip(ct)}.${tag}`, NOW)), 'ticket_invalid', 'ciphertext bit')
  t.equal(code(() => s.open(`${h}..${iv}.${ct}.${flip(tag)}`, NOW)), 'ticket_invalid', 'tag bit')
  t.equal(code(() => s.open(`${h}..${flip(iv)}.${ct}.${tag}`, NOW)), 'ticket_invalid', 'IV bit')
  const otherHeader = Buffer.from(JSON.stringify({ alg: 'dir', enc: 'A256GCM', kid: 't1', typ: 'popgate-ticket', x: 1 })).toString('base64url')
  t.equal(code(() => s.open(`${otherHeader}..${iv}.${ct}.${tag}`, NOW)), 'ticket_invalid', 'header changed (extra member)')
  const sameMembersReordered = Buffer.from(JSON.stringify({ typ: 'popgate-ticket', kid: 't1', enc: 'A256GCM', alg: 'dir' })).toString('base64url')
  t.equal(code(() => s.open(`${sameMembersReordered}..${iv}.${ct}.${tag}`, NOW)), 'ticket_invalid', 'header re-encoded: the AAD changes, the tag fails')
  t.equal(code(() => s.open(good.slice(0, -5), NOW)), 'ticket_malformed', 'truncated tag')
  t.equal(code(() => s.open(good.split('.').slice(0, 4).join('.'), NOW)), 'ticket_malformed', 'four segments')
  t.equal(code(() => s.open(`${h}.AAAA.${iv}.${ct}.${tag}`, NOW)), 'ticket_malformed', 'an encrypted key (not dir)')
  t.equal(code(() => s.open(`${h}..${iv}=.${ct}.${tag}`, NOW)), 'ticket_malformed', 'padding')
  t.equal(code(() => s.open(`bm9wZQ..${iv}.${ct}.${tag}`, NOW)), 'ticket_malformed', 'header not JSON')
  t.equal(code(() => s.open('a'.repeat(2049), NOW)), 'ticket_too_large', 'oversized')
  t.equal(code(() => s.open('', NOW)), 'ticket_malformed', 'empty')
  t.equal(code(() => createSealer([{ id: 't1', key: randomBytes(32) }], opts).open(good, NOW)), 'ticket_invalid', 'another key under the same kid')
})

t.test('foreign headers: other algorithms, another typ, compression', async (t) => {
  const s = createSealer([T1], opts)
  const cookie = await joseSeal(T1, { kid: 't1', typ: 'popgate-cookie' }, {})
  t.equal(code(() => s.open(cookie, NOW)), 'ticket_invalid', 'a cookie is not a ticket')
  const noTyp = await joseSeal(T1, { kid: 't1' }, {})
  t.equal(code(() => s.open(noTyp, NOW)), 'ticket_invalid', 'no typ')
  const unknownKid = await joseSeal(T1, { kid: 'nope', typ: 'popgate-ticket' }, {})
  t.equal(code(() => s.open(unknownKid, NOW)), 'ticket_key_unknown', 'unknown kid')
  const noKid = await joseSeal(T1, { typ: 'popgate-ticket' }, {})
  t.equal(code(() => s.open(noKid, NOW)), 'ticket_key_unknown', 'no kid')
  const a128 = await new CompactEncrypt(new TextEncoder().encode('{}')).setProtectedHeader({ alg: 'dir', enc: 'A128GCM', kid: 't1', typ: 'popgate-ticket' }).encrypt(T1.key.subarray(0, 16))
  t.equal(code(() => s.open(a128, NOW)), 'ticket_invalid', 'A128GCM')
  const zipHeader = Buffer.from(JSON.stringify({ alg: 'dir', enc: 'A256GCM', kid: 't1', typ: 'popgate-ticket', zip: 'DEF' })).toString('base64url')
  const good = s.seal({}).split('.')
  t.equal(code(() => s.open([zipHeader, ...good.slice(1)].join('.'), NOW)), 'ticket_invalid', 'zip (RFC 8725 §3.6)')
  const notObject = await new CompactEncrypt(new TextEncoder().encode('[1]')).setProtectedHeader({ alg: 'dir', enc: 'A256GCM', kid: 't1', typ: 'popgate-ticket' }).encrypt(T1.key)
  t.equal(code(() => s.open(notObject, NOW)), 'ticket_invalid', 'content not an object')
})
