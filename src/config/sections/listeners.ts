// Sections `listen`, `tls` and `admin`: where the gateway accepts connections.

import type { Config, HostPort } from '../types.js'
import { Section, bool, filePath, hostPort, scalar } from '../readers.js'

const PLACEHOLDER: HostPort = { host: '127.0.0.1', port: 0 }

export function readListeners(root: Section): Pick<Config, 'listen' | 'tls' | 'admin'> {
  const listen = root.get('listen', scalar(hostPort), { host: '127.0.0.1', port: 8080 })

  const t = root.sub('tls', ['listen', 'cert', 'key'])
  const tls = t.present
    ? {
        listen: t.required('listen', scalar(hostPort), PLACEHOLDER),
        certFile: t.required('cert', scalar(filePath), ''),
        keyFile: t.required('key', scalar(filePath), ''),
      }
    : undefined

  const a = root.sub('admin', ['listen', 'warnNonLoopback'])
  // POPGATE_ADMIN_LISTEN alone turns the admin listener on, as an admin section would.
  const admin = a.present || a.has('listen')
    ? { listen: a.required('listen', scalar(hostPort), PLACEHOLDER), warnNonLoopback: a.get('warnNonLoopback', scalar(bool), true) }
    : undefined
  checkDistinct(t, a, listen, tls?.listen, admin?.listen)
  return { listen, tls, admin }
}

/** Two listeners on one fixed host:port would fail at bind time; say so now, where the lines are known. */
function checkDistinct(tls: Section, admin: Section, listen: HostPort, tlsListen?: HostPort, adminListen?: HostPort): void {
  const same = (a: HostPort, b?: HostPort): boolean => b !== undefined && a.port !== 0 && a.host === b.host && a.port === b.port
  if (same(listen, tlsListen)) tls.report('listen', 'is the same address as listen')
  if (same(listen, adminListen)) admin.report('listen', 'is the same address as listen')
  else if (tlsListen && same(tlsListen, adminListen)) admin.report('listen', 'is the same address as tls.listen')
}
