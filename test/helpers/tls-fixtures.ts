// The committed test PKI (test/fixtures/tls, made by generate.sh there):
// a CA and one server certificate for alice.test, *.alice.test, bob.test,
// evil.test, localhost and 127.0.0.1, valid for 100 years.

import { existsSync, readFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

/** Tests run from dist/test/…, sources live in test/…: walk up to the repo root. */
function findTlsDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url))
  for (let i = 0; i < 6; i++) {
    const candidate = join(dir, 'test', 'fixtures', 'tls')
    if (existsSync(join(candidate, 'ca.pem'))) return candidate
    dir = resolve(dir, '..')
  }
  throw new Error('test/fixtures/tls not found')
}

export const TLS_DIR = findTlsDir()

export const tlsFixtures = {
  /** Path of the CA certificate, for `keys.caFile`. */
  caFile: join(TLS_DIR, 'ca.pem'),
  caPem: readFileSync(join(TLS_DIR, 'ca.pem'), 'utf8'),
  certPem: readFileSync(join(TLS_DIR, 'server.pem'), 'utf8'),
  keyPem: readFileSync(join(TLS_DIR, 'server.key'), 'utf8'),
} as const
