// The session-ticket scheme and the session-cookie scheme
// (src/schemes/sessions/) against the scheme contract
// (test/unit/schemes/contract.ts). A ticket's HMAC proof carries a `jti`
// spent once per (ath, jti) (PROTOCOL.md §4), so the contract's usual
// replay check applies to it. The cookie is a bearer credential the browser
// sends unchanged on every request: its form is `bearer-session` (nothing to
// replay; the ACL judges it on every request; `sessions: false` refuses it).

import t from 'tap'
import fc from 'fast-check'
import { randomBytes } from 'node:crypto'
import type { ErrorCode } from '../../../../src/errors.js'
import type { Rule } from '../../../../src/acl/index.js'
import type { Identity } from '../../../../src/identity/domain.js'
import { createMemoryRevocations } from '../../../../src/revocation/memory.js'
import { createTicketBook } from '../../../../src/schemes/sessions/ticket.js'
import { createSessionScheme } from '../../../../src/schemes/sessions/scheme.js'
import { createCookieJar } from '../../../../src/schemes/sessions/cookie.js'
import { createCookieScheme } from '../../../../src/schemes/sessions/cookie-scheme.js'
import { signSessionProof } from '../../../../src/proofs/session-proof.js'
import { fakeView } from '../../../helpers/request-view.js'
import { schemeContract } from '../contract.js'

const ORIGIN = 'https://gw.test'
const ALICE = 'alice.test' as Identity
const KID = 'NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs'
const TTL = 3_600_000, SKEW = 5_000
const RULE = { sessions: true } as Rule
const NAME = '__Host-popgate'

const TICKET_CODES: readonly ErrorCode[] = [
  'ticket_malformed', 'ticket_too_large', 'ticket_invalid', 'ticket_key_unknown', 'ticket_key_retired', 'ticket_expired',
  'session_proof_malformed', 'session_proof_invalid', 'session_proof_signature_invalid', 'session_proof_mismatch', 'session_proof_ath_mismatch',
  'session_proof_replayed', 'session_refused', 'session_revoked', 'channel_binding_mismatch', 'channel_binding_unavailable',
]
const COOKIE_CODES: readonly ErrorCode[] = [
  'cookie_malformed', 'cookie_too_large', 'cookie_invalid', 'cookie_key_unknown', 'cookie_key_retired', 'cookie_expired',
  'cookie_origin_missing', 'cookie_origin_refused', 'session_refused', 'session_revoked',
]

const b64url = fc.uint8Array({ maxLength: 96 }).map((b) => Buffer.from(b).toString('base64url'))
const jweLike = fc.array(b64url, { minLength: 1, maxLength: 6 }).map((parts) => parts.join('.'))

{
  const book = createTicketBook([{ id: 't1', key: randomBytes(32) }], { ttlMs: TTL, clockSkewMs: SKEW, cacheSize: 100 })
  const view = fakeView({ method: 'GET', path: '/foo', nowMs: Date.now() })
  const ticketAndProof = () => {
    const sk = randomBytes(32)
    const { ticket } = book.mint({ sk, identity: ALICE, jkt: KID, method: 'domainpop', cb: undefined }, view.nowMs)
    return { ticket, proof: signSessionProof(sk, { htm: 'GET', htu: `${ORIGIN}/foo`, ticket, iatSec: view.nowMs / 1000 }) }
  }
  const sample = ticketAndProof()
  schemeContract(t, {
    namespace: 'session',
    create: ({ replay }) => createSessionScheme({
      tickets: book, replay: { firstUse: (key, ttlMs) => replay.firstUse(key, ttlMs) },
      revocations: createMemoryRevocations({ maxAgeMs: TTL + SKEW }), publicOrigin: ORIGIN,
      maxAgeMs: 60_000, clockSkewMs: SKEW, maxProofBytes: 8192, now: Date.now,
    }),
    async valid() {
      const { ticket, proof } = ticketAndProof()
      return { credentials: { authorization: `DomainPoP-Session ${ticket}`, fields: new Map([['domainpop-proof', proof]]) }, view }
    },
    hostile: fc.record({
      ticket: fc.oneof(jweLike, fc.string({ maxLength: 3000 }), fc.constant(sample.ticket), fc.constant(sample.ticket.slice(0, -5))),
      proof: fc.option(fc.oneof(jweLike, fc.string({ maxLength: 200 }), fc.constant(sample.proof)), { nil: undefined }),
      word: fc.constantFrom('DomainPoP-Session', 'domainpop-session', 'Bearer', 'DomainPoP'),
    }).map(({ ticket, proof, word }) => ({ authorization: `${word} ${ticket}`, fields: proof === undefined ? undefined : new Map([['domainpop-proof', proof]]) })),
    codes: TICKET_CODES,
    rule: RULE,
  })
}

{
  const jar = createCookieJar([{ id: 'c1', key: randomBytes(32) }], { ttlMs: TTL, clockSkewMs: SKEW })
  const nowMs = Date.now()
  const value = jar.mint({ identity: ALICE, jkt: KID, method: 'domainpop' }, nowMs)
  const view = fakeView({ method: 'GET', path: '/foo', nowMs, headers: { cookie: `${NAME}=${value}` } })
  schemeContract(t, {
    namespace: 'cookie',
    possession: 'bearer-session',
    create: () => createCookieScheme({ jar, name: NAME, revocations: createMemoryRevocations({ maxAgeMs: TTL + SKEW }), allowedOrigins: new Set([ORIGIN]) }),
    async valid() {
      return { credentials: { authorization: undefined, fields: undefined, cookie: value }, view }
    },
    hostile: fc.oneof(jweLike, fc.string({ maxLength: 5000 }), fc.constant(value.slice(0, -4)), fc.constant(value.replace(/\.(.)/, '.A')))
      .map((cookie) => ({ authorization: undefined, fields: undefined, cookie })),
    codes: COOKIE_CODES,
    rule: RULE,
  })
}
