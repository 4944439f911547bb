// The client-certificate scheme (docs/tls.md, "Client certificates as
// identities"): the TLS client certificate, or the one a trusted hop sent in
// an RFC 9440 `Client-Cert` field, is the credential.
//   parse  — no I/O: the certificate must have chained to `tls.clientCa` (or
//            `forwardedClientCert.ca`) and be in its validity period
//            (client_certificate_invalid, with OpenSSL's reason), and one of
//            its subjectAltName DNS names must be a valid identity
//            (client_certificate_no_identity): the first such name is the
//            identity the ACL is asked about, like any other identity
//   verify — nothing left to check: possession of the key was proven by the
//            TLS handshake itself (RFC 8446 §4.4.3 CertificateVerify, or the
//            hop's handshake for a forwarded certificate), so there is no
//            per-request proof to replay
// Ambient: the certificate counts only when the request carries no explicit
// credential (schemes/registry.ts); a DomainPoP or DPoP proof sent over an
// mTLS connection is that scheme's request. No challenge: no HTTP
// authentication scheme fixes a missing certificate (the TLS handshake does).

import { GatewayError } from '../../errors.js'
import { certificateIdentity } from '../../proofs/certificate-binding.js'
import type { ClientCertificate } from '../../tls/certificate.js'
import type { Claim, Principal, Scheme } from '../types.js'

export const MTLS_SCHEME = 'mtls'

export interface MtlsClaim extends Claim { readonly certificate: ClientCertificate }

const CERTIFICATE_BOUND: ReadonlySet<'certificate-bound'> = new Set(['certificate-bound'])

export function createMtlsScheme(): Scheme<MtlsClaim> {
  return {
    name: MTLS_SCHEME,
    authScheme: undefined,
    fields: [],
    ambient: { clientCertificate: true },

    parse(credentials) {
      const cert = credentials.clientCertificate
      if (cert === undefined) throw new GatewayError('credentials_missing', 'credentials are required')
      // RFC 8446 §4.4.2.4 leaves an unverifiable certificate to the server: here it is never an identity.
      if (!cert.chained) throw new GatewayError('client_certificate_invalid', `the client certificate was not accepted (${cert.reason ?? 'not verified'})`)
      const identity = certificateIdentity(cert)
      if (identity === undefined) throw new GatewayError('client_certificate_no_identity', 'the client certificate names no identity in a subjectAltName DNS entry')
      return { identity, certificate: cert }
    },

    async verify({ identity, certificate }): Promise<Principal> {
      return {
        identity,
        method: MTLS_SCHEME,
        // RFC 8705 §3.1: the certificate's confirmation is its x5t#S256.
        thumbprint: certificate.x5tS256,
        confirmation: { 'x5t#S256': certificate.x5tS256 },
        channelBound: false,
        assurances: CERTIFICATE_BOUND,
        certificate,
        token: undefined,
        responseHeaders: undefined,
      }
    },

    challenge() {
      return { field: undefined }
    },
  }
}
