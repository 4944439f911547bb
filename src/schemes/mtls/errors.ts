// The client-certificate scheme's own codes (docs/tls.md), registered with
// the gateway's through src/schemes/errors.ts. Plain data: src/errors.ts
// builds its registry from it, so this file imports nothing.

export const MTLS_ERRORS = {
  // A certificate that chained to the CA but names no identity in a SAN DNS
  // entry (a wildcard, an IP address, a CN only): no ACL rule can be asked about it.
  client_certificate_no_identity: { status: 403, title: 'Forbidden', authError: undefined },
} as const
