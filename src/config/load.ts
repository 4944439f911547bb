// Config file → validated, normalized, frozen `Config` (PROTOCOL.md §8).
// Reads: YAML text and (optionally) environment overrides. Returns: a Config
// and no problems, or no Config and every problem found, each with
// file:line:col and key path. Throws: never (an unreadable file is a problem).
//
// Precedence: environment variable > file > built-in default. Relative paths
// in the file resolve against the file's directory; relative paths given in
// an environment variable resolve against the process's working directory.

import { readFile } from 'node:fs/promises'
import { dirname, resolve as resolvePath } from 'node:path'
import type { Config } from './types.js'
import { Problems, readYaml, type Problem } from './yaml-source.js'
import { Section, describe, filePath, origin, scalar, upstreamUrl, type Context, type Override, type Source } from './readers.js'
import { upstreamHost } from './sections/upstream-host.js'
import { readForwardedClientCert, readListeners } from './sections/listeners.js'
import { readReplay, readSecretsFile } from './sections/replay.js'
import { readNonce, readProof } from './sections/proof.js'
import { readKeys } from './sections/keys.js'
import { readIdentityHeaders } from './sections/features.js'
import { readCors } from './sections/cors.js'
import { readLimits, readLog, readTimeouts, readTrustedProxies } from './sections/runtime.js'
import { readShutdown } from './sections/shutdown.js'
import { SCHEME_MODULES } from '../schemes/index.js'
import type { SchemeModule } from '../schemes/module.js'
import { otelOverrides, readTracing } from './sections/tracing.js'

export interface ConfigResult { readonly config: Config | undefined; readonly problems: readonly Problem[] }

/** sysexits.h EX_CONFIG: what `popgate serve|check` exits with when the config has problems. */
export const CONFIG_EXIT_CODE = 78

/** Environment variable → key path it overrides (PROTOCOL.md §8). */
export const ENV_OVERRIDES = Object.freeze({
  POPGATE_LISTEN: 'listen',
  POPGATE_ADMIN_LISTEN: 'admin.listen',
  POPGATE_PUBLIC_ORIGIN: 'publicOrigin',
  POPGATE_UPSTREAM: 'upstream',
  POPGATE_ACL: 'acl',
  POPGATE_REDIS_URL: 'replay.url',
  POPGATE_LOG_LEVEL: 'log.level',
  POPGATE_SECRETS_FILE: 'secrets.file',
} as const)

// ---------------------------------------------------------------- the walk
// One reader per section (src/config/sections/), then one per scheme module
// that owns a section (src/schemes/<name>/); the order of calls is the
// order problems are found in, and they are sorted by position afterwards.

const TOP_KEYS = ['listen', 'tls', 'publicOrigin', 'upstream', 'upstreamHost', 'acl', 'admin', 'secrets', 'replay', 'nonce', 'proof', 'keys',
  'identityHeaders', 'shutdown', 'cors', 'log', 'trustedProxies', 'forwardedClientCert', 'timeouts', 'limits', 'tracing'] as const

/** The top-level keys the core and the modules own; a module may not take a core key or another module's. */
export function topKeys(modules: readonly SchemeModule[]): readonly string[] {
  const keys: string[] = [...TOP_KEYS]
  for (const m of modules) {
    if (m.section === undefined) continue
    if (keys.includes(m.section)) throw new Error(`scheme module ${m.name}: config section ${m.section} is taken`)
    keys.push(m.section)
  }
  return keys
}

function build(root: Section, configFile: string, modules: readonly SchemeModule[]): Config {
  const core = readCore(root, configFile)
  const sections: Record<string, unknown> = {}
  for (const m of modules) if (m.section !== undefined && m.read) sections[m.section] = m.read(root)
  return { ...core, ...sections }
}

function readCore(root: Section, configFile: string): Config {
  const limits = readLimits(root)
  const trustedProxies = readTrustedProxies(root)
  const { listen, tls, admin } = readListeners(root, limits.maxHeaderBytes)
  return {
    file: configFile,
    listen,
    tls,
    publicOrigin: root.required('publicOrigin', scalar(origin), 'http://invalid.invalid'),
    upstream: root.required('upstream', scalar(upstreamUrl), new URL('http://invalid.invalid')),
    upstreamHost: root.get('upstreamHost', scalar(upstreamHost), 'client'),
    aclFile: root.required('acl', scalar(filePath), ''),
    admin,
    secretsFile: readSecretsFile(root),
    replay: readReplay(root),
    nonce: readNonce(root),
    proof: readProof(root),
    keys: readKeys(root),
    identityHeaders: readIdentityHeaders(root),
    shutdown: readShutdown(root),
    cors: readCors(root),
    log: readLog(root),
    trustedProxies,
    forwardedClientCert: readForwardedClientCert(root, trustedProxies),
    timeouts: readTimeouts(root),
    limits,
    tracing: readTracing(root),
  }
}

// ---------------------------------------------------------------- entry points

/** Pure: validates YAML text. `file` names it in messages; relative paths resolve against dirname(file). */
/** `modules`: the scheme modules whose sections the file may hold (default: the built-in ones, schemes/index.ts). */
export function parseConfig(text: string, file: string, env: Readonly<Record<string, string | undefined>> = {}, modules: readonly SchemeModule[] = SCHEME_MODULES): ConfigResult {
  const { root, problems } = readYaml(text, file)
  // `---` alone, or only comments: a document with nothing in it.
  if (root === undefined || (root.kind === 'scalar' && root.value === null)) {
    if (problems.ok) problems.at({ line: 1, col: 1 }, '', 'the file is empty; publicOrigin, upstream and acl are required')
    return { config: undefined, problems: problems.list }
  }
  const fileSource: Source = { problems, baseDir: dirname(resolvePath(file)) }
  const envProblems: Problems[] = []
  const overrides = new Map<string, Override>()
  for (const [name, path] of Object.entries(ENV_OVERRIDES)) {
    const value = env[name]
    if (value === undefined) continue
    const source: Source = { problems: new Problems(`$${name}`), baseDir: process.cwd() }
    envProblems.push(source.problems)
    // An empty variable is more likely a templating slip than a wish to use the file's value.
    if (value === '') source.problems.at({ line: 1, col: 1 }, path, 'is set but empty; unset it to use the config file\'s value')
    else overrides.set(path, { node: { kind: 'scalar', pos: { line: 1, col: 1 }, value }, source })
  }
  // The standard OpenTelemetry variables, as overrides of the tracing section (config/sections/tracing.ts).
  const otel = otelOverrides(env)
  for (const [name, path, value] of otel.values) {
    const source: Source = { problems: new Problems(`$${name}`), baseDir: process.cwd() }
    envProblems.push(source.problems)
    overrides.set(path, { node: { kind: 'scalar', pos: { line: 1, col: 1 }, value }, source })
  }
  const ctx: Context = { file: fileSource, overrides }

  let config: Config | undefined
  if (root.kind !== 'map') {
    problems.at(root.pos, '', `must be a map of settings (publicOrigin, upstream, acl, ...); got ${root.kind === 'seq' ? 'a list' : describe(root.value)}`)
  } else {
    const configFile = /^<.*>$/.test(file) ? file : resolvePath(file)
    config = build(new Section(ctx, root, '', topKeys(modules), { line: 1, col: 1 }), configFile, modules)
    if (otel.disabled) config = { ...config, tracing: undefined }
  }
  const all = [...sortByPosition(problems.list), ...envProblems.flatMap((p) => p.list)]
  return all.length === 0 && config !== undefined ? { config: deepFreeze(config), problems: [] } : { config: undefined, problems: all }
}

/** Reads the file (a missing or unreadable file is one problem at 1:1), then `parseConfig`. Pass `process.env` to honour overrides. */
export async function loadConfigFile(file: string, env: Readonly<Record<string, string | undefined>> = {}, modules: readonly SchemeModule[] = SCHEME_MODULES): Promise<ConfigResult> {
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : code === 'EISDIR' ? 'is a directory' : (err as Error).message
    return { config: undefined, problems: [{ file, line: 1, col: 1, path: '', message: `cannot read the config file: ${why}` }] }
  }
  return parseConfig(text, file, env, modules)
}

function sortByPosition(list: readonly Problem[]): Problem[] {
  return [...list].sort((a, b) => a.line - b.line || a.col - b.col)
}

/** Freezes plain objects and arrays all the way down; a URL is left as it is (freezing it would not protect its setters). */
function deepFreeze<T>(value: T): T {
  if (value === null || typeof value !== 'object' || value instanceof URL || Object.isFrozen(value)) return value
  for (const child of Object.values(value as object)) deepFreeze(child)
  return Object.freeze(value)
}
