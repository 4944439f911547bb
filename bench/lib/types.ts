// The shapes the bench runner and its cases share. A case is a name and a
// setup that returns where to send load (and, optionally, one unique header
// value per request); run.ts does everything else the same way for every case.

import type { KeyHost } from './gateway-setup.js'

export interface BenchCase {
  /** Short stable id: the JSON key, and what BENCH_CASES selects. */
  readonly id: string
  /** What the table prints. */
  readonly name: string
  /** Why this case cannot run on this machine (e.g. no nginx binary), or undefined. */
  readonly skip?: () => string | undefined
  /** An experiment: runs only when BENCH_CASES names it. */
  readonly optIn?: boolean
  setup(ctx: CaseContext): Promise<Target>
}

export interface Target {
  /** Full URL the load generator requests (GET). */
  readonly url: string
  /** The process under test (proxy, gateway, upstream): its RSS and CPU are reported. */
  readonly pids: readonly number[]
  /**
   * One unique value of `header` per request (e.g. a DomainPoP proof with its
   * own jti). Pre-generated before each timed round, so signing is never the
   * load generator's bottleneck.
   */
  readonly perRequest?: PerRequestHeader
  /** An https URL: how the load generator connects (test CA trusted by skipping verification, as autocannon does). */
  readonly client?: TlsClient
  teardown(): Promise<void>
}

/** TLS client settings for a case on the gateway's TLS listener (docs/tls.md). */
export interface TlsClient {
  /** HTTP/2 (ALPN h2) instead of HTTP/1.1: the h2 load generator (bench/load/h2.ts). */
  readonly h2?: boolean
  /** PEM files of a client certificate and key to present (mTLS). */
  readonly certFile?: string
  readonly keyFile?: string
}

export interface PerRequestHeader {
  readonly header: string
  /**
   * More per-request fields (e.g. an RFC 9421 signature's `Signature`
   * beside `Signature-Input`): each generated value is then the values of
   * `header` and these, in order, joined by a tab (bench/load/header-line.ts).
   */
  readonly moreHeaders?: readonly string[]
  /** Sent unchanged with every request beside `header` (e.g. DPoP's `Authorization: DPoP <token>`, with the proof in `header`). */
  readonly fixed?: Readonly<Record<string, string>>
  /** Returns `count` fresh header values, each to be used once; called before every round (proofs age). */
  generate(count: number): Promise<string[]>
}

/** What every case may use: the shared upstream, the key host, a temp dir, a way to start server processes. */
export interface CaseContext {
  /** Origin of the shared upstream process, e.g. http://127.0.0.1:41234 */
  readonly upstreamOrigin: string
  readonly upstreamPid: number
  /** The plain-HTTP key host for alice.test on loopback (the gateway config resolves alice.test to it). */
  readonly keyHost: KeyHost
  readonly tmpDir: string
  readonly resultsDir: string
  /** BENCH_PROFILE=1: run gateway children under --cpu-prof. */
  readonly profile: boolean
  /** Forks bench/servers/<script> (e.g. 'gateway.js') and waits for its port. */
  startServer(script: string, args: readonly string[], opts?: { execArgv?: readonly string[] }): Promise<ServerChild>
}

export interface ServerChild {
  readonly pid: number
  readonly port: number
  stop(): Promise<void>
}

export interface LoadOptions {
  readonly url: string
  readonly connections: number
  readonly durationSec: number
  /** File with one header value per line, used once each, in order. */
  readonly headerFile?: { readonly header: string; readonly moreHeaders?: readonly string[]; readonly file: string; readonly count: number; readonly fixed?: Readonly<Record<string, string>> }
  /** Fixed rate (requests per second over all connections) instead of as fast as possible: autocannon only. */
  readonly ratePerSec?: number
  /** TLS client settings (Target.client): autocannon's tlsOptions, or the h2 generator. */
  readonly client?: TlsClient
}

export interface LoadResult {
  readonly tool: 'wrk' | 'autocannon' | 'h2'
  readonly requests: number
  readonly durationSec: number
  readonly rps: number
  readonly p50Ms: number
  readonly p99Ms: number
  /** autocannon only. */
  readonly p999Ms?: number
  /** Responses with status ≥ 400 (wrk) / outside 2xx (autocannon). */
  readonly badStatus: number
  /** Connect/read/write errors and timeouts. */
  readonly socketErrors: number
}

export interface ProcessUsage {
  /** Peak resident set size seen while sampling (all pids summed), bytes. */
  readonly peakRssBytes: number
  /** User + system CPU time used during the timed run, seconds. */
  readonly cpuSec: number
}

/** A case over all rounds. Ratios are computed from `rounds` (paired with the baseline's same round). */
export interface CaseSummary {
  /** Median over rounds of req/s; min and max show the spread. */
  readonly rps: number
  readonly rpsMin: number
  readonly rpsMax: number
  /** Median over rounds (wrk/autocannon percentiles cannot be merged exactly). */
  readonly p50Ms: number
  readonly p99Ms: number
  /** All rounds. */
  readonly requests: number
  readonly failed: number
}

export interface CaseResult {
  readonly id: string
  readonly name: string
  readonly skipped?: string
  readonly error?: string
  /** One load result per round, in round order. */
  readonly rounds: readonly LoadResult[]
  readonly summary?: CaseSummary
  /** The process under test, over the timed rounds only (CPU summed, RSS peak). */
  readonly server?: ProcessUsage
  readonly upstream?: ProcessUsage
  /** How per-request headers were made, when the case had them (all batches). */
  readonly pregenerated?: { readonly count: number; readonly seconds: number; readonly threads: number }
}
