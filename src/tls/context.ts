// The HTTPS listener's secure context from files: certificate chain, key and
// (optional) client CA bundle, read and checked as one unit. Used at start
// (`popgate serve|check`, server.ts) and by the certificate reload
// (tls/reload.ts), so both refuse the same files with the same words.
// Reads files; throws never (problems are returned).

import { readFileSync } from 'node:fs'
import { createHash } from 'node:crypto'
import { createSecureContext, type SecureContextOptions } from 'node:tls'
import type { Problem } from '../config/yaml-source.js'
import type { TlsConfig } from '../config/types.js'

/** TLS 1.2 stays allowed for clients that have nothing newer; channel binding needs 1.3 (PROTOCOL.md §5). */
export const MIN_TLS_VERSION = 'TLSv1.2'

export interface TlsMaterial {
  readonly options: SecureContextOptions
}

export type Paths = Pick<TlsConfig, 'certFile' | 'keyFile' | 'clientCaFile'>

/** Reads and checks the files; `configFile` is named in messages so the operator knows where the paths came from. */
export function loadTlsMaterial(tls: Paths, configFile: string): TlsMaterial | Problem[] {
  const at = (file: string, path: string, message: string): Problem => ({ file, line: 1, col: 1, path, message })
  const read = (file: string, path: string): Buffer | Problem => {
    try { return readFileSync(file) } catch (err) { return at(file, path, `cannot read (${(err as NodeJS.ErrnoException).code ?? 'error'}); fix ${path} in ${configFile}`) }
  }
  const cert = read(tls.certFile, 'tls.cert'), key = read(tls.keyFile, 'tls.key')
  const ca = tls.clientCaFile === undefined ? undefined : read(tls.clientCaFile, 'tls.clientCa')
  const problems = [cert, key, ca].filter((x): x is Problem => x !== undefined && !Buffer.isBuffer(x))
  if (problems.length > 0) return problems
  const options: SecureContextOptions = { cert: cert as Buffer, key: key as Buffer, minVersion: MIN_TLS_VERSION }
  try { createSecureContext(options) } catch (err) {
    return [at(tls.certFile, 'tls', `certificate and key are not a usable pair: ${(err as Error).message}`)]
  }
  if (ca !== undefined) {
    const caPem = ca as Buffer
    // createSecureContext takes a PEM bundle without a certificate in it silently; a CA file that holds none is a mistake.
    if (!caPem.toString('latin1').includes('-----BEGIN CERTIFICATE-----')) return [at(tls.clientCaFile!, 'tls.clientCa', 'holds no PEM certificate')]
    try { createSecureContext({ ca: caPem }) } catch (err) {
      return [at(tls.clientCaFile!, 'tls.clientCa', `not a usable CA bundle: ${(err as Error).message}`)]
    }
    options.ca = caPem
  }
  return { options }
}

/** What the files hold now (or why they cannot be read), as one string: equal means "nothing changed". */
export function fingerprintTlsFiles(tls: Paths): string {
  const h = createHash('sha256')
  for (const file of [tls.certFile, tls.keyFile, tls.clientCaFile]) {
    if (file === undefined) continue
    try { h.update(readFileSync(file)) } catch (err) { h.update(`unreadable:${(err as NodeJS.ErrnoException).code ?? 'error'}`) }
    h.update('\0')
  }
  return h.digest('base64url')
}
