// Channel facts: what the connection itself proves, computed once per
// connection and reused by every request on it (keep-alive, pipelining).
//   - the TLS version
//   - the RFC 9266 tls-exporter value, TLS 1.3 only: Node cannot tell whether
//     a TLS 1.2 session used Extended Master Secret (RFC 7627), without which
//     the exporter is not unique to the connection (REFERENCE.md §5)
//   - the SHA-256 of the client certificate (RFC 8705 §3.1 x5t#S256), when
//     the client presented one
// Computed lazily: most requests never ask.

import { createHash } from 'node:crypto'
import type { Socket } from 'node:net'
import type { TLSSocket } from 'node:tls'

export interface ChannelFacts {
  /** 'TLSv1.3', 'TLSv1.2', … or undefined for plain HTTP. */
  readonly tlsVersion: string | undefined
  /** 32-byte `EXPORTER-Channel-Binding` value, or undefined (plain HTTP, TLS ≤ 1.2). */
  readonly exporter: Buffer | undefined
  /** base64url SHA-256 of the client certificate's DER, or undefined. */
  readonly clientCertSha256: string | undefined
}

const EXPORTER_LABEL = 'EXPORTER-Channel-Binding'
const PLAIN: ChannelFacts = Object.freeze({ tlsVersion: undefined, exporter: undefined, clientCertSha256: undefined })
const byConnection = new WeakMap<Socket, ChannelFacts>()

export function channelFacts(socket: Socket): ChannelFacts {
  const tls = socket as Partial<TLSSocket>
  if (typeof tls.getProtocol !== 'function') return PLAIN
  let facts = byConnection.get(socket)
  if (facts === undefined) {
    facts = new TlsFacts(socket as TLSSocket)
    byConnection.set(socket, facts)
  }
  return facts
}

class TlsFacts implements ChannelFacts {
  #exporter: Buffer | undefined | null = null
  #cert: string | undefined | null = null
  readonly tlsVersion: string | undefined
  constructor(private readonly socket: TLSSocket) {
    this.tlsVersion = socket.getProtocol() ?? undefined
  }

  get exporter(): Buffer | undefined {
    if (this.#exporter === null) {
      // TLS 1.3: no context and an empty context are the same exporter (RFC 8446 §7.5).
      this.#exporter = this.tlsVersion === 'TLSv1.3' && typeof this.socket.exportKeyingMaterial === 'function'
        ? this.socket.exportKeyingMaterial(32, EXPORTER_LABEL, Buffer.alloc(0))
        : undefined
    }
    return this.#exporter
  }

  get clientCertSha256(): string | undefined {
    if (this.#cert === null) {
      const raw = this.socket.getPeerCertificate?.()?.raw
      this.#cert = raw && raw.length > 0 ? createHash('sha256').update(raw).digest('base64url') : undefined
    }
    return this.#cert
  }
}
