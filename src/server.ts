// Assembles the running gateway: listeners, the request pipeline, WebSocket
// upgrades, the admin endpoints, and hot reload. The only long-lived mutable
// thing is `holder.current`, swapped whole on reload.

import http from 'node:http'
import https from 'node:https'
import { readFileSync } from 'node:fs'
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
import { formatProblem, type Problem } from './config/yaml-source.js'
import type { HostPort } from './config/types.js'
import { configWarnings } from './config/warnings.js'
import { GatewayError } from './errors.js'
import { rawProblem } from './http/respond.js'
import { InFlight, type DrainResult } from './http/in-flight.js'
import { diffDecisions, ruleChanges } from './acl/index.js'

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

function listen(server: http.Server, at: HostPort): Promise<AddressInfo> {
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

  const onRequest = (req: http.IncomingMessage, res: http.ServerResponse) => { inFlight.trackResponse(res); void drive(holder, req, new HttpResponder(req, res)) }
  const onUpgrade = (req: http.IncomingMessage, socket: Duplex, head: Buffer) => { inFlight.trackSocket(socket); void drive(holder, req, new UpgradeResponder(ws, req, socket, head)) }
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

  let secure: https.Server | undefined
  let httpsAddr: AddressInfo | undefined
  if (cfg.tls) {
    secure = https.createServer({ ...serverOpts, cert: readFileSync(cfg.tls.certFile), key: readFileSync(cfg.tls.keyFile), minVersion: 'TLSv1.2' }, onRequest)
    secure.on('upgrade', onUpgrade)
    secure.on('clientError', (err, socket) => clientError(err, socket))
    applyServerLimits(secure, built.state)
    httpsAddr = await listen(secure, cfg.tls.listen)
  }

  for (const warning of configWarnings(cfg)) built.state.log.warn(warning)
  // The sessions module's revocation list, when it built one (POST /sessions/revoke/<identity>).
  const revocations = () => holder.current.modules.flatMap((m) => m.built.resources ?? []).find(isRevocations)
  const admin = cfg.admin ? createAdminServer(holder, () => inFlight.isDraining, revocations) : undefined
  const adminAddr = admin && cfg.admin ? await listen(admin, cfg.admin.listen) : undefined

  let reloading = Promise.resolve<readonly Problem[]>([])
  const reload = (reason: string): Promise<readonly Problem[]> => {
    reloading = reloading.then(async () => {
      const prev = holder.current
      let result
      try {
        result = await loadState(configFile, deps, prev)
      } catch (err) {
        result = { state: undefined, problems: [{ file: configFile, line: 1, col: 1, path: '', message: (err as Error).message }] }
      }
      if (!result.state) {
        deps.metrics.inc('popgate_config_reloads_total', { result: 'invalid' })
        for (const p of result.problems) prev.log.error({ reason, problem: formatProblem(p) }, 'reload refused; still serving the previous config')
        return result.problems
      }
      const next = result.state
      for (const s of [plain, secure]) if (s) applyServerLimits(s, next)
      if (JSON.stringify([next.config.listen, next.config.tls, next.config.admin]) !== JSON.stringify([prev.config.listen, prev.config.tls, prev.config.admin])) {
        next.log.warn('listen/tls/admin changes take effect after a restart')
      }
      holder.current = next
      deps.metrics.inc('popgate_config_reloads_total', { result: 'ok' })
      // What the ACL change does: rules by id, and the recent decisions replayed (docs/acl.md, "What a reload changes").
      const acl = { ...ruleChanges(prev.acl, next.acl), ...diffDecisions(next.decisions.snapshot(), prev.acl, next.acl) }
      next.log.info({ reason, acl }, 'config reloaded')
      void releaseUnused(prev, next)
      watcher?.refresh()
      return []
    })
    return reloading
  }

  let watcher: ConfigWatcher | undefined
  if (deps.watch !== false) watcher = watchConfig(() => { const c = holder.current.config; return [configFile, c.aclFile, c.secretsFile, c.tls?.certFile, c.tls?.keyFile] }, (reason) => void reload(reason))

  return {
    holder,
    http: httpAddr,
    https: httpsAddr,
    admin: adminAddr,
    reload,
    async drain(timeoutMs = holder.current.config.shutdown.drainTimeoutMs) {
      watcher?.close() // no reload swaps the state mid-drain
      const result = await inFlight.drain([plain, secure].filter((s): s is http.Server => s !== undefined), timeoutMs)
      await closeRest([admin])
      return result
    },
    close: () => closeRest([plain, secure, admin]),
  }

  async function closeRest(servers: readonly (http.Server | undefined)[]): Promise<void> {
    watcher?.close()
    ws.close()
    const closing = servers.filter((s): s is http.Server => s !== undefined).map((s) => new Promise<void>((r) => { s.close(() => r()); s.closeAllConnections() }))
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
