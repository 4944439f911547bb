// The session key (PROTOCOL.md §4): both sides derive the same SK, and it is
// exactly HKDF-SHA256(Z, salt = nonce, info = "domainpop session v1|aud|kid"),
// checked against WebCrypto (ECDH deriveBits + HKDF) as an independent oracle.
// Bad `epk` values are refused with a reason.

import t from 'tap'
import { webcrypto } from 'node:crypto'
import { deriveSessionKey, generateEphemeral, importEpk, type SessionCurve } from '../../../src/proofs/session-key.js'

const subtle = webcrypto.subtle
const NONCE = 'AQJuMWFiY2RlZmdoaWprbA'
const AUD = 'https://bob.example'
const KID = 'NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs'

/** SK the way a browser would compute it: WebCrypto only. */
async function webcryptoSk(curve: SessionCurve, priv: import('node:crypto').KeyObject, peerJwk: object): Promise<Buffer> {
  const alg = curve === 'X25519' ? { name: 'X25519' } : { name: 'ECDH', namedCurve: 'P-256' }
  const privKey = await subtle.importKey('jwk', priv.export({ format: 'jwk' }) as webcrypto.JsonWebKey, alg, false, ['deriveBits'])
  const pubKey = await subtle.importKey('jwk', peerJwk as webcrypto.JsonWebKey, alg, false, [])
  const z = await subtle.deriveBits({ name: alg.name, public: pubKey } as webcrypto.EcdhKeyDeriveParams, privKey, 256)
  const ikm = await subtle.importKey('raw', z, 'HKDF', false, ['deriveBits'])
  const bits = await subtle.deriveBits({ name: 'HKDF', hash: 'SHA-256', salt: new TextEncoder().encode(NONCE), info: new TextEncoder().encode(`domainpop session v1|${AUD}|${KID}`) }, ikm, 256)
  return Buffer.from(bits)
}

for (const curve of ['P-256', 'X25519'] as const) {
  t.test(`${curve}: both sides derive one key, equal to the WebCrypto computation`, async (t) => {
    const client = generateEphemeral(curve)
    const gateway = generateEphemeral(curve)
    const c = importEpk(client.jwk), g = importEpk(gateway.jwk)
    if (typeof c === 'string' || typeof g === 'string') return t.fail('own keys import')
    const skGateway = deriveSessionKey({ privateKey: gateway.privateKey, peerPublicKey: c.key, nonce: NONCE, aud: AUD, kid: KID })
    const skClient = deriveSessionKey({ privateKey: client.privateKey, peerPublicKey: g.key, nonce: NONCE, aud: AUD, kid: KID })
    t.equal(skGateway.length, 32)
    t.same(skGateway, skClient, 'both sides agree')
    t.same(skGateway, await webcryptoSk(curve, client.privateKey, gateway.jwk), 'HKDF inputs exactly as PROTOCOL.md §4')
    // Every input matters: another nonce, aud or kid gives another key.
    for (const change of [{ nonce: 'x' }, { aud: 'https://eve.example' }, { kid: KID.replace('N', 'M') }]) {
      const other = deriveSessionKey({ privateKey: gateway.privateKey, peerPublicKey: c.key, nonce: NONCE, aud: AUD, kid: KID, ...change })
      t.not(other.toString('hex'), skGateway.toString('hex'), `changed ${Object.keys(change)[0]}`)
    }
  })
}

t.test('importEpk refuses what is not a public P-256 or X25519 key', async (t) => {
  const p256 = generateEphemeral('P-256').jwk as Record<string, string>
  const x = generateEphemeral('X25519').jwk as Record<string, string>
  const bad: [string, unknown][] = [
    ['not an object', 'epk'], ['null', null], ['array', [p256]],
    ['private member', { ...p256, d: p256.x }],
    ['P-384', { ...p256, crv: 'P-384' }], ['Ed25519 (a signing curve)', { ...x, crv: 'Ed25519' }],
    ['RSA', { kty: 'RSA', n: 'AQAB', e: 'AQAB' }], ['kty/crv mix', { ...x, kty: 'EC' }],
    ['short x', { ...p256, x: p256.x!.slice(1) }], ['missing y', { kty: 'EC', crv: 'P-256', x: p256.x }],
    ['padding', { ...p256, x: p256.x!.slice(0, 42) + '=' }],
    ['not on the curve', { ...p256, y: p256.x }],
  ]
  for (const [what, epk] of bad) t.type(importEpk(epk), 'string', what)
  t.type(importEpk({ ...p256, use: 'enc', kid: 'x' }), 'object', 'extra public members are ignored, not copied')
  const imported = importEpk({ ...p256, use: 'enc' })
  if (typeof imported !== 'string') t.same(Object.keys(imported.jwk).sort(), ['crv', 'kty', 'x', 'y'])
})

t.test('an X25519 small-order point gives no key (RFC 7748 §6.1 all-zero check)', async (t) => {
  const zero = importEpk({ kty: 'OKP', crv: 'X25519', x: Buffer.alloc(32).toString('base64url') })
  if (typeof zero === 'string') return t.pass('refused at import')
  t.throws(() => deriveSessionKey({ privateKey: generateEphemeral('X25519').privateKey, peerPublicKey: zero.key, nonce: NONCE, aud: AUD, kid: KID }))
})

t.test('curves must match', async (t) => {
  const p = importEpk(generateEphemeral('P-256').jwk)
  if (typeof p === 'string') return t.fail()
  t.throws(() => deriveSessionKey({ privateKey: generateEphemeral('X25519').privateKey, peerPublicKey: p.key, nonce: NONCE, aud: AUD, kid: KID }))
})
