// An identity domain for tests: an HTTPS key host (the reference keyhost from
// src/keyhost, with the test CA's certificate) that counts its requests, and
// a client key published on it.

import https from 'node:https'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { join, dirname } from 'node:path'
import type { AddressInfo } from 'node:net'
import { createKeyHostHandler } from '../../src/keyhost/server.js'
import { createMemoryKeyStore, type KeyStore } from '../../src/keyhost/store.js'
import { generateClientKey, type ClientKey, type ClientAlgorithm } from '../../src/client/keys.js'

export const TLS_DIR = join(dirname(fileURLToPath(import.meta.url)), '../../../test/fixtures/tls')
export const CA_FILE = join(TLS_DIR, 'ca.pem')

export interface TestKeyHost {
  readonly port: number
  readonly store: KeyStore
  /** Every request path the key host received, in order. */
  readonly requests: string[]
  /** Delay before answering each request (slow key host). */
  delayMs: number
  /** Publishes a new key for `identity` and returns it with its URL. */
  publish(identity: string, alg?: ClientAlgorithm): Promise<{ key: ClientKey; keyUrl: string }>
  keyUrl(identity: string, kid: string): string
  close(): Promise<void>
}

export async function startKeyHost(): Promise<TestKeyHost> {
  const store = createMemoryKeyStore()
  const requests: string[] = []
  const handler = createKeyHostHandler({ identity: 'alice.test', store, authorize: () => false, publicOrigin: 'https://alice.test' })
  // eslint-disable-next-line prefer-const
  let host: TestKeyHost
  const server = https.createServer({ cert: readFileSync(join(TLS_DIR, 'server.pem')), key: readFileSync(join(TLS_DIR, 'server.key')) }, (req, res) => {
    requests.push(`${req.headers.host} ${req.url}`)
    if (host.delayMs > 0) setTimeout(() => handler(req, res), host.delayMs)
    else handler(req, res)
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  const port = (server.address() as AddressInfo).port
  const keyUrl = (identity: string, kid: string) => `https://${identity}:${port}/.well-known/domainpop/keys/${kid}`
  host = {
    port, store, requests, keyUrl, delayMs: 0,
    async publish(identity, alg = 'ES256') {
      const key = await generateClientKey(alg)
      await store.put({ id: key.kid, jwk: { ...key.publicJwk, use: 'sig' }, expiresAtMs: Date.now() + 3600_000 })
      return { key, keyUrl: keyUrl(identity, key.kid) }
    },
    close: () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()) }),
  }
  return host
}

/** Gateway `keys:` YAML for identities served by the test key host on loopback. */
export function keysConfig(identities: readonly string[] = ['alice.test', 'bob.test', 'evil.test', 'eu.alice.test']): string {
  return [
    'keys:',
    '  allowPrivateAddresses: true',
    '  allowPorts: any',
    `  caFile: ${CA_FILE}`,
    '  resolve:',
    ...identities.map((i) => `    ${i}: 127.0.0.1`),
  ].join('\n')
}
