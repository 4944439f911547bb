// What the scale cases report (issue "Performance", "scale cases"). Each is
// one bounded measurement, not a load run: memory for a full key cache, one
// burst of first requests from a new domain, and cold start.

export interface KeyCacheMemoryResult {
  readonly entries: number
  /** Distinct P-256 key pairs behind the documents (each document is still parsed into its own KeyObject). */
  readonly distinctKeys: number
  /** keys.hotKeys: how many keys stay imported as KeyObjects. */
  readonly hotKeys: number
  readonly fillMs: number
  readonly heapUsedBeforeBytes: number
  readonly heapUsedAfterBytes: number
  readonly rssBeforeBytes: number
  readonly rssAfterBytes: number
  /** (heapUsed after − before) ÷ entries, after a full GC each side. */
  readonly heapBytesPerEntry: number
  /** Lookups of the oldest entries after the fill (all outside the hot set). */
  readonly churnLookups: number
  /** Re-imports those lookups caused (= churnLookups when the hot set works as meant). */
  readonly churnImports: number
  readonly churnMs: number
  /** RSS after the churn pass and a full GC. */
  readonly rssAfterChurnBytes: number
  /** Then one identity naming a new key URL on each of this many lookups (issue 11, finding 1). */
  readonly floodLookups: number
  /** Fetches those lookups caused (keys.maxUrlsPerIdentity at most). */
  readonly floodFetches: number
  /** Lookups refused by the per-identity URL quota, before any fetch. */
  readonly floodRefusals: number
  /** Other identities' documents evicted meanwhile (the cache was full, so each admitted flood document evicts one). */
  readonly floodEvictions: number
  /** Heap and RSS after the flood and a full GC. */
  readonly heapUsedAfterFloodBytes: number
  readonly rssAfterFloodBytes: number
}

export interface FirstRequestStormResult {
  readonly requests: number
  readonly connections: number
  /** Requests the key host answered: must be 1 (single-flight). */
  readonly keyFetches: number
  /** From the first request sent until the last answer arrived. */
  readonly allAnsweredMs: number
  readonly statusCounts: Readonly<Record<string, number>>
  readonly socketErrors: number
}

export interface ColdStartResult {
  readonly runs: readonly number[]
  readonly medianMs: number
  readonly pollIntervalMs: number
}

export interface ScaleResults {
  readonly keyCacheMemory?: KeyCacheMemoryResult | { readonly error: string }
  readonly firstRequestStorm?: FirstRequestStormResult | { readonly error: string }
  readonly coldStart?: ColdStartResult | { readonly error: string }
}
