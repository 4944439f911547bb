// The scale cases, run once each after the load rounds (BENCH_SCALE=0 skips
// them). Each is bounded in time; together they add well under a minute. A
// failing case records its error and the others still run.

import type { CaseContext } from '../lib/types.js'
import { runKeyCacheMemory } from './key-cache-memory.js'
import { runFirstRequestStorm } from './first-request-storm.js'
import { runColdStart } from './cold-start.js'
import type { ScaleResults } from './types.js'

export type { ScaleResults } from './types.js'

const MB = 1048576
/** Issue "Performance" targets. */
export const KEY_CACHE_MAX_EXTRA_BYTES = 100 * MB

async function attempt<T>(say: (m: string) => void, what: string, f: () => Promise<T>): Promise<T | { error: string }> {
  say(`scale: ${what}`)
  try {
    return await f()
  } catch (err) {
    say(`scale: ${what}: ERROR ${(err as Error).stack ?? String(err)}`)
    return { error: (err as Error).message }
  }
}

export async function runScale(ctx: CaseContext, say: (m: string) => void): Promise<ScaleResults> {
  return {
    keyCacheMemory: await attempt(say, 'key cache holding 100,000 domains', () => runKeyCacheMemory()),
    firstRequestStorm: await attempt(say, '1,000 concurrent first requests from one new domain', () => runFirstRequestStorm(ctx)),
    coldStart: await attempt(say, 'cold start to first answered request', () => runColdStart(ctx.tmpDir, ctx.upstreamOrigin)),
  }
}

export const scaleFailed = (s: ScaleResults): boolean =>
  Object.values(s).some((r) => r !== undefined && 'error' in r) || (s.firstRequestStorm !== undefined && !('error' in s.firstRequestStorm) && !stormOk(s.firstRequestStorm))

const stormOk = (r: { keyFetches: number; statusCounts: Readonly<Record<string, number>>; requests: number; socketErrors: number }) =>
  r.keyFetches === 1 && r.statusCounts['200'] === r.requests && r.socketErrors === 0

const mb = (bytes: number) => (bytes / MB).toFixed(1)

export function scaleMarkdown(s: ScaleResults): string {
  const out = ['', '## Scale cases', '', '| case | measured | goal | |', '|---|---|---|---|']
  const err = (name: string, e: { error: string }) => out.push(`| ${name} | error: ${e.error.split('\n')[0]} | | miss |`)
  const k = s.keyCacheMemory
  if (k && 'error' in k) err('key cache, 100,000 domains', k)
  else if (k) {
    const heap = k.heapUsedAfterBytes - k.heapUsedBeforeBytes, rss = k.rssAfterBytes - k.rssBeforeBytes
    const rssChurn = k.rssAfterChurnBytes - k.rssBeforeBytes
    const worst = Math.max(heap, rss, rssChurn)
    const churn = `then ${k.churnLookups.toLocaleString('en-US')} lookups of cold entries: ${k.churnImports.toLocaleString('en-US')} re-imports, ${(k.churnMs * 1000 / k.churnLookups).toFixed(0)} µs each, RSS +${mb(rssChurn)} MB`
    const flood = `; then one identity naming ${k.floodLookups.toLocaleString('en-US')} new key URLs: ${k.floodFetches} fetches, ${k.floodRefusals.toLocaleString('en-US')} refused, ${k.floodEvictions} others evicted, heap ${k.heapUsedAfterFloodBytes >= k.heapUsedAfterBytes ? '+' : '−'}${mb(Math.abs(k.heapUsedAfterFloodBytes - k.heapUsedAfterBytes))} MB`
    out.push(`| key cache, ${k.entries.toLocaleString('en-US')} domains (${k.distinctKeys.toLocaleString('en-US')} distinct P-256 keys, each document parsed on its own; hotKeys ${k.hotKeys.toLocaleString('en-US')}) | heap +${mb(heap)} MB (${mb(k.heapUsedBeforeBytes)} → ${mb(k.heapUsedAfterBytes)}), RSS +${mb(rss)} MB (${mb(k.rssBeforeBytes)} → ${mb(k.rssAfterBytes)}), ${Math.round(k.heapBytesPerEntry)} heap bytes/entry; filled in ${(k.fillMs / 1000).toFixed(1)} s; ${churn}${flood} | ≤ 100 MB more | ${worst <= KEY_CACHE_MAX_EXTRA_BYTES ? 'hit' : 'miss'} |`)
  }
  const f = s.firstRequestStorm
  if (f && 'error' in f) err('1,000 concurrent first requests, one new domain', f)
  else if (f) {
    const statuses = Object.entries(f.statusCounts).map(([c, n]) => `${n} × ${c}`).join(', ') + (f.socketErrors ? `, ${f.socketErrors} socket errors` : '')
    out.push(`| ${f.requests.toLocaleString('en-US')} concurrent first requests from one new domain (${f.connections} connections, gateway in its own process, HTTPS key host) | ${f.keyFetches} key fetch(es); all answered in ${f.allAnsweredMs.toFixed(0)} ms; ${statuses} | 1 fetch, all 200 | ${stormOk(f) ? 'hit' : 'miss'} |`)
  }
  const c = s.coldStart
  if (c && 'error' in c) err('cold start', c)
  else if (c) out.push(`| cold start: spawn \`popgate serve\` → first 200 on a public route (poll every ${c.pollIntervalMs} ms) | median ${c.medianMs.toFixed(0)} ms (runs: ${c.runs.map((x) => x.toFixed(0)).join(', ')} ms) | — | measured |`)
  return out.join('\n') + '\n'
}
