// readPublicJwk (proofs/public-jwk.ts): a DPoP proof's `jwk` and a token's
// `cnf.jwk` go through the one importer (keys/document.ts importPublicKey),
// so they are bounded exactly like key documents (issue 19): RSA 2048–8192
// bits and e = 65537, refused from the members before anything is imported.

import t from 'tap'
import { generateKeyPairSync, randomBytes } from 'node:crypto'
import { calculateJwkThumbprint, type JWK } from 'jose'
import { readPublicJwk } from '../../../src/proofs/public-jwk.js'
import { importPublicKey } from '../../../src/keys/index.js'

const rsa = (bits: number) => generateKeyPairSync('rsa', { modulusLength: bits }).publicKey.export({ format: 'jwk' }) as { kty: string; n: string; e: string }
const odd = (bits: number) => { const b = randomBytes(bits / 8); b[0]! |= 0x80; b[b.length - 1]! |= 1; return b.toString('base64url') }
const reason = (v: unknown) => { const r = readPublicJwk(v); return typeof r === 'string' ? r : 'ok' }

t.test('RSA proof and cnf keys: 2048–8192 bits, e = 65537, as for key documents', async (t) => {
  const k2048 = rsa(2048)
  const ok = readPublicJwk(k2048)
  t.equal(typeof ok === 'string' ? ok : ok.thumbprint, await calculateJwkThumbprint(k2048 as JWK, 'sha256'), 'a 2048-bit key with e = 65537 is read, thumbprint per RFC 7638')
  t.equal(reason(rsa(1024)), 'jwk refused: an RSA key is shorter than 2048 bits')
  t.equal(reason({ ...k2048, e: odd(3064) }), 'jwk refused: an RSA key has a public exponent other than 65537', 'a 3064-bit exponent')
  t.equal(reason({ ...k2048, e: 'AQAD' }), 'jwk refused: an RSA key has a public exponent other than 65537', 'e = 65539')
  t.equal(reason({ ...k2048, e: 'AAEAAQ' }), 'jwk refused: an RSA key has a public exponent other than 65537', '65537 with a leading zero octet (RFC 7518 §6.3.1.2: minimal octets)')
  t.equal(reason({ kty: 'RSA', n: odd(8200), e: 'AQAB' }), 'jwk refused: an RSA key is longer than 8192 bits', 'an 8192+-bit modulus')
  t.equal(reason({ kty: 'RSA', n: odd(8192), e: 'AQAB' }), 'ok', 'exactly 8192 bits is within the bound (an odd modulus imports; nothing here needs its factors)')
  t.equal(reason({ kty: 'RSA', n: odd(16_384), e: 'AQAB' }), 'jwk n is too long', 'a 16,384-bit modulus never reaches the importer')
})

t.test('the refusal comes from the members, before OpenSSL sees the key', async (t) => {
  // A modulus that does not import at all: if the bounds were checked after
  // createPublicKey, these would say "does not import" instead.
  const junk = 'A'.repeat(400)
  t.equal(importPublicKey({ kty: 'RSA', n: junk, e: odd(3064) }), 'an RSA key has a public exponent other than 65537')
  t.equal(importPublicKey({ kty: 'RSA', n: 'A'.repeat(100), e: 'AQAB' }), 'an RSA key is shorter than 2048 bits')
  t.equal(importPublicKey({ kty: 'RSA', n: 'A'.repeat(1367), e: 'AQAB' }), 'an RSA key is longer than 8192 bits')
})

t.test('EC and OKP keys, private members and shapes: as before', async (t) => {
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ format: 'jwk' })
  t.equal(reason(ec), 'ok')
  t.equal(reason(generateKeyPairSync('ed25519').publicKey.export({ format: 'jwk' })), 'ok')
  t.equal(reason(generateKeyPairSync('ec', { namedCurve: 'secp256k1' }).publicKey.export({ format: 'jwk' })), 'jwk refused: EC curve secp256k1 is not supported')
  t.equal(reason({ ...ec, d: 'AAAA' }), 'jwk must not contain private key members')
  t.equal(reason([ec]), 'jwk must be a JSON object')
  t.equal(reason({ ...ec, x: 'not base64url!' }), 'jwk does not import as a public key')
  t.equal(reason({ kty: 'oct', k: 'AAAA' }), 'jwk must not contain private key members')
  t.equal(reason({ kty: 'oct' }), 'jwk refused: key type oct is not supported')
})
