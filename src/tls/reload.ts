// Certificate reload: the TLS listener's certificate, key and client CA
// files are re-read when they change on disk (the config watcher sees
// in-place writes and Kubernetes' `..data` symlink swap, config/watch.ts)
// and on SIGHUP, and swapped in with `server.setSecureContext`: new
// connections get the new files, open ones keep the context they
// handshook with. A pair that does not load (a key that does not match, a
// half-written file) changes nothing: the old context stays and the reason
// is logged once for that content, not on every event.
// Independent of the config reload: a config with a problem does not hold
// back a renewed certificate, nor the other way round.

import type { Logger } from 'pino'
import { formatProblem } from '../config/yaml-source.js'
import { fingerprintTlsFiles, loadTlsMaterial, type Paths } from './context.js'
import type { SecureContextOptions } from 'node:tls'

export type ReloadOutcome = 'unchanged' | 'reloaded' | 'refused'

export interface CertificateReloader {
  refresh(): ReloadOutcome
}

export function createCertificateReloader(paths: Paths, configFile: string, apply: (options: SecureContextOptions) => void, log: () => Logger, onOutcome: (o: ReloadOutcome) => void = () => {}): CertificateReloader {
  let current = fingerprintTlsFiles(paths)
  let refused: string | undefined
  return {
    refresh() {
      const now = fingerprintTlsFiles(paths)
      if (now === current) return 'unchanged'
      if (now === refused) return 'refused' // already said why
      const m = loadTlsMaterial(paths, configFile)
      if (Array.isArray(m)) {
        refused = now
        log().error({ problems: m.map(formatProblem) }, 'TLS certificate reload refused; still serving the previous certificate')
        onOutcome('refused')
        return 'refused'
      }
      apply(m.options)
      current = now
      refused = undefined
      log().info({ cert: paths.certFile }, 'TLS certificate reloaded')
      onOutcome('reloaded')
      return 'reloaded'
    },
  }
}
