import { parseArgs } from 'node:util'
import { resolve } from 'node:path'
import { startGateway, StartupError } from '../server.js'
import { createLogger } from '../log.js'
import { createMetrics } from '../admin/metrics.js'
import { loadConfigFile, CONFIG_EXIT_CODE } from '../config/load.js'
import { loadAclFile } from '../acl/index.js'
import { loadSecrets } from '../secrets/load.js'
import { formatProblem } from '../config/yaml-source.js'
import { configWarnings } from '../config/warnings.js'

export async function runServe(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { config: { type: 'string', short: 'c' } } })
  const file = resolve(values.config ?? process.env.POPGATE_CONFIG ?? 'config/gateway.yaml')
  const pre = await loadConfigFile(file, process.env)
  if (!pre.config) return report(pre.problems)
  const log = createLogger(pre.config.log.level)
  try {
    const gw = await startGateway(file, { env: process.env, log, metrics: createMetrics() })
    const st = gw.holder.current
    if (st.secrets.generated) log.warn('no secrets configured: generated dev secrets in memory; replicas will not accept each other\'s nonces (set secrets.file)')
    log.info({ http: `${gw.http.address}:${gw.http.port}`, https: gw.https && `${gw.https.address}:${gw.https.port}`, admin: gw.admin && `${gw.admin.address}:${gw.admin.port}`, upstream: st.config.upstream.href }, 'popgate listening')
    // A second signal while closing exits at once, still through process.exit,
    // so the log lines waiting in the batch are written (log.ts createDestination).
    let stopping = false
    const stop = () => {
      if (stopping) process.exit(1)
      stopping = true
      log.info('shutting down')
      void gw.close().then(() => { log.flush(); process.exit(0) })
    }
    process.on('SIGTERM', stop)
    process.on('SIGINT', stop)
    return -1
  } catch (err) {
    if (err instanceof StartupError) return report(err.problems)
    throw err
  }
}

function report(problems: readonly import('../config/yaml-source.js').Problem[]): number {
  for (const p of problems) process.stderr.write(formatProblem(p) + '\n')
  return CONFIG_EXIT_CODE
}

export async function runCheck(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { config: { type: 'string', short: 'c' } } })
  if (!values.config) throw Object.assign(new Error('check needs --config FILE'), { code: 'ERR_PARSE_ARGS_USAGE' })
  const file = resolve(values.config)
  const { config, problems } = await loadConfigFile(file, process.env)
  const all = [...problems]
  if (config) {
    const [acl, secrets] = await Promise.all([loadAclFile(config.aclFile), loadSecrets(config.secretsFile, process.env)])
    all.push(...acl.problems, ...secrets.problems)
  }
  if (all.length > 0) return report(all)
  for (const warning of configWarnings(config!)) process.stderr.write(`${file}: warning: ${warning}\n`)
  process.stdout.write(`${file}: ok\n`)
  return 0
}
