// Channel binding (PROTOCOL.md §5, RFC 9266 tls-exporter): PROTOCOL.md §2.3 step 9.
// `cb` = base64url(exportKeyingMaterial(32, "EXPORTER-Channel-Binding")),
// the connection's value coming from http/channel.ts (TLS 1.3 only). Pure.

import { timingSafeEqual } from 'node:crypto'
import { GatewayError } from '../errors.js'

const UNAVAILABLE = 'channel binding needs a TLS 1.3 connection terminated by the gateway'
const CB = /^[A-Za-z0-9_-]{43}$/

/** A `cb` that is present must match the connection's exporter value. Returns whether the proof is channel-bound. */
export function checkChannelBinding(cb: unknown, exporter: Buffer | undefined): boolean {
  if (cb === undefined) return false
  if (!exporter) throw new GatewayError('channel_binding_unavailable', UNAVAILABLE)
  if (typeof cb !== 'string' || !CB.test(cb)) throw new GatewayError('channel_binding_mismatch', 'cb must be the base64url tls-exporter value')
  if (!timingSafeEqual(Buffer.from(cb, 'base64url'), exporter)) throw new GatewayError('channel_binding_mismatch', 'cb does not match this TLS connection')
  return true
}

/** A rule with `channelBinding: required` refuses a principal that is not channel-bound (PROTOCOL.md §5). */
export function requireChannelBinding(channelBound: boolean, exporter: Buffer | undefined): void {
  if (channelBound) return
  if (!exporter) throw new GatewayError('channel_binding_unavailable', UNAVAILABLE)
  throw new GatewayError('channel_binding_mismatch', 'this path requires a channel-bound proof')
}
