// Checks for what the upstream sees of a request's head: `upstreamHost`
// (the Host it gets) and `identityHeaders.strip` entries (names it never gets).

import { isValidHost } from '../../http/host.js'
import { describe, refine, str, type Check } from '../readers.js'

/** `client`, `upstream`, or a fixed host[:port] under the same rule as a client's Host (http/host.ts). */
export type UpstreamHost = 'client' | 'upstream' | { readonly literal: string }

export const upstreamHost: Check<UpstreamHost> = refine(str, (v): { readonly value: UpstreamHost } | string => {
  if (v === 'client' || v === 'upstream') return { value: v }
  if (!isValidHost(v)) return `must be client, upstream, or a host[:port] such as api.internal:8080; got ${describe(v)}`
  return { value: { literal: v } }
})

/** Fields the request cannot do without: a strip entry may not name them. */
const NEEDED = ['host', 'content-length', 'transfer-encoding', 'connection', 'upgrade', 'content-type']

/** A header-name token (RFC 9110 §5.6.2), or one followed by `*` for a prefix. */
export const stripEntry: Check<string> = refine(str, (v) => {
  const prefix = v.endsWith('*')
  const name = prefix ? v.slice(0, -1) : v
  if (!/^[!#$%&'+.^_`|~0-9A-Za-z-]+$/.test(name)) return `must be a header name, or a prefix ending in "*" (e.g. X-Corp-Sso-*); got ${describe(v)}`
  const key = name.toLowerCase().replaceAll('_', '-')
  const hit = NEEDED.find((n) => (prefix ? n.startsWith(key) : n === key))
  if (hit !== undefined) return `would strip ${hit}, which the request needs`
  return { value: v }
})
