// Pre-generates per-request proofs before the timed run, in one worker
// thread per core (the signing is the expensive part, ~50–100 µs a proof).
// The issue allows either pre-generating or signing in workers during the
// run; pre-generating keeps the load generator's cost the same for every
// case, so this is what the bench does, and what docs/benchmarks.md says.

import { Worker } from 'node:worker_threads'
import { availableParallelism } from 'node:os'
import { randomBytes } from 'node:crypto'
import type { ClientKey } from '../../src/client/keys.js'
import type { ProofInput } from '../../src/client/proof.js'
import type { DpopProofInput } from '../../src/client/dpop.js'
import type { ProofJob } from './proof-worker.js'
import type { HttpSignatureBenchInput } from './http-signature-setup.js'

export const PROOF_THREADS = Math.max(1, availableParallelism())
const WORKER = new URL('./proof-worker.js', import.meta.url)

/** DomainPoP proofs, as `Authorization` values. */
export const pregenerateProofs = (key: ClientKey, input: ProofInput, count: number): Promise<string[]> =>
  pregenerate(key, { input }, count)

/** DPoP proofs (with `ath` when `input.accessToken` is set), as `DPoP` header values. */
export const pregenerateDpopProofs = (key: ClientKey, input: DpopProofInput, count: number): Promise<string[]> =>
  pregenerate(key, { kind: 'dpop', input }, count)

/** RFC 9421 message signatures (Web Bot Auth profile), as `Signature-Input<TAB>Signature` lines. */
export const pregenerateHttpSignatures = (key: ClientKey, input: HttpSignatureBenchInput, count: number): Promise<string[]> =>
  pregenerate(key, { kind: 'httpsig', input }, count)

async function pregenerate(key: ClientKey, what: { kind?: undefined; input: ProofInput } | { kind: 'dpop'; input: DpopProofInput } | { kind: 'httpsig'; input: HttpSignatureBenchInput }, count: number): Promise<string[]> {
  const batch = randomBytes(6).toString('base64url')
  const per = Math.ceil(count / PROOF_THREADS)
  const jobs = Array.from({ length: PROOF_THREADS }, (_, w) => {
    const job: ProofJob = { key, ...what, count: Math.max(0, Math.min(per, count - w * per)), jtiPrefix: `${batch}.${w}.` }
    return new Promise<string[]>((resolve, reject) => {
      const worker = new Worker(WORKER, { workerData: job })
      worker.once('message', resolve)
      worker.once('error', reject)
    })
  })
  return (await Promise.all(jobs)).flat()
}
