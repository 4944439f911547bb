// The client-certificate folder's module (schemes/module.ts). No section of
// its own: it is on whenever a client certificate can reach the gate, that
// is when the TLS listener asks for one (`tls.clientCertificates: request`
// or `require`, with `tls.clientCa`) or a trusted hop may forward one
// (`forwardedClientCert`). A certificate is still only an identity the ACL
// names (docs/tls.md).

import type { SchemeModule } from '../module.js'
import { createMtlsScheme, MTLS_SCHEME } from './index.js'

export const mtlsModule: SchemeModule<undefined> = {
  name: MTLS_SCHEME,
  // The certificate is not a request field; Client-Cert is stripped by the default strip list (proxy/identity-strip.ts).
  credentialFields: [],

  async build(_cfg, shared) {
    const tls = shared.config.tls
    const fromSocket = tls !== undefined && tls.clientCertificates !== 'none'
    if (!fromSocket && shared.config.forwardedClientCert === undefined) return { schemes: [] }
    return { schemes: [createMtlsScheme()] }
  },
}
