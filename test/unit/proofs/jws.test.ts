// Compact JWS splitting (RFC 7515 §7.1) for proofs: every malformed shape is
// a GatewayError, and nothing else ever leaves the function.

import t from 'tap'
import fc from 'fast-check'
import { splitCompactJws } from '../../../src/proofs/jws.js'
import { GatewayError } from '../../../src/errors.js'

const MAX = 8192
const b64 = (v: unknown) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url')
const H = b64({ typ: 'domainpop+jwt', alg: 'ES256' })
const P = b64({ iss: 'alice.example', jti: 'x' })
const S = Buffer.from([1, 2, 3, 250, 251, 252]).toString('base64url')

/** The code of the GatewayError thrown, 'ok', or a description of anything else thrown. */
function outcome(token: string, max = MAX): string {
  try {
    splitCompactJws(token, max)
    return 'ok'
  } catch (err) {
    return err instanceof GatewayError ? err.code : `raw ${String(err)}`
  }
}

t.test('happy path', async (t) => {
  const jws = splitCompactJws(`${H}.${P}.${S}`, MAX)
  t.same(jws.header, { typ: 'domainpop+jwt', alg: 'ES256' })
  t.same(jws.payload, { iss: 'alice.example', jti: 'x' })
  t.equal(jws.signingInput, `${H}.${P}`)
  t.same([...jws.signature], [1, 2, 3, 250, 251, 252])
  t.equal(outcome(`${H}.${P}.${S}`, H.length + P.length + S.length + 2), 'ok', 'exactly maxBytes is allowed')
})

t.test('every malformed shape → malformed_proof', async (t) => {
  const shapes: Record<string, string> = {
    empty: '',
    'one segment': H,
    'two segments': `${H}.${P}`,
    'four segments': `${H}.${P}.${S}.${S}`,
    'five segments (JWE)': `${H}.${P}.${S}.${S}.${S}`,
    'empty header': `.${P}.${S}`,
    'empty payload': `${H}..${S}`,
    'empty signature': `${H}.${P}.`,
    'only dots': '..',
    'trailing dot': `${H}.${P}.${S}.`,
    'padding in header': `${H}=.${P}.${S}`,
    'padding in signature': `${H}.${P}.${S}==`,
    'base64 "+" and "/"': `${H}.${P}.ab+/cd`,
    'whitespace inside': `${H}.${P} .${S}`,
    'leading whitespace': ` ${H}.${P}.${S}`,
    'newline': `${H}.${P}.${S}\n`,
    'non-ASCII': `${H}.${P}.${S}é`,
    'JSON serialization': JSON.stringify({ protected: H, payload: P, signature: S }),
    'header not JSON': `${b64('not json')}.${P}.${S}`,
    'payload not JSON': `${H}.${b64('{"a":')}.${S}`,
    'header a JSON array': `${b64([1, 2])}.${P}.${S}`,
    'header JSON null': `${b64('null')}.${P}.${S}`,
    'header a JSON string': `${b64('"x"')}.${P}.${S}`,
    'payload a JSON number': `${H}.${b64('42')}.${S}`,
    'payload JSON true': `${H}.${b64('true')}.${S}`,
    'impossible base64url length (1 mod 4)': `a.${P}.${S}`,
    'invalid UTF-8 in header': `${Buffer.from([0x7b, 0xff, 0xfe, 0x7d]).toString('base64url')}.${P}.${S}`,
    'header with trailing garbage': `${b64('{"a":1} x')}.${P}.${S}`,
  }
  for (const [name, token] of Object.entries(shapes)) t.equal(outcome(token), 'malformed_proof', name)
})

t.test('larger than maxBytes → proof_too_large, checked first', async (t) => {
  const token = `${H}.${P}.${S}`
  t.equal(outcome(token, token.length - 1), 'proof_too_large')
  t.equal(outcome('x'.repeat(MAX + 1)), 'proof_too_large', 'before any parsing')
})

t.test('error details never echo the token', async (t) => {
  const secretish = `${b64('{"secret-marker": 1')}.${P}.${S}`
  try { splitCompactJws(secretish, MAX); t.fail('should throw') } catch (err) {
    t.type(err, GatewayError)
    t.notMatch((err as GatewayError).detail, 'secret-marker')
    t.notMatch((err as GatewayError).detail, secretish.slice(0, 12))
  }
})

t.test('property: for arbitrary strings only GatewayError is thrown', async (t) => {
  const anyString = fc.oneof(fc.string({ maxLength: 200 }), fc.string({ unit: 'binary', maxLength: 200 }), fc.string({ unit: fc.constantFrom('a', 'Z', '0', '-', '_', '.', '=', '+', '/'), maxLength: 60 }))
  fc.assert(fc.property(anyString, fc.integer({ min: 0, max: 300 }), (s, max) => {
    const o = outcome(s, max)
    return o === 'ok' || o === 'malformed_proof' || o === 'proof_too_large'
  }), { numRuns: 2000 })
  // Three base64url segments of arbitrary JSON (and non-JSON) values: exercise the decode path, not just the shape check.
  const segment = fc.oneof(fc.jsonValue().map((v) => b64(JSON.stringify(v) ?? 'null')), fc.string({ unit: 'binary', minLength: 1, maxLength: 40 }).map((s) => b64(s)))
  fc.assert(fc.property(segment, segment, segment, (h, p, s) => {
    const o = outcome(`${h}.${p}.${s}`)
    if (o === 'ok') {
      const jws = splitCompactJws(`${h}.${p}.${s}`, MAX)
      return typeof jws.header === 'object' && !Array.isArray(jws.header) && typeof jws.payload === 'object' && !Array.isArray(jws.payload)
    }
    return o === 'malformed_proof' || o === 'proof_too_large'
  }), { numRuns: 2000 })
  t.pass('no raw exception in 4000 runs')
})

t.test('deeply nested JSON is still a GatewayError (no stack overflow escapes)', async (t) => {
  const deep = '['.repeat(200_000) + ']'.repeat(200_000)
  t.equal(outcome(`${H}.${b64(deep)}.${S}`, 2_000_000), 'malformed_proof')
})

t.test('a header segment seen before: the same deep-frozen object, decoded once; payloads never shared', async (t) => {
  const h = b64({ typ: 'dpop+jwt', alg: 'ES256', jwk: { kty: 'EC', crv: 'P-256', x: 'x', y: 'y' } })
  const a = splitCompactJws(`${h}.${b64({ jti: '1' })}.${S}`, MAX)
  const b = splitCompactJws(`${h}.${b64({ jti: '2' })}.${S}`, MAX)
  t.equal(a.header, b.header, 'one object for one segment')
  t.ok(Object.isFrozen(a.header) && Object.isFrozen(a.header.jwk), 'frozen, nested members too')
  t.throws(() => { (a.header as Record<string, unknown>).alg = 'none' }, TypeError, 'a caller cannot change what the next request reads')
  t.equal(b.header.alg, 'ES256')
  t.not(a.payload, b.payload)
  t.equal(b.payload.jti, '2')
  const other = splitCompactJws(`${b64({ typ: 'dpop+jwt', alg: 'ES384' })}.${b64({})}.${S}`, MAX)
  t.equal(other.header.alg, 'ES384', 'another segment, another header')
  t.throws(() => splitCompactJws(`${b64([1])}.${b64({})}.${S}`, MAX), { code: 'malformed_proof' }, 'a bad header is refused every time, never remembered')
  t.throws(() => splitCompactJws(`${b64([1])}.${b64({})}.${S}`, MAX), { code: 'malformed_proof' })
})
