// Who is asking: the socket peer, or — only when that peer is a configured
// trusted proxy — the address it appended to X-Forwarded-For. Used by the
// abuse limits and by the forwarding headers.

import { BlockList, isIP } from 'node:net'
import type { IncomingMessage } from 'node:http'

/** `trustedProxies` (IP literals and CIDRs, already validated) as one BlockList; undefined when empty. */
export function compileTrustedProxies(entries: readonly string[]): BlockList | undefined {
  if (entries.length === 0) return undefined
  const list = new BlockList()
  for (const entry of entries) {
    const [addr, bits] = entry.split('/')
    const family = isIP(addr!) === 6 ? 'ipv6' : 'ipv4'
    if (bits === undefined) list.addAddress(addr!, family)
    else list.addSubnet(addr!, Number(bits), family)
  }
  return list
}

export function isTrustedPeer(trusted: BlockList | undefined, address: string | undefined): boolean {
  if (!trusted || !address) return false
  const v6 = address.includes(':')
  if (v6 && address.startsWith('::ffff:') && isIP(address.slice(7)) === 4) return trusted.check(address.slice(7), 'ipv4')
  return trusted.check(address, v6 ? 'ipv6' : 'ipv4')
}

/** The client's address: the socket peer, or the address a trusted proxy appended to X-Forwarded-For. */
export function clientAddress(req: IncomingMessage, trusted: BlockList | undefined, peerAddress: string | undefined = req.socket.remoteAddress): string {
  const peer = peerAddress ?? 'unknown'
  if (!isTrustedPeer(trusted, peer)) return peer
  const xff = req.headers['x-forwarded-for']
  const last = (Array.isArray(xff) ? xff.join(',') : xff ?? '').split(',').pop()?.trim()
  return last || peer
}
