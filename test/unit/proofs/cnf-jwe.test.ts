// RFC 7800 §3.3 cnf.jwe on node:crypto (src/proofs/cnf-jwe.ts), with jose as
// the oracle both ways: a JWE jose makes opens here, a JWE made here opens in
// jose. Then every wrong one refused with its documented code: another
// alg/enc, a bad tag, a key the gateway no longer holds, a plaintext that is
// not a 256-bit oct JWK, a header with members we do not take.

import t from 'tap'
import { createCipheriv, createDecipheriv, createPublicKey, diffieHellman, randomBytes } from 'node:crypto'
import { CompactEncrypt, compactDecrypt, importJWK } from 'jose'
import { GatewayError } from '../../../src/errors.js'
import { openCnfJwe, sealCnfJwe, splitCnfJwe, concatKdf } from '../../../src/proofs/cnf-jwe.js'
import { generateEncryptionKey } from '../../../src/secrets/encryption-keys.js'

const GW = generateEncryptionKey('e1')
const OTHER = generateEncryptionKey('e0')
const SK = randomBytes(32)
const CLAIMS = { iss: 'https://alice.test', jti: 'j-1' }
const code = (fn: () => unknown): string | undefined => {
  try { fn() } catch (e) { return e instanceof GatewayError ? e.code : `not a GatewayError: ${String(e)}` }
  return undefined
}
const open = (jwe: string, keys = [GW]) => openCnfJwe(splitCnfJwe(jwe), keys)

async function joseJwe(plaintext: object, header: Record<string, unknown> = {}, to = GW): Promise<string> {
  const pub = await importJWK(to.publicJwk as never, 'ECDH-ES+A256KW')
  return new CompactEncrypt(new TextEncoder().encode(JSON.stringify(plaintext)))
    .setProtectedHeader({ alg: 'ECDH-ES+A256KW', enc: 'A256GCM', kid: to.kid, ...CLAIMS, ...header })
    .encrypt(pub)
}

t.test('jose → here: a JWE jose makes opens, with the key and the replicated claims', async (t) => {
  const jwe = await joseJwe({ kty: 'oct', k: SK.toString('base64url') })
  const opened = open(jwe)
  t.same(opened.key, SK)
  t.equal(opened.iss, CLAIMS.iss)
  t.equal(opened.jti, CLAIMS.jti)
})

t.test('jose → here with apu/apv: the Concat KDF takes them (RFC 7518 §4.6.2)', async (t) => {
  const pub = await importJWK(GW.publicJwk as never, 'ECDH-ES+A256KW')
  const jwe = await new CompactEncrypt(new TextEncoder().encode(JSON.stringify({ kty: 'oct', k: SK.toString('base64url') })))
    .setProtectedHeader({ alg: 'ECDH-ES+A256KW', enc: 'A256GCM', kid: GW.kid, ...CLAIMS })
    .setKeyManagementParameters({ apu: Buffer.from('alice'), apv: Buffer.from('gateway') })
    .encrypt(pub)
  t.same(open(jwe).key, SK)
  t.equal(concatKdf(Buffer.alloc(32), Buffer.alloc(0), Buffer.alloc(0)).length, 32)
})

t.test('here → jose: a JWE sealed here opens in jose', async (t) => {
  const jwe = sealCnfJwe(SK, { kid: GW.kid, publicKey: createPublicKey(GW.privateKey) }, CLAIMS)
  const priv = await importJWK({ ...(GW.privateKey.export({ format: 'jwk' }) as object), alg: 'ECDH-ES+A256KW' } as never, 'ECDH-ES+A256KW')
  const { plaintext, protectedHeader } = await compactDecrypt(jwe, priv)
  t.same(JSON.parse(new TextDecoder().decode(plaintext)), { kty: 'oct', k: SK.toString('base64url') })
  t.equal(protectedHeader.jti, CLAIMS.jti)
  t.same(open(jwe).key, SK)
})

t.test('another alg or enc is refused before any key work', async (t) => {
  const pub = await importJWK(GW.publicJwk as never, 'ECDH-ES')
  const direct = await new CompactEncrypt(new TextEncoder().encode('{}')).setProtectedHeader({ alg: 'ECDH-ES', enc: 'A256GCM', kid: GW.kid, ...CLAIMS }).encrypt(pub)
  t.equal(code(() => open(direct)), 'cnf_jwe_alg_unsupported', 'ECDH-ES (direct)')
  const pubKw = await importJWK(GW.publicJwk as never, 'ECDH-ES+A256KW')
  const cbc = await new CompactEncrypt(new TextEncoder().encode('{}')).setProtectedHeader({ alg: 'ECDH-ES+A256KW', enc: 'A256CBC-HS512', kid: GW.kid, ...CLAIMS }).encrypt(pubKw)
  t.equal(code(() => open(cbc)), 'cnf_jwe_alg_unsupported', 'A256CBC-HS512')
  const dir = `${Buffer.from(JSON.stringify({ alg: 'dir', enc: 'A256GCM', kid: GW.kid })).toString('base64url')}..aaaaaaaaaaaaaaaa.aaaa.aaaaaaaaaaaaaaaaaaaaaa`
  t.equal(code(() => open(dir)), 'cnf_jwe_alg_unsupported', 'dir')
})

t.test('a bad tag, a changed header or ciphertext: cnf_jwe_invalid', async (t) => {
  const jwe = await joseJwe({ kty: 'oct', k: SK.toString('base64url') })
  const p = jwe.split('.')
  const flip = (s: string) => (s[0] === 'A' ? 'B' : 'A') + s.slice(1)
  t.equal(code(() => open([p[0], p[1], p[2], p[3], flip(p[4]!)].join('.'))), 'cnf_jwe_invalid', 'tag')
  t.equal(code(() => open([p[0], p[1], p[2], flip(p[3]!), p[4]].join('.'))), 'cnf_jwe_invalid', 'ciphertext')
  t.equal(code(() => open([p[0], flip(p[1]!), p[2], p[3], p[4]].join('.'))), 'cnf_jwe_invalid', 'wrapped key')
  // The header is the AAD: the replicated jti cannot be rewritten (a swap into another token).
  const h = JSON.parse(Buffer.from(p[0]!, 'base64url').toString()) as Record<string, unknown>
  const rewritten = Buffer.from(JSON.stringify({ ...h, jti: 'j-2' })).toString('base64url')
  t.equal(code(() => open([rewritten, p[1], p[2], p[3], p[4]].join('.'))), 'cnf_jwe_invalid', 'header (AAD)')
})

t.test('encrypted to a key the gateway no longer holds: cnf_jwe_key_unknown; to another key under a listed kid: cnf_jwe_invalid', async (t) => {
  const jwe = await joseJwe({ kty: 'oct', k: SK.toString('base64url') }, {}, OTHER)
  t.equal(code(() => open(jwe, [GW])), 'cnf_jwe_key_unknown', 'rotated out')
  t.same(open(jwe, [GW, OTHER]).key, SK, 'opens while the old key is still listed')
  const lying = await joseJwe({ kty: 'oct', k: SK.toString('base64url') }, { kid: GW.kid }, OTHER)
  t.equal(code(() => open(lying)), 'cnf_jwe_invalid')
})

t.test('the plaintext must be a 256-bit oct JWK (RFC 7800 §3.3)', async (t) => {
  for (const [what, pt] of [
    ['short key', { kty: 'oct', k: randomBytes(16).toString('base64url') }],
    ['EC key', { kty: 'EC', crv: 'P-256', x: 'a', y: 'b' }],
    ['extra member', { kty: 'oct', k: SK.toString('base64url'), use: 'sig' }],
    ['alg not HS256', { kty: 'oct', k: SK.toString('base64url'), alg: 'A256GCM' }],
  ] as const) t.equal(code(() => open(sealCnfJweRaw(pt))), 'cnf_jwe_invalid', what)
})

t.test('malformed: not five segments, huge, header members, no replicated claims, epk with d', async (t) => {
  t.equal(code(() => splitCnfJwe('a.b.c')), 'cnf_jwe_malformed')
  t.equal(code(() => splitCnfJwe(42)), 'cnf_jwe_malformed')
  t.equal(code(() => splitCnfJwe('a'.repeat(5000))), 'cnf_jwe_malformed')
  const jwe = await joseJwe({ kty: 'oct', k: SK.toString('base64url') }, { zip: 'DEF' } as never).catch(() => undefined)
  if (jwe) t.equal(code(() => open(jwe)), 'cnf_jwe_malformed', 'zip')
  const noJti = await joseJwe({ kty: 'oct', k: SK.toString('base64url') }, { jti: undefined })
  t.equal(code(() => open(noJti)), 'cnf_jwe_malformed', 'no jti')
  const p = (await joseJwe({ kty: 'oct', k: SK.toString('base64url') })).split('.')
  const h = JSON.parse(Buffer.from(p[0]!, 'base64url').toString()) as { epk: object }
  const withD = Buffer.from(JSON.stringify({ ...h, epk: { ...h.epk, d: 'x'.repeat(43) } })).toString('base64url')
  t.equal(code(() => open([withD, ...p.slice(1)].join('.'))), 'cnf_jwe_malformed', 'epk with d')
  const crit = Buffer.from(JSON.stringify({ ...h, crit: ['x'] })).toString('base64url')
  t.equal(code(() => open([crit, ...p.slice(1)].join('.'))), 'cnf_jwe_malformed', 'crit')
})

/** Any plaintext, sealed the right way (for the plaintext checks): a good JWE, its CEK recovered, another plaintext under it. */
function sealCnfJweRaw(plaintext: object): string {
  return resealWith(sealCnfJwe(SK, { kid: GW.kid, publicKey: createPublicKey(GW.privateKey) }, CLAIMS), plaintext)
}

function resealWith(jwe: string, plaintext: object): string {
  // Recover the CEK with the gateway's key, then encrypt another plaintext under it with the same header.
  const [h, ek, iv] = jwe.split('.') as [string, string, string]
  const header = JSON.parse(Buffer.from(h, 'base64url').toString()) as { epk: object }
  const z = diffieHellman({ privateKey: GW.privateKey, publicKey: createPublicKey({ key: header.epk as never, format: 'jwk' }) })
  const kek = concatKdf(z, Buffer.alloc(0), Buffer.alloc(0))
  const unwrap = createDecipheriv('id-aes256-wrap', kek, Buffer.from('A6A6A6A6A6A6A6A6', 'hex'))
  const cek = Buffer.concat([unwrap.update(Buffer.from(ek, 'base64url')), unwrap.final()])
  const gcm = createCipheriv('aes-256-gcm', cek, Buffer.from(iv, 'base64url'))
  gcm.setAAD(Buffer.from(h, 'ascii'))
  const ct = Buffer.concat([gcm.update(JSON.stringify(plaintext)), gcm.final()])
  return [h, ek, iv, ct.toString('base64url'), gcm.getAuthTag().toString('base64url')].join('.')
}
