// The cases, in table order. Each is a few lines: a name, a setup returning
// the URL to load (and per-request headers, when every request must carry
// its own credential), and a teardown. To add a path (cookie, ticket, DPoP,
// oauth4webapi...), add one entry to CASES below; run.ts runs
// it with the same load, duration and measurements as the rest.

import { join, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import type { BenchCase, CaseContext, Target } from './lib/types.js'
import type { ClientAlgorithm } from '../src/client/keys.js'
import { writeGatewayConfig, fetchNonce, IDENTITY, PUBLIC_ORIGIN, PUBLIC_PATH, PROOF_PATH, TEST_PKI } from './lib/gateway-setup.js'
import { pregenerateProofs, pregenerateDpopProofs } from './lib/proofs.js'
import { makeDpopFixture } from './lib/dpop-setup.js'
import { nginxBinary, startNginx } from './servers/nginx.js'
import { redisBinary, startRedis } from './servers/redis.js'
import type { MetricsMode } from './lib/metrics-modes.js'

/** A Node proxy in its own process, forwarding to the shared upstream. */
const nodeProxy = (id: string, name: string, script: string): BenchCase => ({
  id, name,
  async setup(ctx) {
    const p = await ctx.startServer(script, [ctx.upstreamOrigin])
    return { url: `http://127.0.0.1:${p.port}${PUBLIC_PATH}`, pids: [p.pid], teardown: p.stop }
  },
})

/**
 * BENCH_BASELINE=<another checkout, built>: its gateway runs beside this
 * one as the `baseline-*` cases, so a change is measured before/after in
 * the same rounds (docs/benchmarks.md, "Before and after").
 */
const BASELINE = process.env.BENCH_BASELINE ? pathToFileURL(resolve(process.env.BENCH_BASELINE, 'dist/bench/servers/gateway.js')).href : undefined

interface GatewayOptions {
  readonly logMode?: string
  readonly replayUrl?: string
  readonly metrics?: MetricsMode
  readonly assertion?: boolean
  readonly signature?: boolean
  readonly dpop?: { readonly issuer: string; readonly jwksFile: string; readonly requireNonce: boolean }
  /** Tracing on at ratio 1.0, exporting to this OTLP/HTTP URL (bench/servers/otlp-sink.ts). */
  readonly tracing?: string
  /** Another build's bench/servers/gateway.js (BENCH_BASELINE): it takes the config file alone. */
  readonly script?: string
  /** Extra node flags for the gateway child (the young-generation A/B). */
  readonly execArgv?: readonly string[]
  /** A TLS listener (the child reports its port): the TLS, HTTP/2 and mTLS cases. */
  readonly tls?: { readonly clientCertificates: 'none' | 'request' }
}

/** The gateway child (this build's, or `script`'s), optionally under --cpu-prof (BENCH_PROFILE=1). */
async function startGateway(ctx: CaseContext, id: string, accessLog: boolean, opts: GatewayOptions = {}) {
  const config = await writeGatewayConfig(join(ctx.tmpDir, id), { upstreamOrigin: ctx.upstreamOrigin, accessLog, replayUrl: opts.replayUrl, assertion: opts.assertion, signature: opts.signature, dpop: opts.dpop, tracing: opts.tracing, tls: opts.tls })
  const execArgv = [...(opts.execArgv ?? []), ...(ctx.profile ? ['--cpu-prof', '--cpu-prof-dir', ctx.resultsDir, '--cpu-prof-name', `gateway-${id}.cpuprofile`] : [])]
  const args = opts.script ? [config] : [config, opts.logMode ?? '', opts.metrics ?? '']
  const gw = await ctx.startServer(opts.script ?? 'gateway.js', args, { execArgv })
  return { ...gw, origin: `${opts.tls ? 'https' : 'http'}://127.0.0.1:${gw.port}` }
}

const gatewayPublic = (id: string, name: string, accessLog: boolean, opts: GatewayOptions & { traced?: boolean } = {}): BenchCase => ({
  id, name, optIn: opts.logMode !== undefined || opts.metrics !== undefined || opts.signature === true,
  async setup(ctx) {
    const sink = opts.traced ? await ctx.startServer('otlp-sink.js', []) : undefined
    const gw = await startGateway(ctx, id, accessLog, { ...opts, tracing: sink && `http://127.0.0.1:${sink.port}/v1/traces` })
    return { url: gw.origin + PUBLIC_PATH, pids: [gw.pid], teardown: async () => { await gw.stop(); await sink?.stop() } }
  },
})

/**
 * Every request carries its own DomainPoP proof (unique jti), signed before
 * each round; the key is cached after the first. Each batch takes a fresh
 * nonce, so a long run never outlives nonce.ttl.
 */
const gatewayProof = (id: string, name: string, alg: ClientAlgorithm, opts: { replay?: 'memory' | 'redis'; assertion?: boolean; script?: string; traced?: boolean; execArgv?: readonly string[] } = {}): BenchCase => ({
  id, name, optIn: opts.assertion === true || opts.execArgv !== undefined,
  skip: () => opts.replay === 'redis' && !redisBinary() ? 'no redis-server binary on PATH' : undefined,
  async setup(ctx): Promise<Target> {
    // The Redis store: its own redis-server on loopback (its CPU is not in the proxy columns).
    const redis = opts.replay === 'redis' ? await startRedis(redisBinary()!) : undefined
    const sink = opts.traced ? await ctx.startServer('otlp-sink.js', []) : undefined
    const gw = await startGateway(ctx, id, true, { replayUrl: redis?.url, assertion: opts.assertion, script: opts.script, tracing: sink && `http://127.0.0.1:${sink.port}/v1/traces`, execArgv: opts.execArgv })
    const { key, keyUrl } = await ctx.keyHost.publish(alg)
    const input = { identity: IDENTITY, keyUrl, audience: PUBLIC_ORIGIN, method: 'GET', path: PROOF_PATH }
    return {
      url: gw.origin + PROOF_PATH, pids: [gw.pid], teardown: async () => { await gw.stop(); await redis?.stop(); await sink?.stop() },
      perRequest: { header: 'Authorization', generate: async (n) => pregenerateProofs(key, { ...input, nonce: await fetchNonce(gw.origin) }, n) },
    }
  },
})

/**
 * DPoP (RFC 9449): one access token for the whole run (`Authorization: DPoP
 * <token>`, the same on every request) and a fresh proof per request (unique
 * jti, `ath` of the token) in the `DPoP` header, signed before each round.
 * The issuer is the static stand-in of bench/lib/dpop-setup.ts. The gateway
 * requires a nonce (the default, `dpop.requireNonce`): each batch takes a
 * fresh one from its 401 challenge, as the DomainPoP cases do, and checks
 * jti single use (memory store) and the 10-rule ACL; the oauth4webapi
 * resource server checks the token and proof only.
 */
const dpopCase = (id: string, name: string, server: 'gateway' | 'oauth4webapi', script?: string): BenchCase => ({
  id, name,
  async setup(ctx): Promise<Target> {
    const as = await makeDpopFixture(join(ctx.tmpDir, id, 'as'), PUBLIC_ORIGIN)
    const fixed = { Authorization: `DPoP ${as.token}` }
    const input = { method: 'GET', htu: PUBLIC_ORIGIN + PROOF_PATH, accessToken: as.token }
    if (server === 'oauth4webapi') {
      const rs = await ctx.startServer('oauth4webapi-rs.js', [ctx.upstreamOrigin, as.issuer, as.jwksFile, PUBLIC_ORIGIN])
      return {
        url: `http://127.0.0.1:${rs.port}${PROOF_PATH}`, pids: [rs.pid], teardown: rs.stop,
        perRequest: { header: 'DPoP', fixed, generate: (n) => pregenerateDpopProofs(as.client, input, n) },
      }
    }
    const gw = await startGateway(ctx, id, true, { dpop: { issuer: as.issuer, jwksFile: as.jwksFile, requireNonce: true }, script })
    return {
      url: gw.origin + PROOF_PATH, pids: [gw.pid], teardown: gw.stop,
      perRequest: { header: 'DPoP', fixed, generate: async (n) => pregenerateDpopProofs(as.client, { ...input, nonce: await fetchNonce(gw.origin, 'dpop-nonce') }, n) },
    }
  },
})

// ---- TLS, HTTP/2 and mTLS (issue 22; docs/tls.md) -------------------------
// The gateway's TLS listener with the test PKI (test/fixtures/tls), the load
// generator not verifying the server (autocannon never does; the h2 one is
// bench/load/h2.ts). HTTP/2 against HTTP/1.1 on the same listener and route;
// the mTLS route (alice.test's client certificate as the credential, the
// 10-rule ACL's /api/data) against the public route on the same listener.
// BENCH_CASES=gateway-tls-public,gateway-h2-public,gateway-mtls,gateway-h2-mtls

const ALICE_CERT = { certFile: join(TEST_PKI, 'client-alice.pem'), keyFile: join(TEST_PKI, 'client-alice.key') }

const gatewayTls = (id: string, name: string, path: string, client: { h2?: boolean; certFile?: string; keyFile?: string }): BenchCase => ({
  id, name,
  async setup(ctx) {
    const gw = await startGateway(ctx, id, true, { tls: { clientCertificates: client.certFile ? 'request' : 'none' } })
    return { url: gw.origin + path, pids: [gw.pid], client, teardown: gw.stop }
  },
})

const TLS_CASES: readonly BenchCase[] = [
  gatewayTls('gateway-tls-public', 'gateway, public route, TLS 1.3, HTTP/1.1', PUBLIC_PATH, {}),
  gatewayTls('gateway-h2-public', 'gateway, public route, TLS 1.3, HTTP/2', PUBLIC_PATH, { h2: true }),
  gatewayTls('gateway-mtls', 'gateway, client certificate as the credential (mtls), TLS 1.3, HTTP/1.1', PROOF_PATH, ALICE_CERT),
  gatewayTls('gateway-h2-mtls', 'gateway, client certificate as the credential (mtls), TLS 1.3, HTTP/2', PROOF_PATH, { h2: true, ...ALICE_CERT }),
]
// ---- end of the TLS cases ---------------------------------------------------

export const CASES: readonly BenchCase[] = [
  {
    id: 'upstream', name: 'upstream directly',
    setup: async (ctx) => ({ url: ctx.upstreamOrigin + PUBLIC_PATH, pids: [ctx.upstreamPid], teardown: async () => {} }),
  },
  nodeProxy('http-proxy-3', 'bare http-proxy-3', 'http-proxy.js'),
  nodeProxy('undici', 'bare undici Pool forwarder', 'undici-forwarder.js'),
  {
    id: 'nginx', name: 'nginx proxy_pass (keepalive)',
    skip: () => nginxBinary() ? undefined : 'no nginx binary on PATH',
    async setup(ctx) {
      const n = await startNginx(nginxBinary()!, join(ctx.tmpDir, 'nginx'), ctx.upstreamOrigin)
      return { url: `http://127.0.0.1:${n.port}${PUBLIC_PATH}`, pids: n.pids, teardown: n.stop }
    },
  },
  gatewayPublic('gateway-public', 'gateway, public route', true),
  // A/B of the log destination (run with BENCH_CASES=undici,gateway-public,gateway-public-async,gateway-public-unbatched,gateway-public-discard,gateway-public-nolog):
  // not in the default run (docs/benchmarks.md, "Access log").
  gatewayPublic('gateway-public-async', 'gateway, public route, log batched on the thread pool', true, { logMode: 'async' }),
  gatewayPublic('gateway-public-unbatched', 'gateway, public route, log unbatched', true, { logMode: 'unbatched' }),
  gatewayPublic('gateway-public-discard', 'gateway, public route, log discarded', true, { logMode: 'discard' }),
  gatewayPublic('gateway-public-nolog', 'gateway, public route, access log off', false),
  gatewayProof('gateway-es256', 'gateway, DomainPoP proof per request, ES256', 'ES256'),
  gatewayProof('gateway-ed25519', 'gateway, DomainPoP proof per request, Ed25519', 'Ed25519'),
  gatewayProof('gateway-es256-redis', 'gateway, DomainPoP proof per request, ES256, Redis replay store', 'ES256', { replay: 'redis' }),
  // A/B of the metrics (run with BENCH_CASES=undici,gateway-public,gateway-public-no-metrics):
  // docs/benchmarks.md, "Metrics".
  gatewayPublic('gateway-public-no-metrics', 'gateway, public route, per-request metrics off', true, { metrics: 'none' }),
  // Tracing at ratio 1.0 to a loopback OTLP sink, against the same routes with tracing off (the default): docs/benchmarks.md, "Tracing".
  gatewayPublic('gateway-public-traced', 'gateway, public route, tracing on (ratio 1.0)', true, { traced: true }),
  gatewayProof('gateway-es256-traced', 'gateway, DomainPoP proof per request, ES256, tracing on (ratio 1.0)', 'ES256', { traced: true }),
  // The signed upstream assertion's cost (BENCH_CASES=http-proxy-3,gateway-es256,gateway-es256-assertion): docs/benchmarks.md, "Upstream assertion".
  // Young generation capped (BENCH_CASES=…,gateway-es256-redis,gateway-es256-redis-semi8): docs/benchmarks.md, "Performance III".
  gatewayProof('gateway-es256-redis-semi8', 'gateway, DomainPoP proof per request, ES256, Redis replay store, --max-semi-space-size=8', 'ES256', { replay: 'redis', execArgv: ['--max-semi-space-size=8'] }),
  gatewayProof('gateway-es256-assertion', 'gateway, DomainPoP proof per request, ES256, signed upstream assertion', 'ES256', { assertion: true }),
  // The RFC 9421 hop signature on every forwarded request (BENCH_CASES=undici,gateway-public,gateway-public-signed):
  // docs/benchmarks.md, "Forward signature".
  gatewayPublic('gateway-public-signed', 'gateway, public route, forward signed (RFC 9421, ECDSA P-256)', true, { signature: true }),
  // The DPoP path against what a user would otherwise hand-roll (BENCH_CASES=http-proxy-3,gateway-dpop,oauth4webapi-dpop):
  // docs/benchmarks.md, "DPoP path against a hand-rolled oauth4webapi resource server".
  dpopCase('gateway-dpop', 'gateway, DPoP token + proof per request, ES256, nonce, replay, ACL', 'gateway'),
  dpopCase('oauth4webapi-dpop', 'oauth4webapi validateJwtAccessToken + http-proxy-3, DPoP, ES256', 'oauth4webapi'),
  ...(BASELINE ? [
    gatewayPublic('baseline-public', 'BENCH_BASELINE gateway, public route', true, { script: BASELINE }),
    gatewayProof('baseline-es256', 'BENCH_BASELINE gateway, DomainPoP proof per request, ES256', 'ES256', { script: BASELINE }),
    gatewayProof('baseline-es256-redis', 'BENCH_BASELINE gateway, DomainPoP proof per request, ES256, Redis replay store', 'ES256', { replay: 'redis', script: BASELINE }),
    dpopCase('baseline-dpop', 'BENCH_BASELINE gateway, DPoP token + proof per request', 'gateway', BASELINE),
  ] : []),
  // Next: session cookie, session ticket.
  ...TLS_CASES,
]
