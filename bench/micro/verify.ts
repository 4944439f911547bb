// Proof signature verification cost, per algorithm: jose's compactVerify
// with a KeyObject (the generic path) against node:crypto.verify on a cached
// KeyObject, sync and callback forms. The callback form runs on libuv's
// thread pool; with many checks in flight (as under load) it can use more
// than one core, so it is measured both one-at-a-time and 64 in flight. The
// "gateway" row is src/proofs/signature.ts itself. Besides ops/s, each row
// reports the main thread's CPU per op: in the gateway the main thread is
// the scarce resource, and thread-pool work only competes with it for cores.

import { createPublicKey, verify, type KeyObject } from 'node:crypto'
import { compactVerify } from 'jose'
import { generateClientKey, type ClientAlgorithm } from '../../src/client/keys.js'
import { signDomainPopProof } from '../../src/client/proof.js'
import { verifySignature } from '../../src/proofs/signature.js'
import { mainThreadCpuSec } from '../lib/proc-stats.js'

export interface VerifyMicroRow {
  readonly method: string
  /** ops/s per algorithm (best round). */
  readonly opsPerSec: Readonly<Record<string, number>>
  /** Main-thread CPU µs per op, per algorithm (same round; NaN without /proc). */
  readonly mainUsPerOp: Readonly<Record<string, number>>
}

export interface VerifyMicroResult {
  readonly algorithms: readonly string[]
  readonly msPerMeasurement: number
  readonly rounds: number
  readonly rows: readonly VerifyMicroRow[]
}

const IN_FLIGHT = 64
const WARMUP_MS = 100
const ROUNDS = 2

interface Subject { readonly token: string; readonly key: KeyObject; readonly signingInput: Buffer; readonly signature: Buffer; readonly digest: string | null; readonly alg: ClientAlgorithm }

async function subject(alg: ClientAlgorithm): Promise<Subject> {
  const ck = await generateClientKey(alg)
  const token = signDomainPopProof(ck, { identity: 'alice.test', keyUrl: `https://alice.test/.well-known/domainpop/keys/${ck.kid}`, audience: 'https://gw.bench', method: 'GET', path: '/api/data', nonce: 'n'.repeat(43) })
  const dot = token.lastIndexOf('.')
  return {
    token, alg, key: createPublicKey(ck.privateKey),
    signingInput: Buffer.from(token.slice(0, dot), 'latin1'),
    signature: Buffer.from(token.slice(dot + 1), 'base64url'),
    digest: alg === 'ES256' ? 'sha256' : null,
  }
}

const keyOpts = (s: Subject) => s.alg === 'ES256' ? { key: s.key, dsaEncoding: 'ieee-p1363' as const } : s.key

/** Runs `op` back to back (or `inFlight` at a time) for `ms`; returns ops/s. Each op must resolve true. */
async function measure(ms: number, inFlight: number, op: () => Promise<boolean> | boolean): Promise<number> {
  let done = 0
  const t0 = process.hrtime.bigint()
  const until = t0 + BigInt(ms) * 1_000_000n
  const lane = async () => {
    while (process.hrtime.bigint() < until) {
      for (let i = 0; i < 32; i++) { // check the clock every 32 ops
        if (!(await op())) throw new Error('verification failed in the benchmark')
        done++
      }
    }
  }
  await Promise.all(Array.from({ length: inFlight }, lane))
  return done / (Number(process.hrtime.bigint() - t0) / 1e9)
}

function syncLoop(ms: number, s: Subject): number {
  let done = 0
  const opts = keyOpts(s)
  const t0 = process.hrtime.bigint()
  const until = t0 + BigInt(ms) * 1_000_000n
  while (process.hrtime.bigint() < until) {
    for (let i = 0; i < 32; i++) {
      if (!verify(s.digest, s.signingInput, opts, s.signature)) throw new Error('verification failed in the benchmark')
      done++
    }
  }
  return done / (Number(process.hrtime.bigint() - t0) / 1e9)
}

const callbackVerify = (s: Subject) => {
  const opts = keyOpts(s)
  return () => new Promise<boolean>((resolve) => verify(s.digest, s.signingInput, opts, s.signature, (err, ok) => resolve(!err && ok)))
}

export async function runVerifyMicro(opts: { ms?: number } = {}): Promise<VerifyMicroResult> {
  const ms = opts.ms ?? 500
  const algs: ClientAlgorithm[] = ['ES256', 'Ed25519']
  const methods: { name: string; run: (s: Subject, ms: number) => Promise<number> }[] = [
    { name: 'jose compactVerify (KeyObject), 1 at a time', run: (s, t) => measure(t, 1, async () => !!(await compactVerify(s.token, s.key))) },
    { name: `jose compactVerify (KeyObject), ${IN_FLIGHT} in flight`, run: (s, t) => measure(t, IN_FLIGHT, async () => !!(await compactVerify(s.token, s.key))) },
    { name: 'crypto.verify sync, cached KeyObject', run: async (s, t) => syncLoop(t, s) },
    { name: 'crypto.verify callback, 1 at a time', run: (s, t) => measure(t, 1, callbackVerify(s)) },
    { name: `crypto.verify callback, ${IN_FLIGHT} in flight`, run: (s, t) => measure(t, IN_FLIGHT, callbackVerify(s)) },
    { name: `gateway verifySignature (callback), ${IN_FLIGHT} in flight`, run: (s, t) => measure(t, IN_FLIGHT, () => verifySignature(s.alg, s.key, s.signingInput.toString('latin1'), s.signature)) },
  ]
  const subjects = await Promise.all(algs.map(subject))
  for (const s of subjects) for (const m of methods) await m.run(s, WARMUP_MS) // JIT and thread-pool warm-up
  // Rounds interleave the methods so a burst of outside load hits them alike; best round kept.
  const best = methods.map(() => new Map<string, { ops: number; mainUs: number }>())
  for (let round = 0; round < ROUNDS; round++) {
    for (const [i, m] of methods.entries()) {
      for (const s of subjects) {
        const cpu0 = mainThreadCpuSec()
        const opsPerSec = await m.run(s, ms)
        const mainUs = ((mainThreadCpuSec() - cpu0) * 1e6) / (opsPerSec * ms / 1000)
        if (opsPerSec > (best[i]!.get(s.alg)?.ops ?? 0)) best[i]!.set(s.alg, { ops: opsPerSec, mainUs })
      }
    }
  }
  const rows: VerifyMicroRow[] = methods.map((m, i) => ({
    method: m.name,
    opsPerSec: Object.fromEntries([...best[i]!].map(([a, v]) => [a, v.ops])),
    mainUsPerOp: Object.fromEntries([...best[i]!].map(([a, v]) => [a, v.mainUs])),
  }))
  return { algorithms: algs, msPerMeasurement: ms, rounds: ROUNDS, rows }
}
