// The issuer-symmetric path's CPU per request (issue 24, PROTOCOL.md §4), as
// the scheme runs it (parse + verify, with a memory replay store and a pinned
// issuer key, so no I/O): warm (the opened cnf.jwe cached by token hash: a
// hash, an HMAC, the claims, the jti), cold (every request a token not seen
// before: the issuer's ES256 signature and the ECDH-ES+A256KW unwrap, then the
// same), and one ES256 verify for scale (what a DomainPoP proof per request
// pays at least). Run alone: `node dist/bench/micro/issuer-symmetric.js`.
// On a loaded machine this is steadier than the load rounds (bench/cases.ts,
// gateway-issuer-symmetric).

import { createPublicKey, generateKeyPairSync, randomBytes, sign, verify } from 'node:crypto'
import { sealCnfJwe } from '../../src/proofs/cnf-jwe.js'
import { signSessionProof } from '../../src/proofs/session-proof.js'
import { parseJwks } from '../../src/keys/index.js'
import { createMemoryReplayStore } from '../../src/replay/memory.js'
import { namespacedReplay } from '../../src/schemes/replay.js'
import { createIssuerSymmetricScheme } from '../../src/schemes/issuer-symmetric/index.js'
import { generateEncryptionKey } from '../../src/secrets/encryption-keys.js'
import type { Rule } from '../../src/acl/index.js'
import type { VerifyView } from '../../src/schemes/types.js'

const ORIGIN = 'https://gw.bench'
const ISS = 'https://alice.bench'
const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url')

export interface IssuerSymmetricMicroRow { readonly path: string; readonly usPerOp: number }

async function perOp(ms: number, op: (i: number) => Promise<unknown> | unknown): Promise<number> {
  for (let i = 0; i < 200; i++) await op(i)
  let n = 0
  const t0 = process.hrtime.bigint(), until = t0 + BigInt(ms) * 1_000_000n
  while (process.hrtime.bigint() < until) for (let i = 0; i < 32; i++, n++) await op(n + 1000)
  return Number(process.hrtime.bigint() - t0) / 1000 / n
}

export async function runIssuerSymmetricMicro(ms = 1000): Promise<IssuerSymmetricMicroRow[]> {
  const signer = generateKeyPairSync('ec', { namedCurve: 'P-256' })
  const set = parseJwks(JSON.stringify({ keys: [{ ...(signer.publicKey.export({ format: 'jwk' }) as object), kid: 'k1', alg: 'ES256' }] }))
  const gw = generateEncryptionKey('e1')
  const now = Date.now(), nowSec = Math.floor(now / 1000)
  const mint = () => {
    const key = randomBytes(32), jti = randomBytes(9).toString('base64url')
    const jwe = sealCnfJwe(key, { kid: 'e1', publicKey: createPublicKey(gw.privateKey) }, { iss: ISS, jti })
    const input = `${b64({ alg: 'ES256', typ: 'at+jwt', kid: 'k1' })}.${b64({ iss: ISS, aud: ORIGIN, iat: nowSec, exp: nowSec + 3600, jti, cnf: { jwe } })}`
    return { key, token: `${input}.${sign('sha256', Buffer.from(input), { key: signer.privateKey, dsaEncoding: 'ieee-p1363' }).toString('base64url')}` }
  }
  const scheme = createIssuerSymmetricScheme({
    publicOrigin: ORIGIN, dpop: { audience: undefined, algorithms: ['ES256'], issuers: {} }, pinned: new Map(),
    proof: { maxAgeMs: 60_000, clockSkewMs: 5_000, maxBytes: 8192 }, allowPorts: 'any',
    issuerKeys: { async keyFor() { return set.keys[0]! }, markProven() {}, async close() {} },
    encryptionKeys: [gw], replay: namespacedReplay(createMemoryReplayStore({ maxEntries: 1_000_000 }), 'issuer-symmetric', 60_000, () => {}),
    now: () => now, cacheSize: 100_000,
  })
  const view = { method: 'GET', path: '/api/data', target: '/api/data', authority: undefined, client: '127.0.0.1', nowMs: now, channel: { exporter: undefined }, field: () => undefined, cookie: () => undefined, body: async () => new Uint8Array() } as unknown as VerifyView
  const rule = { sessions: true } as Rule
  const request = async (t: { key: Buffer; token: string }, i: number) => {
    const proof = signSessionProof(t.key, { htm: 'GET', htu: `${ORIGIN}/api/data`, ticket: t.token, iatSec: nowSec, jti: `j${i}` })
    const credentials = { authorization: `DomainPoP-Session ${t.token}`, fields: new Map([['domainpop-proof', proof]]) }
    await scheme.verify(scheme.parse(credentials, view), view, rule)
  }
  // The client's HMAC signing is in the loop too; measured alone below and subtracted.
  const warmToken = mint()
  const signOnly = await perOp(ms, (i) => signSessionProof(warmToken.key, { htm: 'GET', htu: `${ORIGIN}/api/data`, ticket: warmToken.token, iatSec: nowSec, jti: `s${i}` }))
  const warm = await perOp(ms, (i) => request(warmToken, i))
  const coldTokens = Array.from({ length: 3000 }, mint)
  const cold = await perOp(ms, (i) => request(coldTokens[i % coldTokens.length]!, i))
  const data = Buffer.from('x'.repeat(300))
  const sig = sign('sha256', data, { key: signer.privateKey, dsaEncoding: 'ieee-p1363' })
  const es256 = await perOp(ms, () => verify('sha256', data, { key: signer.publicKey, dsaEncoding: 'ieee-p1363' }, sig))
  return [
    { path: 'issuer-symmetric, warm (opened cnf.jwe cached): parse + verify', usPerOp: warm - signOnly },
    { path: 'issuer-symmetric, cold (new token: ES256 token signature + ECDH unwrap): parse + verify', usPerOp: cold - signOnly },
    { path: 'one ES256 verify (a DomainPoP proof per request pays at least this)', usPerOp: es256 },
  ]
}

if (import.meta.url === `file://${process.argv[1]}`) {
  for (const r of await runIssuerSymmetricMicro(Number(process.env.MICRO_MS ?? 1000))) console.log(`${r.usPerOp.toFixed(1).padStart(8)} µs  ${r.path}`)
}
