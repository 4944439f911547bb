// Assembles the running gateway: listeners, the request pipeline, WebSocket
// upgrades, the admin endpoints, and hot reload. The only long-lived mutable
// thing is `holder.current`, swapped whole on reload.

import http from 'node:http'
import type { Http2ServerRequest, Http2ServerResponse } from 'node:http2'
import type { AddressInfo } from 'node:net'
import type { Duplex } from 'node:stream'
import { drive } from './pipeline/run.js'
import { HttpResponder, UpgradeResponder } from './pipeline/responders.js'
import { loadState, releaseUnused, type BuildDeps } from './assembly/build-state.js'
import type { GatewayState, StateHolder } from './assembly/state.js'
import { createWsProxy } from './proxy/websocket.js'
import { createAdminServer } from './admin.js'
import { isRevocations } from './revocation/types.js'
import { watchConfig, type ConfigWatcher } from './config/watch.js'
import { formatProblem, inLineOrder, type Problem } from './config/yaml-source.js'
import { createReloadStatus } from './config/reload-status.js'
import type { HostPort } from './config/types.js'
import { configWarnings, isLoopbackHost } from './config/warnings.js'
import { GatewayError } from './errors.js'
import { rawProblem } from './http/respond.js'
import { InFlight, type DrainResult } from './http/in-flight.js'
import { diffDecisions, ruleChanges } from './acl/index.js'
import { loadTlsMaterial } from './tls/context.js'
import { createTlsListener, type TlsListener } from './tls/listener.js'
import { createCertificateReloader, type CertificateReloader } from './tls/reload.js'
import { adaptH2Request } from './tls/h2.js'
import { createFrontDoor } from './tls/front-door.js'
import { sendProblem } from './http/respond.js'

export interface Gateway {
  readonly holder: StateHolder
  /** Bound addresses (port 0 resolved). */
  readonly http: AddressInfo
  readonly https: AddressInfo | undefined
  readonly admin: AddressInfo | undefined
  /** Rebuilds state from files; on problems keeps the old state and returns them. */
  reload(reason: string): Promise<readonly Problem[]>
  /**
   * Graceful stop (SIGTERM/SIGINT): /readyz answers 503, the public listeners
   * stop accepting, in-flight requests and WebSockets get `timeoutMs`
   * (default shutdown.drainTimeout) to finish, then what is left is cut and
   * everything is closed.
   */
  drain(timeoutMs?: number): Promise<DrainResult>
  /** Immediate stop: in-flight requests are cut. */
  close(): Promise<void>
}

export class StartupError extends Error {
  constructor(readonly problems: readonly Problem[]) {
    super(problems.map(formatProblem).join('\n'))
  }
}

function listen(server: http.Server | TlsListener['server'], at: HostPort): Promise<AddressInfo> {
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(at.port, at.host, () => {
      server.off('error', reject)
      resolve(server.address() as AddressInfo)
    })
  })
}

function applyServerLimits(server: http.Server, state: GatewayState): void {
  const t = state.config.timeouts
  server.headersTimeout = t.clientHeadersMs // slowloris: the whole head must arrive in time
  server.requestTimeout = t.clientRequestMs
  server.keepAliveTimeout = t.keepAliveMs
  // One more than the limit, so an overflow is seen (pipeline/run.ts) rather than silently truncated.
  server.maxHeadersCount = state.config.limits.maxHeaderCount + 1
}

export async function startGateway(configFile: string, deps: BuildDeps & { watch?: boolean }): Promise<Gateway> {
  const built = await loadState(configFile, deps)
  if (!built.state) throw new StartupError(built.problems)
  const holder: StateHolder = { current: built.state }
  const cfg = built.state.config
  const ws = createWsProxy()
  const inFlight = new InFlight()

  // The front door (tls/front-door.ts): a `require` listener's certificate check, a trusted hop's Client-Cert.
  const door = createFrontDoor(holder, cfg.tls?.clientCertificates === 'require')
  const onRequest = (req: http.IncomingMessage, res: http.ServerResponse) => { inFlight.trackResponse(res); void drive(holder, req, door(new HttpResponder(req, res), false)) }
  const onUpgrade = (req: http.IncomingMessage, socket: Duplex, head: Buffer) => { inFlight.trackSocket(socket); void drive(holder, req, door(new UpgradeResponder(ws, req, socket, head), false)) }
  // The TLS listener: HTTP/2 requests made to look like HTTP/1.1 ones (tls/h2.ts).
  const onTlsRequest = (rq: http.IncomingMessage | Http2ServerRequest, rs: http.ServerResponse | Http2ServerResponse) => {
    const req = rq as http.IncomingMessage, res = rs as http.ServerResponse
    if (rq.httpVersionMajor === 2) {
      const refused = adaptH2Request(rq as Http2ServerRequest)
      if (refused) { sendProblem(res, refused, undefined); return }
    }
    inFlight.trackResponse(res)
    void drive(holder, req, door(new HttpResponder(req, res), true))
  }
  const onTlsUpgrade = (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
    inFlight.trackSocket(socket)
    void drive(holder, req, door(new UpgradeResponder(ws, req, socket, head), true))
  }
  const serverOpts: http.ServerOptions = {
    maxHeaderSize: cfg.limits.maxHeaderBytes,
    requireHostHeader: true,
    joinDuplicateHeaders: false,
    // Node checks headersTimeout/requestTimeout only this often (default 30 s),
    // which would make the slowloris guard 30 s late.
    connectionsCheckingInterval: Math.max(100, Math.min(1_000, Math.floor(cfg.timeouts.clientHeadersMs / 2))),
  }

  const plain = http.createServer(serverOpts, onRequest)
  plain.on('upgrade', onUpgrade)
  plain.on('clientError', (err, socket) => clientError(err, socket))
  applyServerLimits(plain, built.state)
  const httpAddr = await listen(plain, cfg.listen)

  let secure: TlsListener | undefined
  let httpsAddr: AddressInfo | undefined
  let certificates: CertificateReloader | undefined
  if (cfg.tls) {
    const material = loadTlsMaterial(cfg.tls, cfg.file)
    if (Array.isArray(material)) {
      await new Promise((r) => plain.close(r))
      await releaseUnused(built.state, undefined)
      throw new StartupError(material)
    }
    const tlsCfg = cfg.tls
    secure = createTlsListener(tlsCfg, material, serverOpts, { onRequest: onTlsRequest, onUpgrade: onTlsUpgrade, onClientError: clientError },
      { sessionIdleMs: cfg.timeouts.keepAliveMs, maxHeaderCount: cfg.limits.maxHeaderCount })
    applyServerLimits(secure.h1, built.state)
    httpsAddr = await listen(secure.server, tlsCfg.listen)
    const server = secure.server
    certificates = createCertificateReloader(tlsCfg, cfg.file, (options) => server.setSecureContext({ ...options, requestCert: tlsCfg.clientCertificates !== 'none', rejectUnauthorized: false } as Parameters<typeof server.setSecureContext>[0]),
      () => holder.current.log, (result) => deps.metrics.inc('popgate_tls_reloads_total', { result }))
  }

  for (const warning of configWarnings(cfg)) built.state.log.warn(warning)
  const reloadStatus = createReloadStatus()
  await reloadStatus.succeeded([configFile, cfg.aclFile])
  // The sessions module's revocation list, when it built one (POST /sessions/revoke/<identity>).
  const revocations = () => holder.current.modules.flatMap((m) => m.built.resources ?? []).find(isRevocations)
  const admin = cfg.admin ? createAdminServer(holder, () => inFlight.isDraining, { loopback: isLoopbackHost(cfg.admin.listen.host), reload: reloadStatus.current, revocations }) : undefined
  const adminAddr = admin && cfg.admin ? await listen(admin, cfg.admin.listen) : undefined

  let reloading = Promise.resolve<readonly Problem[]>([])
  const reload = (reason: string): Promise<readonly Problem[]> => {
    reloading = reloading.then(async () => {
      certificates?.refresh() // its own outcome: a config with a problem does not hold back a renewed certificate
      const prev = holder.current
      let result
      try {
        result = await loadState(configFile, deps, prev)
      } catch (err) {
        result = { state: undefined, problems: [{ file: configFile, line: 1, col: 1, path: '', message: (err as Error).message }] }
      }
      if (!result.state) {
        deps.metrics.inc('popgate_config_reloads_total', { result: 'invalid' })
        deps.metrics.activity.reload({ at: Date.now(), reason, result: 'invalid', problems: result.problems.map(formatProblem) })
        reloadStatus.failed()
        for (const p of inLineOrder(result.problems)) prev.log.error({ reason, problem: formatProblem(p) }, 'reload refused; still serving the previous config')
        return result.problems
      }
      const next = result.state
      for (const s of [plain, secure?.h1]) if (s) applyServerLimits(s, next)
      if (JSON.stringify([next.config.listen, next.config.tls, next.config.admin]) !== JSON.stringify([prev.config.listen, prev.config.tls, prev.config.admin])) {
        next.log.warn('listen/tls/admin changes take effect after a restart')
      }
      holder.current = next
      deps.metrics.inc('popgate_config_reloads_total', { result: 'ok' })
      // What the ACL change does: rules by id, and the recent decisions replayed (docs/acl.md, "What a reload changes").
      const acl = { ...ruleChanges(prev.acl, next.acl), ...diffDecisions(next.decisions.snapshot(), prev.acl, next.acl) }
      next.log.info({ reason, acl }, 'config reloaded')
      deps.metrics.activity.reload({ at: Date.now(), reason, result: 'ok', acl })
      void releaseUnused(prev, next)
      watcher?.refresh()
      // After the refresh: the watcher follows the new files at once, with nothing awaited in between.
      await reloadStatus.succeeded([configFile, next.config.aclFile])
      return []
    })
    return reloading
  }

  let watcher: ConfigWatcher | undefined
  if (deps.watch !== false) watcher = watchConfig(() => { const c = holder.current.config; return [configFile, c.aclFile, c.secretsFile, c.tls?.certFile, c.tls?.keyFile, c.tls?.clientCaFile, c.forwardedClientCert?.caFile] }, (reason) => void reload(reason))

  return {
    holder,
    http: httpAddr,
    https: httpsAddr,
    admin: adminAddr,
    reload,
    async drain(timeoutMs = holder.current.config.shutdown.drainTimeoutMs) {
      watcher?.close() // no reload swaps the state mid-drain
      const result = await inFlight.drain([plain, secure].filter((s): s is http.Server | TlsListener => s !== undefined), timeoutMs)
      await closeRest([admin])
      return result
    },
    close: () => closeRest([plain, secure, admin]),
  }

  async function closeRest(servers: readonly (http.Server | TlsListener | undefined)[]): Promise<void> {
    watcher?.close()
    ws.close()
    const closing = servers.filter((s): s is http.Server | TlsListener => s !== undefined).map((s) => new Promise<void>((r) => { s.close(() => r()); s.closeAllConnections() }))
    await Promise.all(closing)
    await releaseUnused(holder.current, undefined)
  }
}

/** Malformed HTTP from a client (bad header bytes, too large, timeouts): answer briefly, never crash. */
function clientError(err: Error & { code?: string }, socket: Duplex): void {
  if (!socket.writable) { socket.destroy(); return }
  const e = new GatewayError(err.code === 'HPE_HEADER_OVERFLOW' ? 'headers_too_large' : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 'request_timeout' : 'bad_request')
  socket.end(rawProblem(e))
}
