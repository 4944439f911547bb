// What a client certificate says, in the form every consumer uses: the DER,
// its RFC 8705 §3.1 `x5t#S256` (base64url SHA-256 of the DER, 43
// characters: never hex, never a colon-separated fingerprint), whether it
// chained to the configured CA and why not, its SAN DNS names and subject,
// and where it came from (the TLS socket, or an RFC 9440 `Client-Cert`
// header from a trusted hop). Pure; no I/O.

import { createHash, type X509Certificate } from 'node:crypto'

export type CertificateSource = 'socket' | 'header'

export interface ClientCertificate {
  readonly der: Buffer
  /** RFC 8705 §3.1: base64url(SHA-256(DER)), 43 characters. */
  readonly x5tS256: string
  /** Chained to a configured client CA, inside its validity period. */
  readonly chained: boolean
  /** Why not chained: an OpenSSL verify code (`CERT_HAS_EXPIRED`, `UNABLE_TO_VERIFY_LEAF_SIGNATURE`, …) or `NO_CLIENT_CA`. */
  readonly reason: string | undefined
  /** subjectAltName dNSName entries, lowercased, as written (wildcards included). */
  readonly dnsNames: readonly string[]
  /** The subject distinguished name, one line (`CN=alice.test, O=Alice`). */
  readonly subject: string
  readonly source: CertificateSource
}

export interface ChainVerdict { readonly chained: boolean; readonly reason: string | undefined }

export function describeCertificate(cert: X509Certificate, source: CertificateSource, verdict: ChainVerdict): ClientCertificate {
  const der = cert.raw
  return {
    der,
    x5tS256: createHash('sha256').update(der).digest('base64url'),
    chained: verdict.chained,
    reason: verdict.chained ? undefined : verdict.reason,
    dnsNames: sanDnsNames(cert.subjectAltName),
    subject: oneLine(cert.subject),
    source,
  }
}

/**
 * The dNSName entries of Node's subjectAltName text (`DNS:a.test, DNS:b.test,
 * IP Address:…`). Node JSON-quotes an entry that holds `,` or `"` (since
 * Node 17, CVE-2021-44532), so a name cannot smuggle a second entry in.
 */
export function sanDnsNames(subjectAltName: string | undefined): string[] {
  if (!subjectAltName) return []
  const names: string[] = []
  const entry = /(?:^|, )([A-Za-z ]+):("(?:[^"\\]|\\.)*"|[^,]*)/g
  for (let m = entry.exec(subjectAltName); m !== null; m = entry.exec(subjectAltName)) {
    if (m[1] !== 'DNS') continue
    const raw = m[2]!
    let value: string
    try { value = raw.startsWith('"') ? JSON.parse(raw) as string : raw } catch { continue }
    names.push(value.toLowerCase())
  }
  return names
}

/** Node writes one RDN per line; headers and logs need one line. Control characters become `?`. */
function oneLine(dn: string): string {
  return dn.split('\n').join(', ').replace(/[\x00-\x1f\x7f]/g, '?')
}

const CLIENT_AUTH = '1.3.6.1.5.5.7.3.2'
const ANY_EKU = '2.5.29.37.0'

/**
 * For a certificate that did not come through the TLS handshake (a
 * `Client-Cert` header): issued and signed by one of `cas`, inside its
 * validity period at `nowMs`, and (when it names extended key usages) meant
 * for client authentication. One level: an intermediate must be in `cas`
 * (docs/tls.md). The reasons are the OpenSSL names the socket path reports.
 */
export function verifyIssuedBy(cert: X509Certificate, cas: readonly X509Certificate[], nowMs: number): ChainVerdict {
  if (cas.length === 0) return { chained: false, reason: 'NO_CLIENT_CA' }
  const issuer = cas.find((ca) => ca.ca && cert.checkIssued(ca) && cert.verify(ca.publicKey))
  if (issuer === undefined) return { chained: false, reason: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' }
  if (nowMs < Date.parse(cert.validFrom)) return { chained: false, reason: 'CERT_NOT_YET_VALID' }
  if (nowMs > Date.parse(cert.validTo)) return { chained: false, reason: 'CERT_HAS_EXPIRED' }
  if (nowMs > Date.parse(issuer.validTo) || nowMs < Date.parse(issuer.validFrom)) return { chained: false, reason: 'CERT_HAS_EXPIRED' }
  const eku = cert.keyUsage
  if (eku !== undefined && eku.length > 0 && !eku.includes(CLIENT_AUTH) && !eku.includes(ANY_EKU)) return { chained: false, reason: 'INVALID_PURPOSE' }
  return { chained: true, reason: undefined }
}
