// What the gateway cases need around them: a key host for alice.test (the
// reference one from src/keyhost, plain HTTP on loopback, allowed by
// `keys.allowHttp`; it is hit once per case, when the key cache warms), a
// temp config + ACL, and a nonce from the gateway's own 401 challenge.

import http from 'node:http'
import { generateKeyPairSync, randomBytes } from 'node:crypto'
import type { AddressInfo } from 'node:net'
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { createKeyHostHandler } from '../../src/keyhost/server.js'
import { createMemoryKeyStore } from '../../src/keyhost/store.js'
import { generateClientKey, type ClientAlgorithm, type ClientKey } from '../../src/client/keys.js'
import { aclYaml } from './acl-sets.js'

export const IDENTITY = 'alice.test'

/** The committed test PKI (test/fixtures/tls): the server certificate, the CA, alice.test's client certificate. Bench runs from dist/bench/lib. */
export const TEST_PKI = fileURLToPath(new URL('../../../test/fixtures/tls/', import.meta.url))
export const PUBLIC_ORIGIN = 'https://gw.bench'
export const PUBLIC_PATH = '/public/hello'
export const PROOF_PATH = '/api/data'

export interface KeyHost {
  readonly port: number
  /** Every request it answered (a hit per request would mean the key cache is not working). */
  readonly hits: () => number
  publish(alg: ClientAlgorithm): Promise<{ key: ClientKey; keyUrl: string }>
  close(): Promise<void>
}

export async function startKeyHost(): Promise<KeyHost> {
  const store = createMemoryKeyStore()
  let hits = 0
  const handler = createKeyHostHandler({ identity: IDENTITY, store, authorize: () => false, publicOrigin: `http://${IDENTITY}`, cacheMaxAgeSec: 3600 })
  const server = http.createServer((req, res) => { hits++; handler(req, res) })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  const port = (server.address() as AddressInfo).port
  return {
    port,
    hits: () => hits,
    async publish(alg) {
      const key = await generateClientKey(alg)
      await store.put({ id: key.kid, jwk: { ...key.publicJwk, use: 'sig' }, expiresAtMs: Date.now() + 3600_000 })
      return { key, keyUrl: `http://${IDENTITY}:${port}/.well-known/domainpop/keys/${key.kid}` }
    },
    close: () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()) }),
  }
}

/**
 * Writes gateway.yaml + acl.yaml (the 10-rule bench ACL) into `dir`; returns
 * the config path. Keys come from the plain-HTTP key host by default, or over
 * HTTPS from a host whose certificate `caFile` verifies. The replay store is
 * the memory one unless `replayUrl` names a Redis.
 */
export async function writeGatewayConfig(dir: string, opts: {
  upstreamOrigin: string; accessLog: boolean; caFile?: string; replayUrl?: string; assertion?: boolean
  /** identityHeaders.signature: every forwarded request signed (RFC 9421, proxy/forward-signature.ts). */
  signature?: boolean
  /** dpop.enabled with one pinned issuer whose keys are a JWK Set file (bench/lib/dpop-setup.ts). */
  dpop?: { issuer: string; jwksFile: string; requireNonce: boolean }
  /** OTLP/HTTP traces URL: tracing on, every request sampled (sampleRatio 1). */
  tracing?: string
  /** A TLS listener with the test PKI's server certificate (test/fixtures/tls); `request`: client certificates asked for, chained to the test CA. */
  tls?: { readonly clientCertificates: 'none' | 'request' }
}): Promise<string> {
  await mkdir(dir, { recursive: true })
  await writeFile(join(dir, 'acl.yaml'), aclYaml(10))
  if (opts.assertion || opts.signature) {
    // The signed upstream assertion needs a key from the secrets file.
    const jwk = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' })
    await writeFile(join(dir, 'secrets.yaml'), `nonce: [{ id: n1, secret: ${randomBytes(32).toString('base64url')} }]\nassertion: [${JSON.stringify({ kid: 'a1', ...jwk })}]\n`)
  }
  const configFile = join(dir, 'gateway.yaml')
  await writeFile(configFile, [
    'listen: 127.0.0.1:0',
    `publicOrigin: ${PUBLIC_ORIGIN}`,
    `upstream: ${opts.upstreamOrigin}`,
    'acl: ./acl.yaml',
    'log:',
    '  level: info',
    `  access: ${opts.accessLog}`,
    'keys:',
    opts.caFile === undefined ? `  allowHttp: [${IDENTITY}]` : `  caFile: ${JSON.stringify(opts.caFile)}`,
    '  allowPrivateAddresses: true',
    '  allowPorts: any',
    '  resolve:',
    `    ${IDENTITY}: 127.0.0.1`,
    ...(opts.replayUrl === undefined ? [] : ['replay:', '  store: redis', `  url: ${opts.replayUrl}`]),
    ...(opts.dpop === undefined ? [] : ['dpop:', '  enabled: true', `  requireNonce: ${opts.dpop.requireNonce}`, '  issuers:',
      `    ${JSON.stringify(opts.dpop.issuer)}:`, `      jwksFile: ${JSON.stringify(opts.dpop.jwksFile)}`]),
    ...(opts.assertion || opts.signature ? ['secrets:', '  file: ./secrets.yaml', 'identityHeaders:', `  assertion: ${opts.assertion === true}`, `  signature: ${opts.signature === true}`] : []),
    ...(opts.tracing === undefined ? [] : ['tracing:', '  otlp:', `    endpoint: ${opts.tracing}`, '  sampleRatio: 1']),
    ...(opts.tls === undefined ? [] : ['tls:', '  listen: 127.0.0.1:0', `  cert: ${JSON.stringify(join(TEST_PKI, 'server.pem'))}`, `  key: ${JSON.stringify(join(TEST_PKI, 'server.key'))}`,
      `  clientCertificates: ${opts.tls.clientCertificates}`, ...(opts.tls.clientCertificates === 'none' ? [] : [`  clientCa: ${JSON.stringify(join(TEST_PKI, 'ca.pem'))}`])]),
    '',
  ].join('\n'))
  return configFile
}

/** PROTOCOL.md §1: a request without credentials to a protected path gets a 401 carrying a nonce. */
export async function fetchNonce(gatewayOrigin: string, header: 'domainpop-nonce' | 'dpop-nonce' = 'domainpop-nonce'): Promise<string> {
  const res = await fetch(gatewayOrigin + PROOF_PATH)
  await res.arrayBuffer()
  const nonce = res.headers.get(header)
  if (res.status !== 401 || !nonce) throw new Error(`expected a 401 challenge with a nonce from the gateway, got ${res.status}`)
  return nonce
}
