// RFC 9440 `Client-Cert`: the client certificate a TLS-terminating load
// balancer saw, for a gateway that does not terminate TLS itself. Believed
// only from a `trustedProxies` peer and only when `forwardedClientCert` is
// configured; from anyone else it is ignored here and stripped before the
// upstream (proxy/identity-strip.ts). A header from a trusted hop is checked
// against `forwardedClientCert.ca` like a socket certificate against
// `tls.clientCa` (RFC 9440 §4: the gateway must not assume the hop verified it).

import { X509Certificate } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { GatewayError } from '../errors.js'
import { describeCertificate, verifyIssuedBy, type ClientCertificate } from './certificate.js'

/** A 4 KiB DER certificate is ~5.5 KiB of base64; 16 KiB leaves room for RSA-4096 and long SAN lists. */
export const MAX_CLIENT_CERT_FIELD = 16 * 1024

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/

/**
 * RFC 9440 §2.2: the field is an RFC 8941 Byte Sequence (§3.3.5),
 * `:` base64 `:` (standard alphabet, padding allowed), holding the DER of
 * one certificate. Parameters are not defined for it; a list is not a
 * certificate. Throws client_cert_header_invalid.
 */
export function parseClientCertField(value: string): X509Certificate {
  const v = value.trim()
  if (v.length > MAX_CLIENT_CERT_FIELD) throw new GatewayError('client_cert_header_invalid', `Client-Cert is larger than ${MAX_CLIENT_CERT_FIELD} bytes`)
  if (v.length < 3 || v[0] !== ':' || v[v.length - 1] !== ':') throw new GatewayError('client_cert_header_invalid', 'Client-Cert must be a structured-field byte sequence (:base64:)')
  const b64 = v.slice(1, -1)
  if (!BASE64.test(b64) || b64.length % 4 === 1) throw new GatewayError('client_cert_header_invalid', 'Client-Cert is not valid base64')
  try {
    return new X509Certificate(Buffer.from(b64, 'base64'))
  } catch {
    throw new GatewayError('client_cert_header_invalid', 'Client-Cert does not hold a DER X.509 certificate')
  }
}

/** The CA bundle certificates forwarded ones must be issued by. Throws with a message naming the file. */
export function loadCaBundle(file: string): X509Certificate[] {
  const pem = readFileSync(file, 'latin1')
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? []
  if (blocks.length === 0) throw new Error(`${file}: holds no PEM certificate`)
  return blocks.map((b) => new X509Certificate(b))
}

/**
 * The certificate of a `Client-Cert` field from a trusted hop: parsed and
 * checked against `cas`. `values` are every Client-Cert field of the
 * request; more than one is refused (RFC 9440 §2.2 defines one certificate).
 */
export function forwardedCertificate(values: readonly string[], cas: readonly X509Certificate[], nowMs: number): ClientCertificate | undefined {
  if (values.length === 0) return undefined
  if (values.length > 1) throw new GatewayError('client_cert_header_invalid', 'more than one Client-Cert field')
  const cert = parseClientCertField(values[0]!)
  return describeCertificate(cert, 'header', verifyIssuedBy(cert, cas, nowMs))
}

/** Where a request's client certificate may come from besides its own socket. */
export interface ForwardedCertPolicy {
  /** Is the socket peer a trusted hop (`trustedProxies`)? */
  readonly isTrustedPeer: (address: string | undefined) => boolean
  readonly cas: readonly X509Certificate[]
}

/**
 * The request's client certificate and the path it came by. From a trusted
 * hop, when `forwardedClientCert` is configured, the `Client-Cert` field or
 * nothing: that peer's own socket certificate (a load balancer re-encrypting
 * with its own certificate) is never the client's. From anyone else, the
 * socket's certificate; their `Client-Cert` is ignored (and stripped before
 * the upstream).
 */
export function requestClientCertificate(rawHeaders: readonly string[], peer: string | undefined, socketCert: ClientCertificate | undefined, policy: ForwardedCertPolicy | undefined, nowMs: number): ClientCertificate | undefined {
  if (policy === undefined || !policy.isTrustedPeer(peer)) return socketCert
  const values: string[] = []
  for (let i = 0; i < rawHeaders.length; i += 2) if (rawHeaders[i]!.length === 11 && rawHeaders[i]!.toLowerCase() === 'client-cert') values.push(rawHeaders[i + 1]!)
  return forwardedCertificate(values, policy.cas, nowMs)
}
