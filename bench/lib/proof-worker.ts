// Worker thread body: signs `count` DomainPoP proofs with the client code
// (src/client/proof.ts), each with its own jti, and returns them as
// Authorization header values.

import { parentPort, workerData } from 'node:worker_threads'
import { signDomainPopProof, type ProofInput } from '../../src/client/proof.js'
import type { ClientKey } from '../../src/client/keys.js'

export interface ProofJob {
  readonly key: ClientKey
  readonly input: ProofInput
  readonly count: number
  /** Makes jtis unique across workers and batches. */
  readonly jtiPrefix: string
}

const job = workerData as ProofJob
const out: string[] = new Array(job.count)
for (let i = 0; i < job.count; i++) {
  out[i] = 'DomainPoP ' + signDomainPopProof(job.key, { ...job.input, jti: `${job.jtiPrefix}${i.toString(36)}` })
}
parentPort!.postMessage(out)
