// The committed test PKI (test/fixtures/tls, made by generate.sh there):
// a CA and one server certificate for alice.test, *.alice.test, bob.test,
// evil.test, localhost and 127.0.0.1, valid for 100 years; and client
// certificates (generate-clients.sh): alice.test and bob.test from the test
// CA, alice.test from another CA, and an expired alice.test.

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

export interface ClientPair { readonly certFile: string; readonly keyFile: string; readonly certPem: string; readonly keyPem: string }
const pair = (name: string): ClientPair => ({
  certFile: join(TLS_DIR, `${name}.pem`), keyFile: join(TLS_DIR, `${name}.key`),
  certPem: readFileSync(join(TLS_DIR, `${name}.pem`), 'utf8'), keyPem: readFileSync(join(TLS_DIR, `${name}.key`), 'utf8'),
})

/** Client certificates (clientAuth, SAN DNS = the name). */
export const clientCerts = {
  alice: pair('client-alice'),
  bob: pair('client-bob'),
  /** alice.test, signed by a CA the gateway does not trust (other-ca.pem). */
  otherCa: pair('client-other'),
  /** alice.test from the test CA, valid 2020-01-01 to 2021-01-01. */
  expired: pair('client-expired'),
  otherCaFile: join(TLS_DIR, 'other-ca.pem'),
} as const

/** An ACL whose one rule, /bound, lets alice.test in only on a channel-bound proof (RFC 9266; docs/tls.md). */
export const CHANNEL_BOUND_ACL = `version: 1
rules:
  - path: /bound
    read: [alice.test]
    channelBinding: required
`
