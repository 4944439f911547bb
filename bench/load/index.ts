// One load generator for every case: wrk when it is on PATH, else autocannon.
// BENCH_LOAD=autocannon forces autocannon (to compare the two).

import type { LoadOptions, LoadResult } from '../lib/types.js'
import { runWrk, wrkBinary } from './wrk.js'
import { runAutocannon } from './autocannon.js'
import { runH2Load } from './h2.js'

export interface LoadGenerator {
  readonly name: string
  run(opts: LoadOptions): Promise<LoadResult>
}

export function chooseLoadGenerator(tmpDir: string, forced: string | undefined): LoadGenerator {
  const wrk = forced === 'autocannon' ? undefined : wrkBinary()
  if (forced === 'wrk' && !wrk) throw new Error('BENCH_LOAD=wrk but no wrk binary on PATH')
  // TLS cases (a client certificate, HTTP/2): autocannon's tlsOptions, or the h2 generator; never wrk.
  const tls = (o: LoadOptions, other: (o: LoadOptions) => Promise<LoadResult>) => o.client?.h2 ? runH2Load(o) : o.client ? runAutocannon(o) : other(o)
  if (wrk) return { name: `wrk (${wrk})`, run: (o) => tls(o, (x) => runWrk(wrk, x, tmpDir)) }
  return { name: 'autocannon (node child process)', run: (o) => tls(o, runAutocannon) }
}
