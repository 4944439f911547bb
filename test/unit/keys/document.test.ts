import t from 'tap'
import { generateKeyPairSync } from 'node:crypto'
import { calculateJwkThumbprint, type JWK } from 'jose'
import { parseKeyDocument, MAX_KEYS_PER_DOCUMENT, PRIVATE_MEMBERS } from '../../../src/keys/document.js'
import { GatewayError } from '../../../src/errors.js'

const ecKey = (namedCurve = 'P-256'): { pub: JWK; priv: JWK } => {
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve })
  return { pub: publicKey.export({ format: 'jwk' }) as JWK, priv: privateKey.export({ format: 'jwk' }) as JWK }
}
const edKey = (): JWK => generateKeyPairSync('ed25519').publicKey.export({ format: 'jwk' }) as JWK
const rsaKey = (bits: number): { pub: JWK; priv: JWK } => {
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: bits })
  return { pub: publicKey.export({ format: 'jwk' }) as JWK, priv: privateKey.export({ format: 'jwk' }) as JWK }
}
const doc = (...keys: unknown[]): string => JSON.stringify({ keys })

/** "key_document_invalid: <detail>" for a refused document, "accepted" otherwise. */
async function outcome(body: string | Uint8Array): Promise<string> {
  try {
    await parseKeyDocument(body)
    return 'accepted'
  } catch (err) {
    return err instanceof GatewayError ? `${err.code}: ${err.detail}` : `not a GatewayError: ${String(err)}`
  }
}

// RFC 7638 §3.1 example key and its thumbprint.
const RFC7638_RSA = {
  kty: 'RSA',
  n: '0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw',
  e: 'AQAB',
  alg: 'RS256',
  kid: '2011-04-29',
}
const RFC7638_THUMBPRINT = 'NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs'

/** The members a key holds a value for (every stored key has the same shape; absent ones are undefined). */
const present = (k: object): string[] => Object.entries(k).filter(([, v]) => v !== undefined).map(([name]) => name).sort()

t.test('a JWK Set yields its keys, kid = RFC 7638 thumbprint', async (t) => {
  const a = ecKey()
  const b = ecKey('P-384')
  const c = edKey()
  const d = rsaKey(2048)
  const keys = await parseKeyDocument(doc({ ...a.pub, use: 'sig' }, b.pub, c, d.pub))
  t.equal(keys.length, 4)
  t.same(keys.map((k) => k.kid), await Promise.all([a.pub, b.pub, c, d.pub].map((j) => calculateJwkThumbprint(j, 'sha256'))))
  t.same(keys.map((k) => [k.kty, k.crv]), [['EC', 'P-256'], ['EC', 'P-384'], ['OKP', 'Ed25519'], ['RSA', undefined]])
  t.equal(keys[0]!.keyObject.type, 'public')
  t.same(present(keys[0]!), ['crv', 'keyObject', 'kid', 'kty', 'x', 'y'], 'only what verification needs is kept')
  t.same([keys[0]!.x, keys[0]!.y], [a.pub.x, a.pub.y], 'the public members')
  t.same(present(keys[2]!), ['crv', 'keyObject', 'kid', 'kty', 'x'], 'OKP: x only')
  t.ok(Object.isFrozen(keys[0]), 'resolved keys are immutable')
})

t.test('the RFC 7638 §3.1 example gives the RFC thumbprint; the document kid is ignored', async (t) => {
  const [key] = await parseKeyDocument(JSON.stringify(RFC7638_RSA))
  t.equal(key!.kid, RFC7638_THUMBPRINT)
  t.equal(key!.alg, 'RS256')
  t.same(present(key!), ['alg', 'e', 'keyObject', 'kid', 'kty', 'n'], 'no document kid or other member carried')
  t.same([key!.n, key!.e], [RFC7638_RSA.n, RFC7638_RSA.e])
  t.same(key!.keyObject.export({ format: 'jwk' }), { kty: 'RSA', n: RFC7638_RSA.n, e: RFC7638_RSA.e }, 'public members only')
})

t.test('a single JWK object is accepted', async (t) => {
  const a = ecKey()
  const keys = await parseKeyDocument(Buffer.from(JSON.stringify(a.pub)))
  t.equal(keys.length, 1)
  t.equal(keys[0]!.kid, await calculateJwkThumbprint(a.pub, 'sha256'))
})

t.test('any private member rejects the whole document', async (t) => {
  const good = ecKey().pub
  for (const m of PRIVATE_MEMBERS) {
    t.equal(await outcome(doc(good, { ...ecKey().pub, [m]: 'AAAA' })), `key_document_invalid: key document contains a private key member (${m}); the whole document is refused`, `member ${m} on a second key`)
    t.match(await outcome(JSON.stringify({ ...good, [m]: 'AAAA' })), /^key_document_invalid: .*private key member/, `member ${m} on a single JWK`)
  }
  t.match(await outcome(doc(good, ecKey().priv)), /^key_document_invalid: .*private key member \(d\)/, 'a real EC private key')
  t.match(await outcome(doc(good, rsaKey(2048).priv)), /^key_document_invalid: .*private key member/, 'a real RSA private key')
  t.match(await outcome(doc(good, { kty: 'oct', k: 'c2VjcmV0' })), /^key_document_invalid: .*private key member \(k\)/, 'a symmetric key, even though oct is unsupported')
  t.match(await outcome(doc(good, { kty: 'whatever', d: 'x' })), /^key_document_invalid: .*private key member/, 'on an unknown key type')
})

t.test('unsupported keys are skipped, not fatal', async (t) => {
  const good = ecKey().pub
  const skipped = [
    { kty: 'EC', crv: 'P-521', x: 'AA', y: 'AA' },
    { kty: 'EC', crv: 'secp256k1', x: 'AA', y: 'AA' },
    { kty: 'OKP', crv: 'X25519', x: 'AA' },
    { kty: 'OKP', crv: 'Ed448', x: 'AA' },
    { kty: 'XYZ' },
    { n: 'no-kty' },
    { ...ecKey().pub, use: 'enc' },
    { ...ecKey().pub, key_ops: ['encrypt'] },
    { ...ecKey().pub, key_ops: 'verify' },
    rsaKey(1024).pub,
  ]
  const keys = await parseKeyDocument(doc(...skipped, good))
  t.equal(keys.length, 1)
  t.equal(keys[0]!.kid, await calculateJwkThumbprint(good, 'sha256'))
  const withOps = await parseKeyDocument(doc({ ...good, key_ops: ['verify'] }))
  t.equal(withOps.length, 1, 'key_ops containing verify is fine')
})

t.test('a document with nothing usable is invalid, and says why', async (t) => {
  t.match(await outcome(doc({ kty: 'XYZ' })), /^key_document_invalid: .*no usable signing key.*XYZ/, 'unknown kty only')
  t.match(await outcome(doc(rsaKey(1024).pub)), /^key_document_invalid: .*shorter than 2048/, 'weak RSA only')
  t.match(await outcome(doc({ ...ecKey().pub, use: 'enc' })), /^key_document_invalid: .*use other than sig/, 'encryption key only')
})

t.test('malformed documents', async (t) => {
  t.match(await outcome('{"keys":'), /^key_document_invalid: .*not valid JSON/, 'truncated JSON')
  t.match(await outcome(''), /^key_document_invalid: .*not valid JSON/, 'empty body')
  t.match(await outcome('[]'), /^key_document_invalid: .*JSON object/, 'an array')
  t.match(await outcome('null'), /^key_document_invalid: .*JSON object/, 'null')
  t.match(await outcome('"keys"'), /^key_document_invalid: .*JSON object/, 'a string')
  t.match(await outcome('{"keys":{}}'), /^key_document_invalid: .*must be an array/, 'keys not an array')
  t.match(await outcome('{"keys":[]}'), /^key_document_invalid: .*has no keys/, 'no keys')
  t.match(await outcome('{"keys":[1]}'), /^key_document_invalid: .*only JWK objects/, 'a non-object key')
  t.match(await outcome('{"keys":[null]}'), /^key_document_invalid: .*only JWK objects/, 'a null key')
  t.match(await outcome('{"foo":1}'), /^key_document_invalid: .*JWK Set or a single JWK/, 'neither set nor key')
  t.match(await outcome(Buffer.from([0x7b, 0xff, 0xfe, 0x7d])), /^key_document_invalid: .*not UTF-8/, 'invalid UTF-8')
  t.match(await outcome(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(doc(ecKey().pub))])), /^key_document_invalid: .*not valid JSON/, 'a BOM (RFC 8259 §8.1)')
})

t.test('a malformed key of a usable type breaks the document', async (t) => {
  const { pub } = ecKey()
  const other = ecKey().pub
  t.match(await outcome(doc({ ...pub, y: other.y })), /^key_document_invalid: .*does not import/, 'EC point not on the curve')
  t.match(await outcome(doc({ ...pub, x: 'not base64url!' })), /^key_document_invalid: .*not base64url/, 'x not base64url')
  t.match(await outcome(doc({ kty: 'EC', crv: 'P-256', x: pub.x })), /^key_document_invalid: .*y is not base64url/, 'y missing')
  t.match(await outcome(doc({ kty: 'RSA', n: 'AQAB' })), /^key_document_invalid: .*e is not base64url/, 'RSA without e')
  t.match(await outcome(doc({ ...pub, alg: 7 })), /^key_document_invalid: .*alg is not a string/, 'alg not a string')
})

t.test('at most MAX_KEYS_PER_DOCUMENT keys', async (t) => {
  const many = Array.from({ length: MAX_KEYS_PER_DOCUMENT }, () => edKey())
  t.equal((await parseKeyDocument(doc(...many))).length, MAX_KEYS_PER_DOCUMENT)
  t.match(await outcome(doc(...many, edKey())), /^key_document_invalid: .*more than 32 keys/, 'one too many')
})

t.test('the kid does not depend on how the document encodes the key', async (t) => {
  const { pub } = ecKey()
  const decorated = { alg: 'ES256', kid: 'my-own-kid', use: 'sig', ext: true, x5u: 'https://x', ...pub }
  const [a] = await parseKeyDocument(doc(pub))
  const [b] = await parseKeyDocument(doc(decorated))
  t.equal(a!.kid, b!.kid)
  t.same(present(b!), ['alg', 'crv', 'keyObject', 'kid', 'kty', 'x', 'y'], 'unknown members are not carried')
  t.equal(b!.alg, 'ES256')
  const dup = await parseKeyDocument(doc(pub, decorated))
  t.equal(dup.length, 1, 'duplicates collapse to one key')
})

t.test('an RSA key with a public exponent other than 65537 is skipped (verify-cost amplification)', async (t) => {
  const { publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048, publicExponent: 3 })
  const jwk = publicKey.export({ format: 'jwk' }) as JWK
  t.match(await outcome(doc(jwk)), /^key_document_invalid: .*public exponent other than 65537/)
  t.equal(await outcome(doc(jwk, edKey())), 'accepted', 'the other key of the document is still used')
})

t.test('pins: a key the owner\'s pins do not list is skipped before it is imported', async (t) => {
  const { parseKeyDocument } = await import('../../../src/keys/document.js')
  const { generateKeyPairSync } = await import('node:crypto')
  const { jwkThumbprint } = await import('../../../src/keys/thumbprint.js')
  const pair = generateKeyPairSync('ec', { namedCurve: 'P-256' })
  const good = pair.publicKey.export({ format: 'jwk' })
  const pinned = jwkThumbprint(pair.publicKey)
  // Not a point on the curve: importing it throws (key_document_invalid), so skipping it proves it was never imported.
  const poison = { kty: 'EC', crv: 'P-256', x: good.x, y: Buffer.alloc(32, 7).toString('base64url') }
  await t.rejects(parseKeyDocument(JSON.stringify({ keys: [good, poison] })), { code: 'key_document_invalid' }, 'imported when not pinned')
  const keys = await parseKeyDocument(JSON.stringify({ keys: [good, poison] }), new Set([pinned]))
  t.same(keys.map((k) => k.kid), [pinned], 'only the pinned key, the other never imported')
  t.same(await parseKeyDocument(JSON.stringify({ keys: [poison] }), new Set([pinned])), [], 'only unpinned keys: an empty list, not a broken document')
})
