// Which IP addresses a key fetch may connect to (PROTOCOL.md §2.4). Pure.
//
// A key URL is chosen by whoever signs a proof, so the address it resolves to
// is attacker-chosen: without this check the gateway becomes an SSRF proxy
// into its own network (RFC 8725 §3.10: "blindly following jku ... can lead
// to SSRF"). IPv4 is checked against a blocklist of special-purpose ranges
// (RFC 6890 and the IANA special-purpose registry). IPv6 is checked against an
// allowlist: only global unicast 2000::/3 (RFC 4291 §2.4) minus its special
// blocks; every form that embeds an IPv4 address (mapped, translated, NAT64,
// 6to4) is judged by the IPv4 address inside it, so `::ffff:127.0.0.1` is
// loopback, not "some IPv6 address".

import { isIPv4, isIPv6 } from 'node:net'

interface Range { readonly bytes: readonly number[]; readonly prefixBits: number; readonly reason: string }

const V4_RANGES: readonly Range[] = [
  range4('0.0.0.0/8', 'unspecified (this network, RFC 791)'),
  range4('10.0.0.0/8', 'private (RFC 1918)'),
  range4('100.64.0.0/10', 'shared address space / CGNAT (RFC 6598)'),
  range4('127.0.0.0/8', 'loopback'),
  range4('169.254.0.0/16', 'link-local (cloud metadata lives here)'),
  range4('172.16.0.0/12', 'private (RFC 1918)'),
  range4('192.0.0.0/24', 'IETF protocol assignments (RFC 6890)'),
  range4('192.0.2.0/24', 'documentation (RFC 5737)'),
  range4('192.88.99.0/24', '6to4 relay anycast (RFC 7526)'),
  range4('192.168.0.0/16', 'private (RFC 1918)'),
  range4('198.18.0.0/15', 'benchmarking (RFC 2544)'),
  range4('198.51.100.0/24', 'documentation (RFC 5737)'),
  range4('203.0.113.0/24', 'documentation (RFC 5737)'),
  range4('224.0.0.0/4', 'multicast'),
  range4('255.255.255.255/32', 'broadcast'),
  range4('240.0.0.0/4', 'reserved (RFC 1112)'),
]

/** IPv6 blocks that carry an IPv4 address; the IPv4 address decides. */
const V6_EMBEDDING: readonly (Range & { readonly v4Offset: number })[] = [
  { ...range6('::ffff:0:0/96', 'IPv4-mapped'), v4Offset: 12 },
  { ...range6('::ffff:0:0:0/96', 'IPv4-translated (RFC 2765)'), v4Offset: 12 },
  { ...range6('64:ff9b::/96', 'NAT64 (RFC 6052)'), v4Offset: 12 },
  { ...range6('2002::/16', '6to4 (RFC 3056)'), v4Offset: 2 },
]

const V6_RANGES: readonly Range[] = [
  range6('::/128', 'unspecified'),
  range6('::1/128', 'loopback'),
  range6('::/96', 'IPv4-compatible (deprecated, RFC 4291 §2.5.5.1)'),
  range6('64:ff9b:1::/48', 'local-use NAT64 (RFC 8215)'),
  range6('100::/64', 'discard-only (RFC 6666)'),
  range6('2001:db8::/32', 'documentation (RFC 3849)'),
  range6('2001::/23', 'IETF protocol assignments: Teredo, benchmarking, ORCHID (RFC 2928)'),
  range6('3fff::/20', 'documentation (RFC 9637)'),
  range6('fc00::/7', 'unique local (private, RFC 4193)'),
  range6('fe80::/10', 'link-local'),
  range6('fec0::/10', 'site-local (deprecated)'),
  range6('ff00::/8', 'multicast'),
]

const GLOBAL_UNICAST = range6('2000::/3', 'global unicast')

/**
 * Why `address` must not be connected to, or undefined when it may be.
 * Anything that is not a textual IPv4/IPv6 address is refused. An IPv6 zone
 * index (`fe80::1%eth0`) is ignored for classification.
 */
export function addressBlockReason(address: string): string | undefined {
  const v4 = parseIPv4(address)
  if (v4) return v4Reason(v4)
  const v6 = parseIPv6(address)
  if (!v6) return 'not an IP address'
  for (const r of V6_EMBEDDING) {
    if (matches(v6, r)) {
      const inner = v4Reason(v6.slice(r.v4Offset, r.v4Offset + 4))
      return inner === undefined ? undefined : `${r.reason} ${inner}`
    }
  }
  for (const r of V6_RANGES) if (matches(v6, r)) return r.reason
  if (!matches(v6, GLOBAL_UNICAST)) return 'not IPv6 global unicast (outside 2000::/3)'
  return undefined
}

export const isBlockedAddress = (address: string): boolean => addressBlockReason(address) !== undefined

function v4Reason(bytes: readonly number[]): string | undefined {
  for (const r of V4_RANGES) if (matches(bytes, r)) return r.reason
  return undefined
}

function matches(bytes: readonly number[], r: Range): boolean {
  let bits = r.prefixBits
  for (let i = 0; bits > 0; i++, bits -= 8) {
    const mask = bits >= 8 ? 0xff : (0xff << (8 - bits)) & 0xff
    if ((bytes[i]! & mask) !== (r.bytes[i]! & mask)) return false
  }
  return true
}

/** Dotted-quad only (node:net's strict form: no `127.1`, no octal `010.0.0.1`). */
export function parseIPv4(text: string): number[] | undefined {
  if (!isIPv4(text)) return undefined
  return text.split('.').map(Number)
}

/** 16 bytes, or undefined. Accepts `::`, an embedded dotted quad and a zone index. */
export function parseIPv6(text: string): number[] | undefined {
  const zone = text.indexOf('%')
  const bare = zone === -1 ? text : text.slice(0, zone)
  if (!isIPv6(bare)) return undefined
  let groupsText = bare
  const lastColon = bare.lastIndexOf(':')
  const tail = bare.slice(lastColon + 1)
  if (tail.includes('.')) {
    const q = parseIPv4(tail)
    if (!q) return undefined
    groupsText = bare.slice(0, lastColon + 1) + ((q[0]! << 8) | q[1]!).toString(16) + ':' + ((q[2]! << 8) | q[3]!).toString(16)
  }
  const [left, right] = groupsText.split('::') as [string, string | undefined]
  const head = left === '' ? [] : left.split(':')
  const rest = right === undefined ? [] : right === '' ? [] : right.split(':')
  const fill = right === undefined ? 0 : 8 - head.length - rest.length
  const groups = [...head, ...Array<string>(fill).fill('0'), ...rest]
  if (groups.length !== 8) return undefined
  return groups.flatMap((g) => { const n = parseInt(g, 16); return [n >> 8, n & 0xff] })
}

function range4(cidr: string, reason: string): Range {
  const [ip, bits] = cidr.split('/') as [string, string]
  return { bytes: parseIPv4(ip)!, prefixBits: Number(bits), reason }
}

function range6(cidr: string, reason: string): Range {
  const [ip, bits] = cidr.split('/') as [string, string]
  return { bytes: parseIPv6(ip)!, prefixBits: Number(bits), reason }
}
