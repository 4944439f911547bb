// keys/thumbprint.ts against jose's calculateJwkThumbprint (RFC 7638) for every
// key type the gateway takes, and RFC 7638 §3.1's own example.

import t from 'tap'
import { createPublicKey, generateKeyPairSync } from 'node:crypto'
import { calculateJwkThumbprint, type JWK } from 'jose'
import { jwkThumbprint } from '../../../src/keys/thumbprint.js'

t.test('equals jose for EC P-256, P-384, Ed25519 and RSA keys', async (t) => {
  const pairs = [
    generateKeyPairSync('ec', { namedCurve: 'P-256' }), generateKeyPairSync('ec', { namedCurve: 'P-384' }),
    generateKeyPairSync('ed25519'), generateKeyPairSync('rsa', { modulusLength: 2048 }),
  ]
  for (const { publicKey } of pairs) {
    t.equal(jwkThumbprint(publicKey), await calculateJwkThumbprint(publicKey.export({ format: 'jwk' }) as JWK, 'sha256'), publicKey.asymmetricKeyType!)
  }
})

t.test('RFC 7638 §3.1 example', async (t) => {
  const n = '0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw'
  const key = createPublicKey({ key: { kty: 'RSA', n, e: 'AQAB' }, format: 'jwk' })
  t.equal(jwkThumbprint(key), 'NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs')
})
