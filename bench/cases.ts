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
import { pregenerateProofs, pregenerateDpopProofs, pregenerateHttpSignatures } from './lib/proofs.js'
import { signatureAgentValue } from './lib/http-signature-setup.js'
import { makeDpopFixture } from './lib/dpop-setup.js'
import { makeIssuerSymmetricFixture, issuerSymmetricProofs } from './lib/issuer-symmetric-setup.js'
import { startIntrospectionEndpoint } from './lib/introspection-setup.js'
import { nginxBinary, startNginx } from './servers/nginx.js'
import { redisBinary, startRedis } from './servers/redis.js'
import type { MetricsMode } from './lib/metrics-modes.js'
import { signDomainPopProof } from '../src/client/proof.js'
import { acceptTicket, newPendingTicket } from '../src/client/session.js'
import { signSessionProof } from '../src/proofs/session-proof.js'

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
 * the same rounds (docs/benchmarks.md, "Before and after"). Several
 * checkouts, comma-separated, run as `baseline-*`, `baseline2-*`,
 * `baseline3-*`… in that order (e.g. a merge and its parent beside this
 * build); BENCH_PAIRS prints any ratio between them.
 */
const BASELINES = (process.env.BENCH_BASELINE ?? '').split(',').map((s) => s.trim()).filter(Boolean)
  .map((dir, i) => ({ prefix: i === 0 ? 'baseline' : `baseline${i + 1}`, label: i === 0 ? 'BENCH_BASELINE' : `BENCH_BASELINE #${i + 1} (${dir})`, script: pathToFileURL(resolve(dir, 'dist/bench/servers/gateway.js')).href }))

interface GatewayOptions {
  readonly logMode?: string
  readonly replayUrl?: string
  readonly metrics?: MetricsMode
  readonly assertion?: boolean
  readonly signature?: boolean
  readonly dpop?: { readonly issuer: string; readonly jwksFile: string; readonly requireNonce: boolean; readonly introspection?: { readonly endpoint: string } }
  readonly issuerSymmetric?: { readonly issuer: string; readonly jwksFile: string; readonly encryptionJwk: Record<string, unknown> }
  /** Tracing on at ratio 1.0, exporting to this OTLP/HTTP URL (bench/servers/otlp-sink.ts). */
  readonly tracing?: string
  /** Another build's bench/servers/gateway.js (BENCH_BASELINE): it takes the config file alone. */
  readonly script?: string
  /** Extra node flags for the gateway child (the young-generation A/B). */
  readonly execArgv?: readonly string[]
  /** httpSignatures.enabled (the message-signature case). */
  readonly httpSignatures?: boolean
  /** sessions.tickets and sessions.cookie on (the session cases). */
  readonly sessions?: boolean

  /** A TLS listener (the child reports its port): the TLS, HTTP/2 and mTLS cases. */
  readonly tls?: { readonly clientCertificates: 'none' | 'request' }
}

/** The gateway child (this build's, or `script`'s), optionally under --cpu-prof (BENCH_PROFILE=1). */
async function startGateway(ctx: CaseContext, id: string, accessLog: boolean, opts: GatewayOptions = {}) {
  const config = await writeGatewayConfig(join(ctx.tmpDir, id), { upstreamOrigin: ctx.upstreamOrigin, accessLog, replayUrl: opts.replayUrl, assertion: opts.assertion, signature: opts.signature, dpop: opts.dpop, tracing: opts.tracing, httpSignatures: opts.httpSignatures, sessions: opts.sessions, issuerSymmetric: opts.issuerSymmetric, tls: opts.tls })
  const execArgv = [...(opts.execArgv ?? []), ...(ctx.profile ? ['--cpu-prof', '--cpu-prof-dir', ctx.resultsDir, '--cpu-prof-name', `gateway-${id}.cpuprofile`] : [])]
  const args = opts.script ? [config] : [config, opts.logMode ?? '', opts.metrics ?? '']
  const gw = await ctx.startServer(opts.script ?? 'gateway.js', args, { execArgv })
  return { ...gw, origin: `${opts.tls ? 'https' : 'http'}://127.0.0.1:${gw.port}` }
}

const gatewayPublic = (id: string, name: string, accessLog: boolean, opts: GatewayOptions & { traced?: boolean; optIn?: boolean } = {}): BenchCase => ({
  id, name, optIn: opts.optIn ?? (opts.logMode !== undefined || opts.metrics !== undefined || opts.signature === true),
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

// --- Message signatures (issue 23) ---------------------------------------

/**
 * RFC 9421 HTTP Message Signatures in the Web Bot Auth profile: every request
 * carries its own `Signature-Input` and `Signature` (its own nonce, single
 * use), signed before each round in the proof workers the way
 * src/client/http-signature.ts signs; `Signature-Agent` names the bench key
 * host (alice.test on loopback, `keys.allowHttp`), whose signatures directory
 * is fetched once and cached. The covered @authority is the public origin's,
 * so the requests carry `Host: gw.bench`.
 */
const httpSignatureCase = (id: string, name: string, alg: ClientAlgorithm, script?: string): BenchCase => ({
  id, name,
  async setup(ctx): Promise<Target> {
    const gw = await startGateway(ctx, id, true, { httpSignatures: true, script })
    const { key } = await ctx.keyHost.publish(alg)
    const agent = ctx.keyHost.agentUrl
    const input = { agent, url: PUBLIC_ORIGIN + PROOF_PATH, method: 'GET', ttlSec: 300 }
    return {
      url: gw.origin + PROOF_PATH, pids: [gw.pid], teardown: gw.stop,
      perRequest: {
        header: 'Signature-Input', moreHeaders: ['Signature'],
        fixed: { Host: new URL(PUBLIC_ORIGIN).host, 'Signature-Agent': signatureAgentValue(agent) },
        generate: (n) => pregenerateHttpSignatures(key, input, n),
      },
    }
  },
})

// --- end of the message-signature cases ----------------------------------

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

// ---- Sessions (issue 21): one DomainPoP proof, then a symmetric credential (docs/benchmarks.md, "Sessions").
// Compare with BENCH_CASES=gateway-public,gateway-es256,gateway-ticket,gateway-cookie.

/** One proof with `epk` (a ticket) or `ses: "cookie"` (a cookie) against the running gateway; what it answered. */
async function negotiateSession(ctx: CaseContext, origin: string, kind: 'ticket' | 'cookie') {
  const { key, keyUrl } = await ctx.keyHost.publish('ES256')
  const nonce = await fetchNonce(origin)
  const pending = newPendingTicket()
  const proof = signDomainPopProof(key, { identity: IDENTITY, keyUrl, audience: PUBLIC_ORIGIN, method: 'GET', path: PROOF_PATH, nonce, extraClaims: kind === 'ticket' ? { epk: pending.epk } : { ses: 'cookie' } })
  const res = await fetch(origin + PROOF_PATH, { headers: { authorization: `DomainPoP ${proof}` } })
  await res.arrayBuffer()
  if (kind === 'cookie') {
    const cookie = /^([^;]+);/.exec(res.headers.get('set-cookie') ?? '')?.[1]
    if (!cookie) throw new Error(`no session cookie (status ${res.status})`)
    return { cookie }
  }
  const ticket = acceptTicket(res, pending, { nonce, aud: PUBLIC_ORIGIN, kid: key.kid })
  if (!ticket) throw new Error(`no session ticket (status ${res.status})`)
  return { ticket }
}

/**
 * The ticket path: `Authorization: DomainPoP-Session <ticket>` (the same on
 * every request) and a fresh HS256 `DomainPoP-Proof` per request (unique
 * jti, signed before each round, in-process: ~10 µs each). The gateway opens
 * the ticket (cached by ath), checks the HMAC, the claims, the revocation
 * list, the ACL and the jti (memory replay store).
 */
const gatewayTicket: BenchCase = {
  id: 'gateway-ticket', name: 'gateway, session ticket + HS256 proof per request',
  async setup(ctx): Promise<Target> {
    const gw = await startGateway(ctx, 'gateway-ticket', true, { sessions: true })
    const { ticket } = await negotiateSession(ctx, gw.origin, 'ticket')
    const htu = PUBLIC_ORIGIN + PROOF_PATH
    return {
      url: gw.origin + PROOF_PATH, pids: [gw.pid], teardown: gw.stop,
      perRequest: {
        header: 'DomainPoP-Proof', fixed: { Authorization: `DomainPoP-Session ${ticket!.ticket}` },
        generate: async (n) => Array.from({ length: n }, () => signSessionProof(ticket!.sk, { htm: 'GET', htu, ticket: ticket!.ticket })),
      },
    }
  },
}

/** The cookie path: the same `__Host-popgate` cookie on every request (a browser's). Opened once, then cached by value; ACL and revocation list per request. */
const gatewayCookie: BenchCase = {
  id: 'gateway-cookie', name: 'gateway, session cookie',
  async setup(ctx): Promise<Target> {
    const gw = await startGateway(ctx, 'gateway-cookie', true, { sessions: true })
    const { cookie } = await negotiateSession(ctx, gw.origin, 'cookie')
    return {
      url: gw.origin + PROOF_PATH, pids: [gw.pid], teardown: gw.stop,
      perRequest: { header: 'Cookie', generate: async (n) => new Array<string>(n).fill(cookie!) },
    }
  },
}
// ---- end of the session cases

// --- issue 24: issuer-symmetric (cnf.jwe) beside per-request ES256 -------------------------
/**
 * An issuer token with `cnf.jwe` (PROTOCOL.md §4): the same token on every
 * request (`Authorization: DomainPoP-Session <token>`), a fresh HS256 proof
 * per request (unique jti, `ath` of the token) in `DomainPoP-Proof`. The
 * issuer is pinned with a JWK Set file (nothing fetched under load). The
 * gateway checks the issuer signature and opens cnf.jwe once (then the opened
 * key is cached), and per request: the HMAC, claims, jti single use (memory
 * store) and the 10-rule ACL. Compare with gateway-es256 (an ES256 proof per
 * request): BENCH_CASES=undici,gateway-es256,gateway-issuer-symmetric.
 */
const issuerSymmetricCase = (id: string, name: string): BenchCase => ({
  id, name,
  async setup(ctx): Promise<Target> {
    const f = await makeIssuerSymmetricFixture(join(ctx.tmpDir, id, 'issuer'), PUBLIC_ORIGIN)
    const gw = await startGateway(ctx, id, true, { issuerSymmetric: { issuer: f.issuer, jwksFile: f.jwksFile, encryptionJwk: f.encryptionJwk } })
    return {
      url: gw.origin + PROOF_PATH, pids: [gw.pid], teardown: gw.stop,
      perRequest: { header: 'DomainPoP-Proof', fixed: { Authorization: `DomainPoP-Session ${f.token}` }, generate: async (n) => issuerSymmetricProofs(f, PUBLIC_ORIGIN + PROOF_PATH, n) },
    }
  },
})
// --- end issue 24 ---------------------------------------------------------------------------

// ---- Introspection (issue 24) -------------------------------------------------
/**
 * An opaque DPoP-bound token (RFC 7662): the same client key and per-request
 * proofs as `gateway-dpop`, the token introspected at a loopback endpoint
 * (bench/lib/introspection-setup.ts) once, then answered from the gateway's
 * cache (cacheTtl 1h): the introspection path with a warm cache, beside the
 * JWT path (BENCH_CASES=gateway-dpop,gateway-dpop-introspection).
 */
const introspectionCase = (id: string, name: string): BenchCase => ({
  id, name,
  async setup(ctx): Promise<Target> {
    const as = await makeDpopFixture(join(ctx.tmpDir, id, 'as'), PUBLIC_ORIGIN)
    const ep = await startIntrospectionEndpoint(as.issuer, PUBLIC_ORIGIN, as.client.kid)
    const gw = await startGateway(ctx, id, true, { dpop: { issuer: as.issuer, jwksFile: as.jwksFile, requireNonce: true, introspection: { endpoint: ep.endpoint } } })
    const fixed = { Authorization: `DPoP ${ep.token}` }
    const input = { method: 'GET', htu: PUBLIC_ORIGIN + PROOF_PATH, accessToken: ep.token }
    return {
      url: gw.origin + PROOF_PATH, pids: [gw.pid],
      teardown: async () => {
        await gw.stop()
        await ep.stop()
        if (ep.calls() !== 1) console.error(`${id}: the introspection endpoint was called ${ep.calls()} times (expected 1: the cache stays warm)`)
      },
      perRequest: { header: 'DPoP', fixed, generate: async (n) => pregenerateDpopProofs(as.client, { ...input, nonce: await fetchNonce(gw.origin, 'dpop-nonce') }, n) },
    }
  },
})
// ---- end introspection --------------------------------------------------------

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
  // --- Message signatures (issue 23): beside the DomainPoP Ed25519 path and the public route, in the default run.
  httpSignatureCase('gateway-httpsig-ed25519', 'gateway, HTTP message signature per request (RFC 9421, Web Bot Auth), Ed25519', 'Ed25519'),
  // The RFC 9421 hop signature on every forwarded request: docs/benchmarks.md, "Forward signature".
  gatewayPublic('gateway-public-signed', 'gateway, public route, forward signed (RFC 9421, ECDSA P-256)', true, { signature: true, optIn: false }),
  // --- end of the message-signature cases.
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
  // The DPoP path against what a user would otherwise hand-roll (BENCH_CASES=http-proxy-3,gateway-dpop,oauth4webapi-dpop):
  // docs/benchmarks.md, "DPoP path against a hand-rolled oauth4webapi resource server".
  dpopCase('gateway-dpop', 'gateway, DPoP token + proof per request, ES256, nonce, replay, ACL', 'gateway'),
  dpopCase('oauth4webapi-dpop', 'oauth4webapi validateJwtAccessToken + http-proxy-3, DPoP, ES256', 'oauth4webapi'),
  ...BASELINES.flatMap(({ prefix, label, script }) => [
    gatewayPublic(`${prefix}-public`, `${label} gateway, public route`, true, { script }),
    gatewayProof(`${prefix}-es256`, `${label} gateway, DomainPoP proof per request, ES256`, 'ES256', { script }),
    gatewayProof(`${prefix}-es256-redis`, `${label} gateway, DomainPoP proof per request, ES256, Redis replay store`, 'ES256', { replay: 'redis', script }),
    dpopCase(`${prefix}-dpop`, `${label} gateway, DPoP token + proof per request`, 'gateway', script),
  ]),
  // One proof, then a symmetric credential (issue 21): beside gateway-public and gateway-es256.
  gatewayTicket,
  gatewayCookie,
  issuerSymmetricCase('gateway-issuer-symmetric', 'gateway, issuer token with cnf.jwe + HS256 proof per request (issuer-symmetric)'),
  // Opaque token by introspection, cache warm, beside gateway-dpop (issue 24; docs/introspection.md).
  introspectionCase('gateway-dpop-introspection', 'gateway, opaque DPoP token (RFC 7662, cache warm) + proof per request, ES256, nonce, replay, ACL'),
  // TLS, HTTP/2 and mTLS beside the plain public route (issue 22).
  ...TLS_CASES,
]
