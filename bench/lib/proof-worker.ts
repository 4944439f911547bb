// Worker thread body: signs `count` proofs with the client code, each with
// its own jti: DomainPoP proofs (src/client/proof.ts) as Authorization header
// values, DPoP proofs (src/client/dpop.ts) as DPoP header values, or RFC 9421
// message signatures as `Signature-Input<TAB>Signature` (the fields
// src/client/http-signature.ts writes, each with its own nonce).

import { parentPort, workerData } from 'node:worker_threads'
import { signDomainPopProof, type ProofInput } from '../../src/client/proof.js'
import { signDpopProof, type DpopProofInput } from '../../src/client/dpop.js'
import type { ClientKey } from '../../src/client/keys.js'
import { signHttpSignatureFields, type HttpSignatureBenchInput } from './http-signature-setup.js'

export type ProofJob = {
  readonly key: ClientKey
  readonly count: number
  /** Makes jtis unique across workers and batches. */
  readonly jtiPrefix: string
} & ({ readonly kind?: 'domainpop'; readonly input: ProofInput } | { readonly kind: 'dpop'; readonly input: DpopProofInput } | { readonly kind: 'httpsig'; readonly input: HttpSignatureBenchInput })

const job = workerData as ProofJob
const out: string[] = new Array(job.count)
for (let i = 0; i < job.count; i++) {
  const jti = `${job.jtiPrefix}${i.toString(36)}`
  out[i] = job.kind === 'dpop' ? signDpopProof(job.key, { ...job.input, jti })
    : job.kind === 'httpsig' ? signHttpSignatureFields(job.key, job.input, jti)
    : 'DomainPoP ' + signDomainPopProof(job.key, { ...job.input, jti })
}
parentPort!.postMessage(out)
