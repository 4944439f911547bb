// Channel binding (PROTOCOL.md §5, RFC 9266 tls-exporter), the pure part:
// checkChannelBinding compares a proof's `cb` with the connection's exporter
// value; requireChannelBinding is a rule's `channelBinding: required`. The
// exporter here is any 32 bytes: where it comes from is http/channel.ts's
// business (test/unit/http/channel.test.ts).

import t from 'tap'
import { randomBytes } from 'node:crypto'
import { checkChannelBinding, requireChannelBinding } from '../../../src/proofs/channel-binding.js'
import { GatewayError } from '../../../src/errors.js'

const EXPORTER = randomBytes(32)
const CB = EXPORTER.toString('base64url')

/** true/false as returned, the GatewayError code, or a description of anything else thrown. */
function outcome(f: () => unknown): string {
  try {
    return String(f())
  } catch (err) {
    return err instanceof GatewayError ? err.code : `raw ${String(err)}`
  }
}
const check = (cb: unknown, exporter: Buffer | undefined) => outcome(() => checkChannelBinding(cb, exporter))
const require_ = (bound: boolean, exporter: Buffer | undefined) => outcome(() => requireChannelBinding(bound, exporter))

t.test('no cb: not channel-bound, whatever the connection', async (t) => {
  t.equal(check(undefined, EXPORTER), 'false')
  t.equal(check(undefined, undefined), 'false', 'plain HTTP or TLS 1.2 without cb is fine')
})

t.test('the connection\'s own value: channel-bound', async (t) => {
  t.equal(CB.length, 43)
  t.equal(check(CB, EXPORTER), 'true')
})

t.test('a cb on a connection that cannot carry one → channel_binding_unavailable, whatever the cb', async (t) => {
  for (const cb of [CB, 'x', '', null, 1, [CB]]) t.equal(check(cb, undefined), 'channel_binding_unavailable', JSON.stringify(cb))
})

t.test('any other cb → channel_binding_mismatch', async (t) => {
  const flipped = Buffer.from(EXPORTER)
  flipped[0]! ^= 1
  const other = randomBytes(32)
  const cases: Record<string, unknown> = {
    'another connection': other.toString('base64url'),
    'one bit flipped': flipped.toString('base64url'),
    'standard base64 with padding': EXPORTER.toString('base64'),
    'padded base64url': CB + '=',
    'one character short': CB.slice(0, 42),
    'one character long': CB + 'A',
    'the exporter in hex': EXPORTER.toString('hex'),
    'a space inside': CB.slice(0, 20) + ' ' + CB.slice(21),
    empty: '',
    null: null,
    number: 1,
    array: [CB],
    'an object with toString': { toString: () => CB },
  }
  for (const [name, cb] of Object.entries(cases)) t.equal(check(cb, EXPORTER), 'channel_binding_mismatch', name)
  // 16 bytes = 22 characters: a shorter exporter-like value must not reach timingSafeEqual with a length mismatch.
  t.equal(check(randomBytes(16).toString('base64url'), EXPORTER), 'channel_binding_mismatch', 'a 16-byte value')
})

t.test('requireChannelBinding: a bound principal passes; otherwise unavailable or mismatch by connection', async (t) => {
  t.equal(require_(true, EXPORTER), 'undefined')
  t.equal(require_(true, undefined), 'undefined')
  t.equal(require_(false, undefined), 'channel_binding_unavailable', 'this connection could never be bound')
  t.equal(require_(false, EXPORTER), 'channel_binding_mismatch', 'it could have been: the proof lacks cb')
})

t.test('status and WWW-Authenticate error of each failure', async (t) => {
  const caught = (f: () => unknown): GatewayError => {
    try { f() } catch (err) { return err as GatewayError }
    throw new Error('did not throw')
  }
  const unavailable = caught(() => checkChannelBinding(CB, undefined))
  t.match(unavailable, { code: 'channel_binding_unavailable', status: 401, authError: 'invalid_request' })
  const mismatch = caught(() => checkChannelBinding(randomBytes(32).toString('base64url'), EXPORTER))
  t.match(mismatch, { code: 'channel_binding_mismatch', status: 401, authError: 'invalid_proof' })
  t.notMatch(mismatch.detail, CB, 'the detail does not echo a value')
})
