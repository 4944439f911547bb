// Certificate-bound credentials (RFC 8705 §3): a token whose `cnf` holds
// `x5t#S256` is usable only over a connection whose client certificate has
// that SHA-256 thumbprint: base64url(SHA-256(DER)), 43 characters, no
// padding (RFC 8705 §3.1, RFC 7515 §2 base64url). A hex value (64
// characters, peers' documentation shipped it) is refused, never converted.
// And the identity a client certificate itself stands for (docs/tls.md).
// Pure; scheme-neutral: the token schemes and the client-certificate scheme
// call these.

import { timingSafeEqual } from 'node:crypto'
import { GatewayError } from '../errors.js'
import { isIdentity, type Identity } from '../identity/domain.js'
import type { ClientCertificate } from '../tls/certificate.js'

const X5T_S256 = /^[A-Za-z0-9_-]{43}$/
const HEX_SHA256 = /^[0-9A-Fa-f]{64}$|^(?:[0-9A-Fa-f]{2}:){31}[0-9A-Fa-f]{2}$/

/**
 * RFC 8705 §3: the confirmation `x5t#S256` must name the certificate the
 * client presented. Throws certificate_binding_unavailable (no certificate
 * on this request) or certificate_binding_mismatch.
 */
export function checkCertificateBinding(x5t: unknown, cert: ClientCertificate | undefined): void {
  if (typeof x5t !== 'string' || !X5T_S256.test(x5t)) {
    const hex = typeof x5t === 'string' && HEX_SHA256.test(x5t)
    throw new GatewayError('certificate_binding_mismatch', hex
      ? 'cnf x5t#S256 is hex; RFC 8705 §3.1 requires base64url of the SHA-256 (43 characters)'
      : 'cnf x5t#S256 must be base64url of a SHA-256 (43 characters)')
  }
  if (cert === undefined) throw new GatewayError('certificate_binding_unavailable', 'the token is bound to a client certificate and this request presented none')
  if (!timingSafeEqual(Buffer.from(x5t, 'base64url'), Buffer.from(cert.x5tS256, 'base64url'))) {
    throw new GatewayError('certificate_binding_mismatch', 'the token is bound to another client certificate')
  }
}

/**
 * The identity a client certificate stands for: its first subjectAltName
 * DNS name that is a valid identity (no wildcard: `*.alice.test` names no one
 * domain), only when it chained to the configured CA. The subject CN is never
 * read (RFC 6125 §6.4.4: SAN first, and a CN is no DNS name).
 */
export function certificateIdentity(cert: ClientCertificate): Identity | undefined {
  if (!cert.chained) return undefined
  for (const name of cert.dnsNames) if (isIdentity(name)) return name
  return undefined
}
