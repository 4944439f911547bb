// How long a fetched key document stays cached (PROTOCOL.md §2.4). Pure.
//
// The key host's own caching headers decide (RFC 9111 §4.2.1), then the
// result is clamped to [cacheMinTtlMs, cacheMaxTtlMs]: the minimum keeps a
// host that says `no-store` from making us fetch on every request (the
// kid-miss refetch covers key rotation), the maximum bounds how long a
// revoked key keeps working.

import type { ResponseHeaders } from './types.js'

/**
 * The freshness lifetime the response asks for, in ms, or undefined when it
 * says nothing. Order (RFC 9111 §4.2.1): no-store/no-cache → 0; max-age;
 * s-maxage; Expires − Date. Age (§5.1) is subtracted.
 */
export function freshnessLifetimeMs(headers: ResponseHeaders, nowMs: number): number | undefined {
  const directives = parseCacheControl(headers['cache-control'])
  if (directives.has('no-store') || directives.has('no-cache')) return 0
  const ageMs = deltaSeconds(single(headers.age)) ?? 0
  const maxAge = deltaSeconds(directives.get('max-age')) ?? deltaSeconds(directives.get('s-maxage'))
  if (maxAge !== undefined) return Math.max(0, maxAge - ageMs)
  const expires = single(headers.expires)
  if (expires !== undefined) {
    const expiresMs = Date.parse(expires)
    // RFC 9111 §5.3: an invalid Expires (e.g. "0") means "already expired".
    if (Number.isNaN(expiresMs)) return 0
    const dateMs = Date.parse(single(headers.date) ?? '')
    const baseMs = Number.isNaN(dateMs) ? nowMs : dateMs
    return Math.max(0, expiresMs - baseMs - ageMs)
  }
  return undefined
}

/** The TTL to cache a document for: its freshness lifetime clamped to [minMs, maxMs]; minMs when it says nothing. */
export function cacheTtlMs(headers: ResponseHeaders, nowMs: number, minMs: number, maxMs: number): number {
  const lifetime = freshnessLifetimeMs(headers, nowMs) ?? minMs
  return Math.min(maxMs, Math.max(minMs, lifetime))
}

/** Directive name (lowercased) → argument ('' when none). Unknown directives are kept and ignored. */
export function parseCacheControl(value: string | string[] | undefined): Map<string, string> {
  const out = new Map<string, string>()
  if (value === undefined) return out
  const text = Array.isArray(value) ? value.join(',') : value
  for (const part of text.split(',')) {
    const eq = part.indexOf('=')
    const name = (eq === -1 ? part : part.slice(0, eq)).trim().toLowerCase()
    if (name === '') continue
    let arg = eq === -1 ? '' : part.slice(eq + 1).trim()
    if (arg.length >= 2 && arg.startsWith('"') && arg.endsWith('"')) arg = arg.slice(1, -1)
    // A duplicated directive makes the response invalid (RFC 9111 §4.2.1);
    // taking the smaller number is the conservative reading.
    const prev = out.get(name)
    if (prev !== undefined && /^[0-9]+$/.test(prev) && /^[0-9]+$/.test(arg)) arg = String(Math.min(Number(prev), Number(arg)))
    out.set(name, arg)
  }
  return out
}

/** RFC 9111 §1.2.2 delta-seconds → ms; undefined when absent or malformed. Huge values saturate. */
function deltaSeconds(text: string | undefined): number | undefined {
  if (text === undefined || !/^[0-9]+$/.test(text)) return undefined
  return Math.min(Number(text), 2 ** 31) * 1000
}

function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value
}
