// `popgate serve` and `popgate check`. Both find the config the same way and
// run the same validation: the state-building function the gateway runs
// (assembly/build-state.ts loadState) and the TLS files it reads at start.
// check builds that state, releases it, and never listens.

import { parseArgs } from 'node:util'
import { resolve } from 'node:path'
import { existsSync, readFileSync } from 'node:fs'
import { createSecureContext } from 'node:tls'
import { startGateway, StartupError } from '../server.js'
import { createLogger, createPrettyDestination } from '../log.js'
import { createMetrics } from '../metrics.js'
import { loadConfigFile } from '../config/load.js'
import { loadState, releaseUnused } from '../assembly/build-state.js'
import { schemeRedactFields } from '../schemes/index.js'
import { formatProblem, type Problem } from '../config/yaml-source.js'
import type { Config } from '../config/types.js'
import { formatFinding } from '../acl/index.js'
import { REPORT_MODE_NOTE } from '../acl/lint.js'
import { UsageError, CliError, EXIT } from './usage.js'

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

/** What the HTTPS listener will need: readable PEM files that form a pair. */
export function tlsProblems(config: Config): Problem[] {
  if (!config.tls) return []
  const at = (file: string, path: string, message: string): Problem => ({ file, line: 1, col: 1, path, message })
  const read = (file: string, path: string): Buffer | Problem => {
    try { return readFileSync(file) } catch (err) { return at(file, path, `cannot read (${(err as NodeJS.ErrnoException).code ?? 'error'}); fix ${path} in ${config.file}`) }
  }
  const cert = read(config.tls.certFile, 'tls.cert'), key = read(config.tls.keyFile, 'tls.key')
  const problems = [cert, key].filter((x): x is Problem => !Buffer.isBuffer(x))
  if (problems.length > 0) return problems
  try { createSecureContext({ cert: cert as Buffer, key: key as Buffer }) } catch (err) {
    return [at(config.tls.certFile, 'tls', `certificate and key are not a usable pair: ${(err as Error).message}`)]
  }
  return []
}

function report(problems: readonly Problem[]): number {
  for (const p of problems) process.stderr.write(formatProblem(p) + '\n')
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
  log.info({ http: `${gw.http.address}:${gw.http.port}`, https: gw.https && `${gw.https.address}:${gw.https.port}`, admin: gw.admin && `${gw.admin.address}:${gw.admin.port}`, upstream: st.config.upstream.href }, 'popgate listening')
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

export async function runCheck(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { config: { type: 'string', short: 'c' } } })
  const file = configPath(values.config, process.env)
  const built = await loadState(file, { env: process.env, log: createLogger('silent'), metrics: createMetrics() })
  if (!built.state) return report(built.problems)
  const state = built.state
  await releaseUnused(state, undefined)
  const tls = tlsProblems(state.config)
  if (tls.length > 0) return report(tls)
  for (const warning of configWarnings(state.config)) process.stderr.write(`${file}: warning: ${warning}\n`)
  process.stdout.write(`${file}: ok\n`)
  // Report mode is a rollout stage, not a place to stay: say so for every rule in it (readiness is unaffected).
  for (const rule of state.acl.rules) {
    if (rule.mode === 'report') process.stdout.write(`warning: ${formatFinding({ ruleId: rule.id, index: rule.index, pos: rule.pos, kind: 'report_mode', message: REPORT_MODE_NOTE }, state.acl.file)}\n`)
  }
  if (state.secrets.generated) process.stdout.write(`note: ${THROWAWAY_SECRETS}\n`)
  return EXIT.ok
}
