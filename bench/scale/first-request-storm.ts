// Scale case 2: 1,000 concurrent first requests from one new domain. A fresh
// gateway process (bench/servers/gateway.js, nothing cached) fetches keys
// from an HTTPS key host on loopback (the test CA's certificate for
// alice.test; the gateway trusts it through keys.caFile) that counts
// requests. 1,000 proofs with unique jtis are signed first, then sent at
// once over 1,000 connections, so every one of them arrives while the key
// is still unknown. Single-flight (PROTOCOL.md §2.4) must turn that into one
// key fetch, and every request must still get its 200.

import https from 'node:https'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { Pool } from 'undici'
import { createKeyHostHandler } from '../../src/keyhost/server.js'
import { createMemoryKeyStore } from '../../src/keyhost/store.js'
import { generateClientKey } from '../../src/client/keys.js'
import { fetchNonce, writeGatewayConfig, IDENTITY, PUBLIC_ORIGIN, PROOF_PATH } from '../lib/gateway-setup.js'
import { pregenerateProofs } from '../lib/proofs.js'
import type { CaseContext } from '../lib/types.js'
import type { FirstRequestStormResult } from './types.js'
import { TLS } from './tls.js'

const REQUEST_TIMEOUT_MS = 20_000

interface HttpsKeyHost { readonly port: number; readonly hits: () => number; close(): Promise<void> }

async function startHttpsKeyHost(store: ReturnType<typeof createMemoryKeyStore>): Promise<HttpsKeyHost> {
  let hits = 0
  const handler = createKeyHostHandler({ identity: IDENTITY, store, authorize: () => false, publicOrigin: `https://${IDENTITY}`, cacheMaxAgeSec: 3600 })
  const server = https.createServer({ key: TLS.keyPem, cert: TLS.certPem }, (req, res) => { hits++; handler(req, res) })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  return {
    port: (server.address() as AddressInfo).port,
    hits: () => hits,
    close: () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()) }),
  }
}

export async function runFirstRequestStorm(ctx: CaseContext, requests = 1_000): Promise<FirstRequestStormResult> {
  const store = createMemoryKeyStore()
  const keyHost = await startHttpsKeyHost(store)
  const gw = await ctx.startServer('gateway.js', [await writeGatewayConfig(join(ctx.tmpDir, 'scale-storm'), { upstreamOrigin: ctx.upstreamOrigin, accessLog: true, caFile: TLS.caFile })])
  const origin = `http://127.0.0.1:${gw.port}`
  const pool = new Pool(origin, { connections: requests, pipelining: 1, headersTimeout: REQUEST_TIMEOUT_MS, bodyTimeout: REQUEST_TIMEOUT_MS })
  try {
    const key = await generateClientKey('ES256')
    await store.put({ id: key.kid, jwk: { ...key.publicJwk, use: 'sig' }, expiresAtMs: Date.now() + 3600_000 })
    const keyUrl = `https://${IDENTITY}:${keyHost.port}/.well-known/domainpop/keys/${key.kid}`
    // The 401 challenge does not touch the key cache: the domain is still new after this.
    const nonce = await fetchNonce(origin)
    const proofs = await pregenerateProofs(key, { identity: IDENTITY, keyUrl, audience: PUBLIC_ORIGIN, method: 'GET', path: PROOF_PATH, nonce }, requests)
    if (keyHost.hits() !== 0) throw new Error('the key host was hit before the burst')

    const statusCounts: Record<string, number> = {}
    let socketErrors = 0
    const t0 = performance.now()
    await Promise.all(proofs.map(async (proof) => {
      try {
        const res = await pool.request({ method: 'GET', path: PROOF_PATH, headers: { authorization: proof } })
        await res.body.dump()
        statusCounts[res.statusCode] = (statusCounts[res.statusCode] ?? 0) + 1
      } catch {
        socketErrors++
      }
    }))
    const allAnsweredMs = performance.now() - t0
    return { requests, connections: requests, keyFetches: keyHost.hits(), allAnsweredMs, statusCounts, socketErrors }
  } finally {
    await pool.close().catch(() => {})
    await gw.stop()
    await keyHost.close()
  }
}
