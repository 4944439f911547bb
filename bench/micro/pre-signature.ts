// The checks before a signature, in main-thread CPU µs per request: a
// DomainPoP proof read (readDomainPopProof: JWS split, header, iss, jku
// policy, claims, nonce) and a DPoP parse (scheme.parse: the access token
// and the proof, every static check), each over distinct pre-signed proofs
// (unique jti, one nonce, one key, as a client sends them). Also the nonce
// HMAC alternatives (docs/benchmarks.md, "Performance III").
//
// Standalone (not part of `npm run bench`):
//   node dist/bench/micro/pre-signature.js [<another built checkout>]
// With a second checkout, its modules are measured in the same process,
// rounds alternating between the two builds, so a before/after is one run.
// CPU is process.cpuUsage (user + system) over the round: on a machine
// shared with other work, wall time would measure the neighbours.

import { createHash, createHmac, hash, randomBytes } from 'node:crypto'
import { pathToFileURL } from 'node:url'
import { resolve } from 'node:path'
import { generateClientKey } from '../../src/client/keys.js'
import { signDomainPopProof } from '../../src/client/proof.js'
import { signDpopProof } from '../../src/client/dpop.js'
import { makeDpopFixture } from '../lib/dpop-setup.js'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

const ROUNDS = 6
const PROOFS = 4_000
const ORIGIN = 'https://gw.bench'
const PATH = '/api/data'
const IDENTITY = 'alice.test'
const SECRET = randomBytes(32)

interface Build {
  readonly label: string
  readonly domainpop: (token: string, nowMs: number) => unknown
  readonly dpopParse: (auth: string, proof: string, nowMs: number) => unknown
  readonly nonce: (nowMs: number) => string
  readonly warmDpop: (auth: string, proof: string, nowMs: number) => Promise<void>
}

const keysCfg = {
  pathPrefix: '/.well-known/domainpop/', allowHttp: [], allowPrivateAddresses: false, allowPorts: [443], resolve: {}, caFile: undefined,
  timeoutMs: 3_000, maxBytes: 64 * 1024, cacheMinTtlMs: 60_000, cacheMaxTtlMs: 3_600_000, negativeTtlMs: 10_000,
  refetchCooldownMs: 30_000, cacheMaxEntries: 10_000, hotKeys: 1_024, maxInFlightPerDomain: 4, maxInFlight: 64,
  cacheMaxBytes: 32 * 1024 * 1024, maxUrlsPerIdentity: 8, maxBytesPerIdentity: 256 * 1024,
}
const proofCfg = { maxAgeMs: 60_000, clockSkewMs: 5_000, algorithms: ['ES256', 'Ed25519', 'EdDSA'], maxBytes: 8192 }

async function loadBuild(root: string, label: string, jwksFile: string, issuer: string): Promise<Build> {
  const mod = async <T>(p: string): Promise<T> => (await import(pathToFileURL(join(root, 'dist/src', p)).href)) as T
  /* eslint-disable @typescript-eslint/no-explicit-any */
  const { readDomainPopProof } = await mod<any>('proofs/domainpop.js')
  const { createNonceIssuer } = await mod<any>('secrets/nonce.js')
  const { createDpopScheme, pinnedKeys } = await mod<any>('schemes/dpop/index.js')
  const { parseJwks } = await mod<any>('keys/index.js')
  const { createMemoryReplayStore } = await mod<any>('replay/memory.js')
  const { readFile } = await import('node:fs/promises')
  const nonces = createNonceIssuer([{ id: 'n1', key: SECRET }], { ttlMs: 300_000, clockSkewMs: 5_000 })
  const deps = { publicOrigin: ORIGIN, proof: proofCfg, keys: keysCfg, nonces }
  const set = parseJwks(await readFile(jwksFile))
  const dpopCfg = { enabled: true, audience: undefined, algorithms: ['ES256'], requireNonce: true, issuers: { [issuer]: { jwksFile } } }
  const scheme = createDpopScheme({
    publicOrigin: ORIGIN, dpop: dpopCfg, pinned: pinnedKeys(dpopCfg.issuers, new Map([[issuer, set]])), proof: proofCfg, allowPorts: 'any',
    issuerKeys: { keyFor: async () => set.keys[0], close: async () => {} },
    replay: createMemoryReplayStore({ maxEntries: 1_000_000, now: () => Date.now() }), replayTtlMs: 71_000,
    nonces, now: () => Date.now(), onReplay: () => {},
  })
  const ctx = (nowMs: number) => ({ method: 'GET', path: PATH, nowMs, channel: { tls: false } })
  const creds = (auth: string, proof: string) => ({ authorization: auth, fields: new Map([['dpop', proof]]) })
  return {
    label,
    domainpop: (token, nowMs) => readDomainPopProof(token, { method: 'GET', path: PATH, nowMs }, deps),
    dpopParse: (auth, proof, nowMs) => scheme.parse(creds(auth, proof), ctx(nowMs)),
    nonce: (nowMs) => nonces.issue(nowMs),
    warmDpop: async (auth, proof, nowMs) => { await scheme.verify(scheme.parse(creds(auth, proof), ctx(nowMs)), ctx(nowMs), {}) },
  }
  /* eslint-enable @typescript-eslint/no-explicit-any */
}

/** CPU µs per call of `f` over `inputs` (each used once). */
function cpuPerOp(inputs: readonly string[], f: (x: string) => unknown): number {
  const c = process.cpuUsage()
  for (const x of inputs) f(x)
  const u = process.cpuUsage(c)
  return (u.user + u.system) / inputs.length
}

const best = (xs: readonly number[]) => Math.min(...xs)
const med = (xs: readonly number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!

async function main(): Promise<void> {
  const here = resolve(new URL('../../..', import.meta.url).pathname)
  const other = process.argv[2]
  const fixture = await makeDpopFixture(join(tmpdir(), `popgate-presig-${process.pid}`), ORIGIN)
  const builds = [await loadBuild(here, 'this build', fixture.jwksFile, fixture.issuer)]
  if (other) builds.push(await loadBuild(resolve(other), `other build (${other})`, fixture.jwksFile, fixture.issuer))
  const dpKey = await generateClientKey('ES256')
  const keyUrl = `https://${IDENTITY}/.well-known/domainpop/keys/${dpKey.kid}`
  const auth = `DPoP ${fixture.token}`

  const results = new Map<string, { domainpop: number[]; dpop: number[] }>(builds.map((b) => [b.label, { domainpop: [], dpop: [] }]))
  for (let round = 0; round < ROUNDS; round++) {
    for (const b of round % 2 === 0 ? builds : [...builds].reverse()) {
      const now = Date.now()
      const nonce = b.nonce(now)
      const dp = Array.from({ length: PROOFS }, () => signDomainPopProof(dpKey, { identity: IDENTITY, keyUrl, audience: ORIGIN, method: 'GET', path: PATH, nonce }))
      const dpop = Array.from({ length: PROOFS }, () => signDpopProof(fixture.client, { method: 'GET', htu: ORIGIN + PATH, accessToken: fixture.token, nonce }))
      await b.warmDpop(auth, dpop.pop()!, now) // the token verified once (a build with a token cache keeps it)
      b.domainpop(dp.pop()!, now) // first use of this nonce: its HMAC, outside the timed loop as for a client's second request on
      const r = results.get(b.label)!
      r.domainpop.push(cpuPerOp(dp, (t) => b.domainpop(t, now)))
      r.dpop.push(cpuPerOp(dpop, (p) => b.dpopParse(auth, p, now)))
    }
  }

  // Nonce HMAC: node's createHmac against a hand-built HMAC from precomputed pads (RFC 2104 §2) with one-shot crypto.hash.
  const data = randomBytes(20)
  const ipad = Buffer.alloc(64, 0x36), opad = Buffer.alloc(64, 0x5c)
  for (let i = 0; i < 32; i++) { ipad[i]! ^= SECRET[i]!; opad[i]! ^= SECRET[i]! }
  const inner = Buffer.alloc(64 + data.length), outer = Buffer.alloc(96)
  ipad.copy(inner); opad.copy(outer)
  const padsOneShot = () => { data.copy(inner, 64); hash('sha256', inner, 'buffer').copy(outer, 64); return hash('sha256', outer, 'buffer') }
  const innerHash = createHash('sha256').update(ipad), outerHash = createHash('sha256').update(opad)
  const padsCopy = () => outerHash.copy().update(innerHash.copy().update(data).digest()).digest()
  if (!padsOneShot().equals(createHmac('sha256', SECRET).update(data).digest()) || !padsCopy().equals(padsOneShot())) throw new Error('HMAC variants disagree')
  const hm = { createHmac: [] as number[], padsOneShot: [] as number[], padsCopy: [] as number[] }
  const loop = Array.from({ length: 50_000 }, () => '')
  for (let round = 0; round < ROUNDS; round++) {
    hm.createHmac.push(cpuPerOp(loop, () => createHmac('sha256', SECRET).update(data).digest()))
    hm.padsOneShot.push(cpuPerOp(loop, padsOneShot))
    hm.padsCopy.push(cpuPerOp(loop, padsCopy))
  }

  const out: string[] = [`## Pre-signature checks (CPU µs per request; best / median of ${ROUNDS} rounds × ${PROOFS} proofs, builds alternating)`, '',
    '| build | readDomainPopProof best | median | DPoP scheme.parse (token + proof) best | median |', '|---|---:|---:|---:|---:|']
  for (const [label, r] of results) out.push(`| ${label} | ${best(r.domainpop).toFixed(2)} | ${med(r.domainpop).toFixed(2)} | ${best(r.dpop).toFixed(2)} | ${med(r.dpop).toFixed(2)} |`)
  out.push('', '| nonce HMAC-SHA256 (20 bytes) | CPU µs best | median |', '|---|---:|---:|')
  for (const [k, v] of Object.entries(hm)) out.push(`| ${k} | ${best(v).toFixed(2)} | ${med(v).toFixed(2)} |`)
  process.stdout.write(out.join('\n') + '\n')
}

main().catch((err: unknown) => {
  console.error(err)
  process.exit(1)
})
