// What a refused DPoP request costs the gateway's main thread, by the key its
// proof carries (issue 19, "proof keys bounded"). Standalone (not part of
// `npm run bench`): `npm run build --silent && node dist/bench/micro/refused-proof-keys.js`.
//
// Each op is what the DPoP scheme does for one request (parse, then verify
// when parse passed), through src/schemes/dpop/ itself with a pinned issuer
// key (no I/O). Rows:
//   es256-bad-signature   an ES256 proof whose signature does not verify:
//                         parsed, then refused by the proof's verify (the baseline)
//   es256-other-key       an ES256 proof whose key is not the token's (cnf):
//                         imported, then refused in parse, no verify (the cheapest refusal)
//   rsa3072-huge-e        RSA-3072 jwk with a 3071-bit public exponent: refused
//                         by the one importer (keys/document.ts) before any import
//   rsa16384-oversized    RSA jwk with a 16,384-bit modulus: refused the same way
//   (before) rsa3072-huge-e imported and verified
//                         what the same key cost when the importer let it
//                         through: createPublicKey plus one RS256 verify
// Reports main-thread CPU µs per op (process.cpuUsage, best of ROUNDS) and
// the ratio to the ES256 row; the bound is ≤ 2×.

import { createHash, createPublicKey, generateKeyPairSync, randomBytes, sign, verify } from 'node:crypto'
import { calculateJwkThumbprint, type JWK } from 'jose'
import { createDpopScheme, type DpopClaim } from '../../src/schemes/dpop/index.js'
import { parseJwks } from '../../src/keys/index.js'
import { createMemoryReplayStore } from '../../src/replay/memory.js'
import { createNonceIssuer } from '../../src/secrets/nonce.js'
import type { Credentials, VerifyView, Scheme } from '../../src/schemes/types.js'
import type { Rule } from '../../src/acl/index.js'
import { openKeyTrust } from '../../test/helpers/key-trust.js'

const ORIGIN = 'https://gw.bench'
const ISS = 'https://alice.test'
const OPS = 4_000
const ROUNDS = 5
const nowMs = Date.now()
const nowSec = Math.floor(nowMs / 1000)
const b64 = (v: unknown): string => Buffer.from(JSON.stringify(v)).toString('base64url')
const b64n = (bytes: Buffer): string => bytes.toString('base64url')

const nonces = createNonceIssuer([{ id: 'n1', key: randomBytes(32) }], { ttlMs: 300_000, clockSkewMs: 5_000 })
const issuer = generateKeyPairSync('ec', { namedCurve: 'P-256' })
const set = parseJwks(JSON.stringify({ keys: [{ ...(issuer.publicKey.export({ format: 'jwk' }) as object), kid: 'k1', alg: 'ES256' }] }))
const store = createMemoryReplayStore({ maxEntries: 100_000 })
const scheme: Scheme<DpopClaim> = createDpopScheme({ keyTrust: openKeyTrust(),
  publicOrigin: ORIGIN,
  dpop: { enabled: true, audience: undefined, algorithms: ['ES256', 'RS256'], requireNonce: true, issuers: {} },
  pinned: new Map(),
  proof: { maxAgeMs: 60_000, clockSkewMs: 5_000, maxBytes: 16_384 },
  allowPorts: 'any',
  issuerKeys: { keyFor: async () => set.keys[0]!, markProven: () => {}, close: async () => {} },
  replay: { firstUse: (key) => store.firstUse(key, 71_000) },
  nonces,
  now: () => nowMs,
})
const ctx = { method: 'GET', path: '/api', nowMs, channel: {} } as unknown as VerifyView

/** A token bound (cnf.jkt) to `jkt`, signed by the issuer. */
function token(jkt: string): string {
  const input = `${b64({ alg: 'ES256', typ: 'at+jwt', kid: 'k1' })}.${b64({ iss: ISS, aud: ORIGIN, sub: 's', iat: nowSec, exp: nowSec + 3600, cnf: { jkt } })}`
  return `${input}.${b64n(sign('sha256', Buffer.from(input), { key: issuer.privateKey, dsaEncoding: 'ieee-p1363' }))}`
}

/** Credentials with a proof whose header carries `jwk` and whose signature is `signature` (any bytes). */
function credentials(jwk: object, alg: string, signature: Buffer, jkt = 'A'.repeat(43)): Credentials {
  const tok = token(jkt)
  const ath = b64n(createHash('sha256').update(tok).digest())
  const input = `${b64({ typ: 'dpop+jwt', alg, jwk })}.${b64({ jti: randomBytes(16).toString('base64url'), htm: 'GET', htu: ORIGIN + '/api', iat: nowSec, ath, nonce: nonces.issue(nowMs) })}`
  return { authorization: `DPoP ${tok}`, fields: new Map([['dpop', `${input}.${b64n(signature)}`]]) }
}

/** An odd number of `bits` bits with the top bit set: a "public exponent" or "modulus" nobody needs a private key for. */
function bigOdd(bits: number): Buffer {
  const b = randomBytes(bits / 8)
  b[0]! |= 0x80
  b[b.length - 1]! |= 1
  return b
}

const rsa3072 = generateKeyPairSync('rsa', { modulusLength: 3072 }).publicKey.export({ format: 'jwk' }) as { n: string }
const hugeE = { kty: 'RSA', n: rsa3072.n, e: b64n(bigOdd(3064)) }
const oversized = { kty: 'RSA', n: b64n(bigOdd(16_384)), e: 'AQAB' }
const es = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ format: 'jwk' })
const esJkt = await calculateJwkThumbprint(es as JWK, 'sha256')

const rows: [string, () => Promise<void>][] = [
  ['es256-bad-signature', refusedBy(() => credentials(es, 'ES256', randomBytes(64), esJkt), 'dpop_proof_signature_invalid')],
  ['es256-other-key (refused in parse, after the import)', refusedBy(() => credentials(es, 'ES256', randomBytes(64)), 'dpop_proof_mismatch')],
  ['rsa3072-huge-e', refusedBy(() => credentials(hugeE, 'RS256', randomBytes(384)), 'dpop_proof_invalid')],
  ['rsa16384-oversized', refusedBy(() => credentials(oversized, 'RS256', randomBytes(2048)), 'dpop_proof_invalid')],
  ['(before) rsa3072-huge-e imported and verified', async () => {
    const key = createPublicKey({ key: hugeE as never, format: 'jwk' })
    verify('sha256', Buffer.from('x'.repeat(600)), key, randomBytes(384))
  }],
]

/** An op: parse (and verify when parse passed) one fresh request; it must be refused with `code`. */
function refusedBy(make: () => Credentials, code: string): () => Promise<void> {
  const pool = Array.from({ length: 64 }, make) // fresh jti/nonce per credential; built outside the timed loop
  let i = 0
  return async () => {
    const c = pool[i++ % pool.length]!
    try {
      await scheme.verify(scheme.parse(c, ctx), ctx, {} as Rule)
    } catch (err) {
      if ((err as { code?: string }).code === code) return
      throw err
    }
    throw new Error(`not refused (expected ${code})`)
  }
}

async function cpuUsPerOp(op: () => Promise<void>): Promise<number> {
  for (let i = 0; i < 200; i++) await op()
  let best = Infinity
  for (let r = 0; r < ROUNDS; r++) {
    const before = process.cpuUsage()
    for (let i = 0; i < OPS; i++) await op()
    const d = process.cpuUsage(before)
    best = Math.min(best, (d.user + d.system) / OPS)
  }
  return best
}

const results: [string, number][] = []
for (const [name, op] of rows) results.push([name, await cpuUsPerOp(op)])
const base = results[0]![1]
process.stdout.write(`| row | CPU µs per refused request | × ES256 |\n|---|---:|---:|\n`)
for (const [name, us] of results) process.stdout.write(`| ${name} | ${us.toFixed(1)} | ${(us / base).toFixed(2)} |\n`)
