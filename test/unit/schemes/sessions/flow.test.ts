// A session ticket from mint to use, gateway and client sides together, with
// injected fakes (memory replay store, memory revocations, a clock): the
// gateway mints after a proof's `epk`, the client derives the same key from
// the `DomainPoP-Session` field, signs HS256 proofs, and every bad input of
// issue 21 at this level is refused with its own code.

import t from 'tap'
import { randomBytes } from 'node:crypto'
import { GatewayError } from '../../../../src/errors.js'
import type { Identity } from '../../../../src/identity/domain.js'
import { createMemoryReplayStore } from '../../../../src/replay/memory.js'
import { createMemoryRevocations } from '../../../../src/revocation/memory.js'
import { withAclRevocations } from '../../../../src/revocation/types.js'
import { createTicketBook } from '../../../../src/schemes/sessions/ticket.js'
import { mintTicket, sessionRequestOf } from '../../../../src/schemes/sessions/grant.js'
import { parseSessionRequest, verifySessionRequest, type SessionDeps } from '../../../../src/schemes/sessions/verify.js'
import { acceptTicket, newPendingTicket, parseSessionField, type Ticket } from '../../../../src/client/session.js'
import { signSessionProof } from '../../../../src/proofs/session-proof.js'
import type { NamedSecret } from '../../../../src/secrets/types.js'

const ORIGIN = 'https://bob.example'
const ALICE = 'alice.example' as Identity
const KID = 'NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs'
const NONCE = 'AQJuMWFiY2RlZmdoaWprbA'
const TTL = 3_600_000, SKEW = 5_000, MAX_AGE = 60_000
const T0 = 1_765_100_000_000
const key = (id: string): NamedSecret => ({ id, key: randomBytes(32) })

function setup(opts: { keys?: NamedSecret[]; now?: () => number } = {}) {
  let now = T0
  const clock = opts.now ?? (() => now)
  const revocations = createMemoryRevocations({ maxAgeMs: TTL + SKEW, now: clock })
  const deps: SessionDeps = {
    tickets: createTicketBook(opts.keys ?? [key('t1')], { ttlMs: TTL, clockSkewMs: SKEW, cacheSize: 4 }),
    replay: createMemoryReplayStore({ maxEntries: 1000, now: clock }),
    revocations, publicOrigin: ORIGIN, maxAgeMs: MAX_AGE, clockSkewMs: SKEW, maxProofBytes: 8192,
  }
  return { deps, revocations, set: (ms: number) => { now = ms }, now: () => now }
}

/** The gateway mints for a pending client key; the client reads the answer. */
function negotiate(deps: SessionDeps, nowMs: number, opts: { curve?: 'P-256' | 'X25519'; cb?: string } = {}): Ticket {
  const pending = newPendingTicket(opts.curve)
  const field = mintTicket({ epk: pending.epk, nonce: NONCE, aud: ORIGIN, kid: KID, identity: ALICE, method: 'domainpop', cb: opts.cb }, deps.tickets, nowMs)
  const res = new Response(null, { headers: { 'domainpop-session': field } })
  const t = acceptTicket(res, pending, { nonce: NONCE, aud: ORIGIN, kid: KID }, nowMs)
  if (!t) throw new Error('no ticket')
  return t
}

const proofFor = (tk: Ticket, nowMs: number, o: { method?: string; path?: string; jti?: string; ticket?: string; cb?: string; iatSec?: number } = {}) =>
  signSessionProof(tk.sk, { htm: o.method ?? 'GET', htu: ORIGIN + (o.path ?? '/api/x'), ticket: o.ticket ?? tk.ticket, jti: o.jti, cb: o.cb, iatSec: o.iatSec ?? nowMs / 1000 })

async function present(deps: SessionDeps, ticket: string, proof: string | undefined, nowMs: number, o: { method?: string; path?: string; exporter?: Buffer } = {}) {
  const claim = parseSessionRequest(ticket, proof, nowMs, deps)
  return verifySessionRequest(claim, { method: o.method ?? 'GET', path: o.path ?? '/api/x', nowMs, exporter: o.exporter }, deps)
}

async function codeOf(p: Promise<unknown> | (() => Promise<unknown>)): Promise<string | undefined> {
  try { await (typeof p === 'function' ? p() : p) } catch (e) { return e instanceof GatewayError ? e.code : `not a GatewayError: ${String(e)}` }
  return undefined
}

for (const curve of ['P-256', 'X25519'] as const) {
  t.test(`${curve}: mint, derive, present`, async (t) => {
    const { deps } = setup()
    const tk = negotiate(deps, T0, { curve })
    t.equal(tk.expiresAtMs, T0 + TTL)
    const p = await present(deps, tk.ticket, proofFor(tk, T0), T0)
    t.same(p, { identity: ALICE, jkt: KID, mintedBy: 'domainpop', channelBound: false, expMs: T0 + TTL })
    const again = await present(deps, tk.ticket, proofFor(tk, T0 + 1000), T0 + 1000)
    t.equal(again.identity, ALICE, 'a second request, second jti')
  })
}

t.test('the DomainPoP-Session field: ticket, epk, expires_in', async (t) => {
  const { deps } = setup()
  const pending = newPendingTicket()
  const field = mintTicket({ epk: pending.epk, nonce: NONCE, aud: ORIGIN, kid: KID, identity: ALICE, method: 'dpop', cb: undefined }, deps.tickets, T0)
  t.match(field, /^ticket="[A-Za-z0-9_.-]+", epk="[A-Za-z0-9_-]+", expires_in=3600$/)
  const parsed = parseSessionField(field)
  t.match(parsed, { expiresInSec: 3600, epk: { kty: 'EC', crv: 'P-256' } }, 'the gateway answers on the client\'s curve')
  t.notOk((parsed!.epk as Record<string, unknown>).d, 'no private member')
})

t.test('sessionRequestOf: epk, ses, neither, and a bad ses', async (t) => {
  t.equal(sessionRequestOf({ iss: 'x' }), undefined)
  t.same(sessionRequestOf({ epk: { a: 1 } }), { epk: { a: 1 }, cookie: false })
  t.same(sessionRequestOf({ ses: 'cookie' }), { epk: undefined, cookie: true })
  t.equal(await codeOf(async () => sessionRequestOf({ ses: 'ticket' })), 'proof_claims_invalid')
})

t.test('a bad epk is refused with proof_epk_invalid', async (t) => {
  const { deps } = setup()
  for (const epk of [undefined, 'x', { kty: 'EC', crv: 'P-384', x: 'a', y: 'b' }, { ...newPendingTicket().epk, d: 'AAAA' }]) {
    t.equal(await codeOf(async () => mintTicket({ epk, nonce: NONCE, aud: ORIGIN, kid: KID, identity: ALICE, method: 'domainpop', cb: undefined }, deps.tickets, T0)), 'proof_epk_invalid')
  }
})

t.test('SK depends on the proof: another nonce on the client side breaks the HMAC', async (t) => {
  const { deps } = setup()
  const pending = newPendingTicket()
  const field = mintTicket({ epk: pending.epk, nonce: NONCE, aud: ORIGIN, kid: KID, identity: ALICE, method: 'domainpop', cb: undefined }, deps.tickets, T0)
  const wrong = acceptTicket(new Response(null, { headers: { 'domainpop-session': field } }), pending, { nonce: 'other', aud: ORIGIN, kid: KID }, T0)!
  t.equal(await codeOf(present(deps, wrong.ticket, proofFor(wrong, T0), T0)), 'session_proof_signature_invalid')
})

t.test('bad inputs, each with its own code', async (t) => {
  const { deps } = setup()
  const tk = negotiate(deps, T0)
  const other = negotiate(deps, T0)
  const [h, ek, iv, ct, tag] = tk.ticket.split('.') as [string, string, string, string, string]
  const flip = (s: string) => { const b = Buffer.from(s, 'base64url'); b[1]! ^= 1; return b.toString('base64url') }
  const cases: [string, () => Promise<unknown>, string][] = [
    ['tampered ticket', () => present(deps, `${h}.${ek}.${iv}.${flip(ct)}.${tag}`, proofFor({ ...tk, ticket: `${h}.${ek}.${iv}.${flip(ct)}.${tag}` }, T0), T0), 'ticket_invalid'],
    ['truncated ticket', () => present(deps, tk.ticket.slice(0, 60), proofFor(tk, T0), T0), 'ticket_malformed'],
    ['oversized ticket', () => present(deps, tk.ticket + 'A'.repeat(2048), proofFor(tk, T0), T0), 'ticket_too_large'],
    ['no session proof', () => present(deps, tk.ticket, undefined, T0), 'session_proof_malformed'],
    ['HMAC with another key', () => present(deps, tk.ticket, proofFor({ ...tk, sk: other.sk }, T0), T0), 'session_proof_signature_invalid'],
    ['the ath of another ticket', () => present(deps, tk.ticket, proofFor(tk, T0, { ticket: other.ticket }), T0), 'session_proof_ath_mismatch'],
    ['another method', () => present(deps, tk.ticket, proofFor(tk, T0, { method: 'POST' }), T0), 'session_proof_mismatch'],
    ['another path', () => present(deps, tk.ticket, proofFor(tk, T0, { path: '/admin' }), T0), 'session_proof_mismatch'],
    ['iat out of window', () => present(deps, tk.ticket, proofFor(tk, T0, { iatSec: (T0 - 70_000) / 1000 }), T0), 'session_proof_iat_invalid'],
    ['a cb on plain HTTP', () => present(deps, tk.ticket, proofFor(tk, T0, { cb: randomBytes(32).toString('base64url') }), T0), 'channel_binding_unavailable'],
  ]
  for (const [what, run, code] of cases) t.equal(await codeOf(run), code, what)
})

t.test('a replayed jti; the same jti under another ticket is not a replay', async (t) => {
  const { deps } = setup()
  const tk = negotiate(deps, T0), tk2 = negotiate(deps, T0)
  const proof = proofFor(tk, T0, { jti: 'same' })
  await present(deps, tk.ticket, proof, T0)
  t.equal(await codeOf(present(deps, tk.ticket, proof, T0 + 10)), 'session_proof_replayed')
  t.ok(await present(deps, tk2.ticket, proofFor(tk2, T0, { jti: 'same' }), T0), 'keyed by (ath, jti)')
})

t.test('expiry: an opened ticket is evicted from the cache at its expiry', async (t) => {
  const { deps } = setup()
  const tk = negotiate(deps, T0)
  await present(deps, tk.ticket, proofFor(tk, T0), T0)
  t.equal(deps.tickets.stats().cached, 1, 'cached by ath')
  const end = T0 + TTL + SKEW
  t.ok(await present(deps, tk.ticket, proofFor(tk, end - 1), end - 1), 'just before expiry + skew')
  t.equal(await codeOf(present(deps, tk.ticket, proofFor(tk, end), end)), 'ticket_expired')
  t.equal(deps.tickets.stats().cached, 0, 'evicted')
})

t.test('the cache is bounded', async (t) => {
  const { deps } = setup()
  for (let i = 0; i < 10; i++) { const tk = negotiate(deps, T0); await present(deps, tk.ticket, proofFor(tk, T0), T0) }
  t.equal(deps.tickets.stats().cached, 4)
})

t.test('rotation: a ticket sealed under the previous key still opens; a retired one stops; a dropped one is unknown', async (t) => {
  const k1 = key('t1'), k2 = key('t2')
  const a = setup({ keys: [k1] })
  const tk = negotiate(a.deps, T0)
  const b = setup({ keys: [k2, k1] })
  t.ok(await present(b.deps, tk.ticket, proofFor(tk, T0), T0), 'another replica, rotated: still opens')
  const retired = setup({ keys: [k2, { ...k1, retiredAtMs: T0 - TTL - SKEW - 1 }] })
  t.equal(await codeOf(present(retired.deps, tk.ticket, proofFor(tk, T0), T0)), 'ticket_key_retired')
  const dropped = setup({ keys: [k2] })
  t.equal(await codeOf(present(dropped.deps, tk.ticket, proofFor(tk, T0), T0)), 'ticket_key_unknown')
})

t.test('revocation: tickets minted before the not-before time are refused; later ones pass', async (t) => {
  const { deps, revocations } = setup()
  const before = negotiate(deps, T0)
  await present(deps, before.ticket, proofFor(before, T0), T0) // cached: revocation must still apply
  await revocations.revoke(ALICE, T0 + 1)
  t.equal(await codeOf(present(deps, before.ticket, proofFor(before, T0 + 2), T0 + 2)), 'session_revoked', 'even when cached')
  const after = negotiate(deps, T0 + 2)
  t.ok(await present(deps, after.ticket, proofFor(after, T0 + 2), T0 + 2), 'a ticket minted after passes')
  const acl = setup()
  const tk = negotiate(acl.deps, T0)
  const withAcl = { ...acl.deps, revocations: withAclRevocations(acl.revocations, new Map([[ALICE as string, T0 + 5]])) }
  t.equal(await codeOf(present(withAcl, tk.ticket, proofFor(tk, T0 + 6), T0 + 6)), 'session_revoked', 'the ACL revoke: map')
})

t.test('channel binding: a ticket minted on a bound proof works only on that connection', async (t) => {
  const { deps } = setup()
  const ekm = randomBytes(32)
  const tk = negotiate(deps, T0, { cb: ekm.toString('base64url') })
  t.match(await present(deps, tk.ticket, proofFor(tk, T0), T0, { exporter: ekm }), { channelBound: true }, 'same connection, no cb in the proof')
  t.equal(await codeOf(present(deps, tk.ticket, proofFor(tk, T0), T0, { exporter: randomBytes(32) })), 'channel_binding_mismatch', 'another connection')
  t.equal(await codeOf(present(deps, tk.ticket, proofFor(tk, T0), T0)), 'channel_binding_unavailable', 'plain HTTP')
  const free = negotiate(deps, T0)
  t.match(await present(deps, free.ticket, proofFor(free, T0, { cb: ekm.toString('base64url') }), T0, { exporter: ekm }), { channelBound: true }, 'an unbound ticket with a matching cb')
})
