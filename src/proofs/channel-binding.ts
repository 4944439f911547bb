// Channel binding (PROTOCOL.md §5, RFC 9266 tls-exporter): PROTOCOL.md §2.3 step 9.
// `cb` = base64url(exportKeyingMaterial(32, "EXPORTER-Channel-Binding")).
// Defined only on TLS 1.3 here: Node cannot tell whether a TLS 1.2 session
// used Extended Master Secret (RFC 7627), without which the exporter is not
// unique to the connection (REFERENCE.md §5).

import { timingSafeEqual } from 'node:crypto'
import type { Socket } from 'node:net'
import type { TLSSocket } from 'node:tls'
import { GatewayError } from '../errors.js'

const LABEL = 'EXPORTER-Channel-Binding'

/** The connection's tls-exporter value, or undefined when there is none (plain HTTP, TLS ≤ 1.2). */
export function exporterOf(socket: Socket): Buffer | undefined {
  const tls = socket as Partial<TLSSocket>
  if (typeof tls.getProtocol !== 'function' || tls.getProtocol() !== 'TLSv1.3' || typeof tls.exportKeyingMaterial !== 'function') return undefined
  // TLS 1.3: no context and an empty context are the same exporter (RFC 8446 §7.5).
  return tls.exportKeyingMaterial(32, LABEL, Buffer.alloc(0))
}

/**
 * A `cb` that is present must match; a rule that requires binding refuses
 * proofs without one and connections that cannot have one. Returns whether
 * the request is channel-bound.
 */
export function checkChannelBinding(cb: unknown, socket: Socket, required: boolean): boolean {
  if (cb === undefined && !required) return false
  const ekm = exporterOf(socket)
  if (!ekm) throw new GatewayError('channel_binding_unavailable', 'channel binding needs a TLS 1.3 connection terminated by the gateway')
  if (typeof cb !== 'string' || !/^[A-Za-z0-9_-]{43}$/.test(cb)) throw new GatewayError('channel_binding_mismatch', required ? 'this path requires a channel-bound proof' : 'cb must be the base64url tls-exporter value')
  if (!timingSafeEqual(Buffer.from(cb, 'base64url'), ekm)) throw new GatewayError('channel_binding_mismatch', 'cb does not match this TLS connection')
  return true
}
