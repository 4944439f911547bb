// The slice of autocannon's programmatic API the bench uses (the package ships no types).
declare module 'autocannon' {
  export interface RequestSpec {
    method?: string
    path?: string
    headers?: Record<string, string>
    setupRequest?: (req: RequestSpec, context: unknown) => RequestSpec
  }
  export interface Options {
    url: string
    connections?: number
    duration?: number
    amount?: number
    pipelining?: number
    requests?: RequestSpec[]
    /** Requests per second over all connections (a fixed rate). */
    overallRate?: number
  }
  export interface Histogram { p50: number; p99: number; p99_9: number; average: number }
  export interface Result {
    duration: number
    requests: Histogram & { total: number; sent: number }
    latency: Histogram
    non2xx: number
    errors: number
    timeouts: number
  }
  function autocannon(opts: Options): Promise<Result>
  export default autocannon
}
