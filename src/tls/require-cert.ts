// `tls.clientCertificates: require`: every request on the TLS listener needs
// a client certificate that chained to `tls.clientCa` (RFC 8446 §4.4.2.4
// lets a server abort the handshake instead; answering at HTTP gives the
// client a problem+json that says why). Wraps the Responder so the refusal
// is an ordinary pipeline refusal: logged on the access line, counted.

import type { IncomingMessage } from 'node:http'
import { GatewayError } from '../errors.js'
import { channelFacts } from '../http/channel.js'
import type { Responder } from '../pipeline/run.js'

/** Throws client_certificate_required / client_certificate_invalid unless the connection carries a chained certificate. */
export function requireClientCertificate(req: IncomingMessage): void {
  const cert = channelFacts(req.socket).clientCert
  if (cert === undefined) throw new GatewayError('client_certificate_required', 'this listener requires a client certificate')
  if (!cert.chained) throw new GatewayError('client_certificate_invalid', `the client certificate was not accepted (${cert.reason})`)
}

/** A Responder whose precheck first asks for the certificate; the rest is the wrapped one's. */
export class CertificateRequired implements Responder {
  constructor(private readonly inner: Responder) {}
  precheck(req: IncomingMessage): void {
    requireClientCertificate(req)
    this.inner.precheck(req)
  }
  forward(...args: Parameters<Responder['forward']>): ReturnType<Responder['forward']> { return this.inner.forward(...args) }
  answer(...args: Parameters<Responder['answer']>): void { this.inner.answer(...args) }
  refuse(...args: Parameters<Responder['refuse']>): void { this.inner.refuse(...args) }
  log(...args: Parameters<Responder['log']>): void { this.inner.log(...args) }
}
