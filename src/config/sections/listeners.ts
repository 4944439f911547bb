// Sections `listen`, `tls`, `admin` and `forwardedClientCert`: where the
// gateway accepts connections, and where a client certificate may come from.

import type { ClientCertificateMode, Config, HostPort } from '../types.js'
import { Section, bool, filePath, hostPort, oneOf, positiveInt, scalar, size } from '../readers.js'

const PLACEHOLDER: HostPort = { host: '127.0.0.1', port: 0 }
const CLIENT_CERTIFICATE_MODES: readonly ClientCertificateMode[] = ['none', 'request', 'require']
/** Node's default is 2^32-1 (unlimited); RFC 9113 §6.5.2 recommends no fewer than 100. */
const DEFAULT_MAX_STREAMS = 100
const MAX_STREAMS_CEILING = 1_000

export function readListeners(root: Section, maxHeaderBytes: number): Pick<Config, 'listen' | 'tls' | 'admin'> {
  const listen = root.get('listen', scalar(hostPort), { host: '127.0.0.1', port: 8080 })

  const t = root.sub('tls', ['listen', 'cert', 'key', 'clientCertificates', 'clientCa', 'http2'])
  let tls: Config['tls']
  if (t.present) {
    const clientCertificates = t.get('clientCertificates', scalar(oneOf(CLIENT_CERTIFICATE_MODES)), 'none')
    const clientCaFile = t.get<string | undefined>('clientCa', scalar(filePath), undefined)
    if (clientCertificates === 'require' && clientCaFile === undefined && !t.has('clientCa')) t.report('clientCa', 'is required when clientCertificates is require (the CAs client certificates must chain to)')
    if (clientCertificates === 'none' && t.has('clientCa')) t.report('clientCa', 'has no effect while clientCertificates is none; set it to request or require, or remove clientCa')
    const h = t.sub('http2', ['enabled', 'maxConcurrentStreams', 'maxHeaderListSize'])
    tls = {
      listen: t.required('listen', scalar(hostPort), PLACEHOLDER),
      certFile: t.required('cert', scalar(filePath), ''),
      keyFile: t.required('key', scalar(filePath), ''),
      clientCertificates,
      clientCaFile,
      http2: {
        enabled: h.get('enabled', scalar(bool), true),
        maxConcurrentStreams: h.get('maxConcurrentStreams', scalar(positiveInt(MAX_STREAMS_CEILING)), DEFAULT_MAX_STREAMS),
        maxHeaderListBytes: h.get('maxHeaderListSize', size, maxHeaderBytes),
      },
    }
  }

  const a = root.sub('admin', ['listen', 'warnNonLoopback'])
  // POPGATE_ADMIN_LISTEN alone turns the admin listener on, as an admin section would.
  const admin = a.present || a.has('listen')
    ? { listen: a.required('listen', scalar(hostPort), PLACEHOLDER), warnNonLoopback: a.get('warnNonLoopback', scalar(bool), true) }
    : undefined
  checkDistinct(t, a, listen, tls?.listen, admin?.listen)
  return { listen, tls, admin }
}

/**
 * `forwardedClientCert.ca`: RFC 9440 `Client-Cert` is believed only from
 * `trustedProxies` peers, and only when it chains to this CA bundle; without
 * trusted proxies the section could never apply, which is a mistake worth saying.
 */
export function readForwardedClientCert(root: Section, trustedProxies: readonly string[]): Config['forwardedClientCert'] {
  const f = root.sub('forwardedClientCert', ['ca'])
  if (!f.present) return undefined
  const caFile = f.required('ca', scalar(filePath), '')
  if (trustedProxies.length === 0) f.report('ca', 'forwardedClientCert needs trustedProxies: Client-Cert is read only from those peers')
  return { caFile }
}

/** Two listeners on one fixed host:port would fail at bind time; say so now, where the lines are known. */
function checkDistinct(tls: Section, admin: Section, listen: HostPort, tlsListen?: HostPort, adminListen?: HostPort): void {
  const same = (a: HostPort, b?: HostPort): boolean => b !== undefined && a.port !== 0 && a.host === b.host && a.port === b.port
  if (same(listen, tlsListen)) tls.report('listen', 'is the same address as listen')
  if (same(listen, adminListen)) admin.report('listen', 'is the same address as listen')
  else if (tlsListen && same(tlsListen, adminListen)) admin.report('listen', 'is the same address as tls.listen')
}
