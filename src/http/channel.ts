// Channel facts: what the connection itself proves, computed once per
// connection and reused by every request on it (keep-alive, pipelining).
//   - the TLS version
//   - the RFC 9266 tls-exporter value, TLS 1.3 only: Node cannot tell whether
//     a TLS 1.2 session used Extended Master Secret (RFC 7627), without which
//     the exporter is not unique to the connection (REFERENCE.md §5)
//   - the client certificate, when the client presented one on the socket
//     (tls.clientCertificates request|require): DER, RFC 8705 §3.1 x5t#S256,
//     whether it chained to tls.clientCa and why not, SAN DNS names, subject
//     (tls/certificate.ts). One that came in an RFC 9440 `Client-Cert`
//     header is per request, not per connection: tls/client-cert-header.ts.
// Computed lazily: most requests never ask.
//
// HTTP/2: `req.socket` is a per-stream proxy of the connection's TLSSocket,
// so these are cached per stream there, not per connection (each value is
// still the connection's: the proxy forwards to the one socket).

import type { Socket } from 'node:net'
import type { TLSSocket } from 'node:tls'
import { describeCertificate, type ClientCertificate } from '../tls/certificate.js'

export interface ChannelFacts {
  /** 'TLSv1.3', 'TLSv1.2', … or undefined for plain HTTP. */
  readonly tlsVersion: string | undefined
  /** 32-byte `EXPORTER-Channel-Binding` value, or undefined (plain HTTP, TLS ≤ 1.2). */
  readonly exporter: Buffer | undefined
  /** base64url SHA-256 of the client certificate's DER, or undefined. */
  readonly clientCertSha256: string | undefined
  /** The certificate the client presented on this connection, or undefined. */
  readonly clientCert: ClientCertificate | undefined
}

const EXPORTER_LABEL = 'EXPORTER-Channel-Binding'
const PLAIN: ChannelFacts = Object.freeze({ tlsVersion: undefined, exporter: undefined, clientCertSha256: undefined, clientCert: undefined })
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
  #cert: ClientCertificate | undefined | null = null
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
    return this.clientCert?.x5tS256
  }

  get clientCert(): ClientCertificate | undefined {
    if (this.#cert === null) {
      const peer = this.socket.getPeerX509Certificate?.()
      // `authorized`: OpenSSL verified the chain against tls.clientCa (requestCert with rejectUnauthorized false).
      const authorized = this.socket.authorized === true
      this.#cert = peer === undefined ? undefined
        : describeCertificate(peer, 'socket', { chained: authorized, reason: authorized ? undefined : String(this.socket.authorizationError ?? 'NO_CLIENT_CA') })
    }
    return this.#cert
  }
}
