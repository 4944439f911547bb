// The committed test PKI (test/fixtures/tls): a CA and a server certificate
// for alice.test and 127.0.0.1. Bench code does not import test/, so this
// reads the files directly, from the repo root (run.js lives in dist/bench/).

import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

const dir = fileURLToPath(new URL('../../../test/fixtures/tls/', import.meta.url))

export const TLS = {
  caFile: dir + 'ca.pem',
  certPem: readFileSync(dir + 'server.pem', 'utf8'),
  keyPem: readFileSync(dir + 'server.key', 'utf8'),
} as const
