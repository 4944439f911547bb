// One load generator for every case: wrk when it is on PATH, else autocannon.
// BENCH_LOAD=autocannon forces autocannon (to compare the two).

import type { LoadOptions, LoadResult } from '../lib/types.js'
import { runWrk, wrkBinary } from './wrk.js'
import { runAutocannon } from './autocannon.js'

export interface LoadGenerator {
  readonly name: string
  run(opts: LoadOptions): Promise<LoadResult>
}

export function chooseLoadGenerator(tmpDir: string, forced: string | undefined): LoadGenerator {
  const wrk = forced === 'autocannon' ? undefined : wrkBinary()
  if (forced === 'wrk' && !wrk) throw new Error('BENCH_LOAD=wrk but no wrk binary on PATH')
  if (wrk) return { name: `wrk (${wrk})`, run: (o) => runWrk(wrk, o, tmpDir) }
  return { name: 'autocannon (node child process)', run: runAutocannon }
}
