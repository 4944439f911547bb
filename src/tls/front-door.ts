// Checks the front door makes before the pipeline sees a request, as a
// Responder wrapper so a refusal is an ordinary pipeline refusal (logged on
// the access line, counted):
//
//   - `tls.clientCertificates: require`: the TLS connection must carry a
//     client certificate that chained to `tls.clientCa` (RFC 8446 §4.4.2.4
//     lets a server abort the handshake instead; answering at HTTP tells the
//     client why): 403 client_certificate_required / client_certificate_invalid;
//   - `forwardedClientCert`: a `trustedProxies` peer's RFC 9440 Client-Cert
//     is read once here (400 client_cert_header_invalid when malformed) and
//     kept for the request (`forwardedCertificateOf`); nobody else's is read.

import type { IncomingMessage } from 'node:http'
import type { X509Certificate } from 'node:crypto'
import { GatewayError } from '../errors.js'
import { channelFacts, type ChannelFacts } from '../http/channel.js'
import type { Responder } from '../pipeline/run.js'
import type { GatewayState, StateHolder } from '../assembly/state.js'
import { isTrustedPeer } from '../http/client-address.js'
import type { ClientCertificate } from './certificate.js'
import { loadCaBundle, requestClientCertificate, type ForwardedCertPolicy } from './client-cert-header.js'

/** Throws client_certificate_required / client_certificate_invalid unless the connection carries a chained certificate. */
export function requireClientCertificate(req: IncomingMessage): void {
  const cert = channelFacts(req.socket).clientCert
  if (cert === undefined) throw new GatewayError('client_certificate_required', 'this listener requires a client certificate')
  if (!cert.chained) throw new GatewayError('client_certificate_invalid', `the client certificate was not accepted (${cert.reason})`)
}

const forwarded = new WeakMap<IncomingMessage, ClientCertificate>()
/** Requests from a trusted hop with `forwardedClientCert` on: their certificate is the header's or none, never the hop's own socket certificate. */
const fromHop = new WeakSet<IncomingMessage>()

/** The certificate a trusted hop forwarded for this request (read by the front door), if any. */
export function forwardedCertificateOf(req: IncomingMessage): ClientCertificate | undefined {
  return forwarded.get(req)
}

/** Reads a trusted hop's Client-Cert into `forwardedCertificateOf`; throws client_cert_header_invalid. */
export function readForwardedCertificate(req: IncomingMessage, policy: ForwardedCertPolicy, nowMs: number): void {
  if (!policy.isTrustedPeer(req.socket.remoteAddress)) return
  fromHop.add(req)
  const cert = requestClientCertificate(req.rawHeaders, req.socket.remoteAddress, undefined, policy, nowMs)
  if (cert !== undefined) forwarded.set(req, cert)
}

/** The CA bundle of `forwardedClientCert.ca`, read once per file content seen (a reload may change it). */
export function forwardedPolicy(caFile: string, isTrustedPeer: (a: string | undefined) => boolean): ForwardedCertPolicy {
  let cas: X509Certificate[]
  try { cas = loadCaBundle(caFile) } catch { cas = [] } // unreadable: nothing chains (fail closed); `check`/`serve` refuse it at start
  return { isTrustedPeer, cas }
}

/** A Responder whose precheck runs `check` first; the rest is the wrapped one's. */
export class FrontDoor implements Responder {
  constructor(private readonly inner: Responder, private readonly check: (req: IncomingMessage) => void) {}
  precheck(req: IncomingMessage): void {
    this.check(req)
    this.inner.precheck(req)
  }
  forward(...args: Parameters<Responder['forward']>): ReturnType<Responder['forward']> { return this.inner.forward(...args) }
  cors(...args: Parameters<Responder['cors']>): void { this.inner.cors(...args) }
  preflight(...args: Parameters<Responder['preflight']>): void { this.inner.preflight(...args) }
  answer(...args: Parameters<Responder['answer']>): void { this.inner.answer(...args) }
  refuse(...args: Parameters<Responder['refuse']>): void { this.inner.refuse(...args) }
  log(...args: Parameters<Responder['log']>): void { this.inner.log(...args) }
}

/**
 * The channel facts a request's schemes see: the connection's, with the
 * client certificate a trusted hop forwarded for this request in place of
 * the socket's (from that hop, the socket certificate is the hop's own).
 */
export function requestChannel(req: IncomingMessage): ChannelFacts {
  const facts = channelFacts(req.socket)
  if (!fromHop.has(req)) return facts
  // A load balancer re-encrypting to this listener with its own certificate is not the client (RFC 9440 §4).
  const fwd = forwarded.get(req)
  return { tlsVersion: facts.tlsVersion, exporter: facts.exporter, clientCert: fwd, clientCertSha256: fwd?.x5tS256 }
}

/**
 * Wraps a listener's Responder in the checks its config asks for (none: the
 * Responder itself, no allocation). The forwarded-certificate policy is
 * built once per state (a reload may change the CA or the trusted hops).
 */
export function createFrontDoor(holder: StateHolder, requireCert: boolean): (out: Responder, tls: boolean) => Responder {
  const policies = new WeakMap<GatewayState, ForwardedCertPolicy | null>()
  const policyOf = (st: GatewayState): ForwardedCertPolicy | undefined => {
    let p = policies.get(st)
    if (p === undefined) {
      const f = st.config.forwardedClientCert
      p = f === undefined ? null : forwardedPolicy(f.caFile, (a) => isTrustedPeer(st.headers.trusted, a))
      policies.set(st, p)
    }
    return p ?? undefined
  }
  const plainCheck = (req: IncomingMessage): void => {
    const st = holder.current, p = policyOf(st)
    if (p !== undefined) readForwardedCertificate(req, p, st.now())
  }
  const tlsCheck = (req: IncomingMessage): void => {
    if (requireCert) requireClientCertificate(req)
    plainCheck(req)
  }
  return (out, tls) => (tls && requireCert) || holder.current.config.forwardedClientCert !== undefined ? new FrontDoor(out, tls ? tlsCheck : plainCheck) : out
}
