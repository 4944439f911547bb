// `popgate serve` and `popgate check`. Both find the config the same way and
// run the same validation: the state-building function the gateway runs
// (assembly/build-state.ts loadState) and the TLS files it reads at start.
// check builds that state, releases it, and never listens.

import { parseArgs } from 'node:util'
import { resolve } from 'node:path'
import { existsSync } from 'node:fs'
import { randomUUID } from 'node:crypto'
import { loadTlsMaterial } from '../tls/context.js'
import { loadCaBundle } from '../tls/client-cert-header.js'
import { startGateway, StartupError } from '../server.js'
import { createLogger, createPrettyDestination } from '../log.js'
import { createMetrics } from '../metrics.js'
import { loadConfigFile } from '../config/load.js'
import { loadState, releaseUnused } from '../assembly/build-state.js'
import { schemeRedactFields } from '../schemes/index.js'
import { formatProblem, inLineOrder, type Problem } from '../config/yaml-source.js'
import type { Config } from '../config/types.js'
import { formatFinding } from '../acl/index.js'
import { CHANNEL_BINDING_UNMET, CLIENT_CERTIFICATE_UNMET, REPORT_MODE_NOTE, needsClientCertificate } from '../acl/lint.js'
import { UsageError, CliError, EXIT } from './usage.js'
import { version } from './version.js'

const DEFAULT_CONFIG = 'config/gateway.yaml'
export const THROWAWAY_SECRETS = 'no secrets configured (secrets.file or POPGATE_NONCE_SECRETS): throw-away secrets are generated at start, so nonces die with the process and replicas will not accept each other\'s; make a file with `popgate secrets generate --out FILE` and set secrets.file'

/** --config, else $POPGATE_CONFIG, else config/gateway.yaml when it exists. */
export function configPath(flag: string | undefined, env: NodeJS.ProcessEnv): string {
  if (flag) return resolve(flag)
  if (env.POPGATE_CONFIG === '') throw new UsageError('POPGATE_CONFIG is set but empty; unset it or name the config file')
  if (env.POPGATE_CONFIG) return resolve(env.POPGATE_CONFIG)
  if (!existsSync(DEFAULT_CONFIG)) throw new UsageError(`no config: pass --config FILE or set POPGATE_CONFIG (there is no ${DEFAULT_CONFIG} here)`)
  return resolve(DEFAULT_CONFIG)
}

/** What the HTTPS listener will need: readable PEM files that form a pair, and a usable client CA bundle; and the forwarded-certificate CA. */
export function tlsProblems(config: Config): Problem[] {
  const problems: Problem[] = []
  if (config.tls) {
    const m = loadTlsMaterial(config.tls, config.file)
    if (Array.isArray(m)) problems.push(...m)
  }
  const f = config.forwardedClientCert
  if (f) {
    try { loadCaBundle(f.caFile) } catch (err) {
      problems.push({ file: f.caFile, line: 1, col: 1, path: 'forwardedClientCert.ca', message: `not a usable CA bundle (${(err as NodeJS.ErrnoException).code ?? (err as Error).message.replace(`${f.caFile}: `, '')})` })
    }
  }
  return problems
}

function report(problems: readonly Problem[]): number {
  for (const p of inLineOrder(problems)) process.stderr.write(formatProblem(p) + '\n')
  return EXIT.config
}

function listenFailure(err: NodeJS.ErrnoException & { address?: string; port?: number }): CliError | undefined {
  const at = err.address !== undefined ? `${err.address}:${err.port}` : 'the configured address'
  if (err.code === 'EADDRINUSE') return new CliError(`cannot listen on ${at}: address already in use; stop the other process or change listen (POPGATE_LISTEN), tls.listen or admin.listen`, EXIT.cannotListen)
  if (err.code === 'EACCES') return new CliError(`cannot listen on ${at}: permission denied; use a port above 1023 or grant the capability to bind it`, EXIT.cannotListen)
  if (err.code === 'EADDRNOTAVAIL') return new CliError(`cannot listen on ${at}: no such address on this machine; fix listen`, EXIT.cannotListen)
  return undefined
}
import { configWarnings } from '../config/warnings.js'
import type { Acl } from '../acl/index.js'

export const UNMATCHED_REPORT_NOTE = 'unmatched: report: requests no rule matches are forwarded without an identity (logged as would_deny, reason no_rule); remove it once the log is clean'

/**
 * Report mode is a rollout stage, not a place to stay: one line for every
 * rule in it, and for `unmatched: report`. `check` prints them, `serve` logs
 * them at start (readiness is unaffected).
 */
export function reportModeWarnings(acl: Acl): string[] {
  const lines = acl.rules.filter((r) => r.mode === 'report')
    .map((rule) => formatFinding({ ruleId: rule.id, index: rule.index, pos: rule.pos, kind: 'report_mode', message: REPORT_MODE_NOTE }, acl.file))
  if (acl.unmatched === 'report') lines.push(`${acl.file}: ${UNMATCHED_REPORT_NOTE}`)
  return lines
}

/** A `channelBinding: required` rule under a config with no TLS listener allows no one (PROTOCOL.md §5). */
export function channelBindingWarnings(config: Config, acl: Acl): string[] {
  if (config.tls) return []
  return acl.rules.filter((r) => r.channelBinding === 'required' && !r.public)
    .map((rule) => formatFinding({ ruleId: rule.id, index: rule.index, pos: rule.pos, kind: 'channel_binding', message: CHANNEL_BINDING_UNMET }, acl.file))
}

/** Whether a client certificate can reach the gateway at all: its own listener asks for one, or a trusted hop forwards Client-Cert (RFC 9440). */
export const hasCertificateSource = (config: Config): boolean =>
  (config.tls !== undefined && config.tls.clientCertificates !== 'none') || config.forwardedClientCert !== undefined

/** A rule that needs (or forwards) a client certificate under a config with no certificate source. */
export function clientCertificateWarnings(config: Config, acl: Acl): string[] {
  if (hasCertificateSource(config)) return []
  const lines: string[] = []
  for (const rule of acl.rules) {
    const needs = needsClientCertificate(rule)
    const message = needs !== undefined
      ? `${needs} can never be met: ${CLIENT_CERTIFICATE_UNMET}, so every request here is refused (${rule.clientCertificate === 'required' ? 'client_certificate_required' : 'credentials_not_accepted'})`
      : rule.forwardClientCert && !rule.public ? `forwardClientCert: true forwards nothing: ${CLIENT_CERTIFICATE_UNMET}` : undefined
    if (message) lines.push(formatFinding({ ruleId: rule.id, index: rule.index, pos: rule.pos, kind: 'client_certificate', message }, acl.file))
  }
  return lines
}

export async function runServe(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { config: { type: 'string', short: 'c' } } })
  const file = configPath(values.config, process.env)
  const pre = await loadConfigFile(file, process.env)
  if (!pre.config) return report(pre.problems)
  const tls = tlsProblems(pre.config)
  if (tls.length > 0) return report(tls)
  const log = createLogger(pre.config.log.level, pre.config.log.format === 'pretty' ? createPrettyDestination() : undefined, schemeRedactFields())
  let gw
  try {
    gw = await startGateway(file, { env: process.env, log, metrics: createMetrics() })
  } catch (err) {
    if (err instanceof StartupError) return report(err.problems)
    throw listenFailure(err as NodeJS.ErrnoException) ?? err
  }
  const st = gw.holder.current
  if (st.secrets.generated) log.warn(THROWAWAY_SECRETS)
  for (const warning of [...reportModeWarnings(st.acl), ...channelBindingWarnings(st.config, st.acl), ...clientCertificateWarnings(st.config, st.acl)]) log.warn({ acl: st.acl.file }, warning)
  log.info({
    version: version(), pid: process.pid, config: file, rules: st.acl.rules.length,
    http: `${gw.http.address}:${gw.http.port}`, https: gw.https && `${gw.https.address}:${gw.https.port}`, admin: gw.admin && `${gw.admin.address}:${gw.admin.port}`, upstream: st.config.upstream.href,
  }, 'popgate listening')
  // A second signal while closing exits at once, still through process.exit,
  // so the log lines waiting in the batch are written (log.ts createDestination).
  let stopping = false
  const stop = () => {
    if (stopping) process.exit(1)
    stopping = true
    log.info({ drainTimeoutMs: gw.holder.current.config.shutdown.drainTimeoutMs }, 'shutting down: draining')
    // Exit 0 either way: a stop was asked for and done; cut requests are logged.
    void gw.drain().then(({ cut }) => {
      if (cut > 0) log.warn({ cut }, 'drain timed out; cut the requests and WebSockets still open')
      log.info('stopped')
      log.flush()
      process.exit(0)
    }, (err: unknown) => { log.error({ err }, 'drain failed'); log.flush(); process.exit(1) })
  }
  process.on('SIGTERM', stop)
  process.on('SIGINT', stop)
  return -1
}

/** Where a Redis store is, without its credentials: `host:port (mode)`. */
function redisWhere(config: Config): string {
  let at = 'the configured URL'
  try { const u = new URL(config.replay.url ?? ''); at = `${u.hostname}:${u.port || 6379}` } catch { /* validated at load */ }
  return config.replay.mode === 'standalone' ? at : `${at} (${config.replay.mode})`
}

/**
 * What check says about the replay store. A Redis store is connected to only
 * with --connect, by the gateway's own command (one `SET … NX PX 1000` of a
 * throw-away key under keyPrefix): it proves the address, TLS, credentials
 * and the ACL user's rights. Each try has replay.timeout, as a proof has;
 * tries are repeated for a few seconds, since a cold process still loads
 * the client and connects (a serving gateway's first proofs wait for that
 * too).
 */
export async function checkReplayStore(config: Config, store: { firstUse(key: string, ttlMs: number): Promise<boolean> }, connect: boolean): Promise<{ ok: boolean; text: string }> {
  if (config.replay.store === 'memory') return { ok: true, text: 'replay store: memory (in the process; nothing to connect to)' }
  const where = `replay store: redis at ${redisWhere(config)}`
  if (!connect) return { ok: true, text: `${where}: not connected (popgate check --connect connects to it)` }
  const until = Date.now() + Math.max(CONNECT_TRIES_MS, 4 * config.replay.timeoutMs)
  for (;;) {
    try {
      await store.firstUse(`check\n${randomUUID()}`, 1000)
      return { ok: true, text: `${where}: connected, a test key written` }
    } catch (err) {
      if (Date.now() < until) { await new Promise((r) => setTimeout(r, 100)); continue }
      return { ok: false, text: `${where}: ${(err as Error).message || 'does not answer'}; proofs would get 503 replay_store_unavailable (check the address, TLS, password and replay.timeout)` }
    }
  }
}
const CONNECT_TRIES_MS = 3_000

export async function runCheck(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { config: { type: 'string', short: 'c' }, connect: { type: 'boolean', default: false } } })
  const file = configPath(values.config, process.env)
  const built = await loadState(file, { env: process.env, log: createLogger('silent'), metrics: createMetrics() })
  if (!built.state) return report(built.problems)
  const state = built.state
  const store = await checkReplayStore(state.config, state.replay, values.connect === true)
  await releaseUnused(state, undefined)
  const tls = tlsProblems(state.config)
  if (tls.length > 0) return report(tls)
  if (!store.ok) throw new CliError(store.text, EXIT.unavailable)
  for (const warning of configWarnings(state.config)) process.stderr.write(`${file}: warning: ${warning}\n`)
  process.stdout.write(`${file}: ok\n`)
  process.stdout.write(`${store.text}\n`)
  for (const warning of [...reportModeWarnings(state.acl), ...channelBindingWarnings(state.config, state.acl), ...clientCertificateWarnings(state.config, state.acl)]) process.stdout.write(`warning: ${warning}\n`)
  if (state.secrets.generated) process.stdout.write(`note: ${THROWAWAY_SECRETS}\n`)
  return EXIT.ok
}
