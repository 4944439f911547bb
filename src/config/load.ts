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
import { PROOF_ALGORITHMS, type Config, type HostPort, type LogLevel } from './types.js'
import { Problems, readYaml, type Problem } from './yaml-source.js'
import {
  Section, allowPorts, bool, cookieName, describe, duration, filePath, headerPrefix, hostPort, httpUrl, identity, ipLiteral, ipOrCidr,
  listOf, mapOf, oneOf, origin, pathPrefix, positiveInt, redisUrl, scalar, size, str, upstreamUrl,
  type Context, type Override, type Reader, type Source,
} from './schema.js'
import { formatDurationMs } from './units.js'

export interface ConfigResult { readonly config: Config | undefined; readonly problems: readonly Problem[] }

/** sysexits.h EX_CONFIG: what `popgate serve|check` exits with when the config has problems. */
export const CONFIG_EXIT_CODE = 78

/** Environment variable → key path it overrides (PROTOCOL.md §8). */
export const ENV_OVERRIDES = Object.freeze({
  POPGATE_LISTEN: 'listen',
  POPGATE_PUBLIC_ORIGIN: 'publicOrigin',
  POPGATE_UPSTREAM: 'upstream',
  POPGATE_ACL: 'acl',
  POPGATE_REDIS_URL: 'replay.url',
  POPGATE_LOG_LEVEL: 'log.level',
  POPGATE_SECRETS_FILE: 'secrets.file',
} as const)

const LOG_LEVELS: readonly LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']
/** `dpop.issuers`: issuer URL → { jwksUri }. Parsed so mistakes show now; not used until DPoP lands. */
const issuers: Reader<Record<string, string>> = mapOf(
  (k) => {
    const u = httpUrl(k, 'https://as.alice.example')
    return typeof u === 'string' ? u : u.protocol !== 'https:' ? 'must be an https: URL (PROTOCOL.md §3)' : { value: k as string }
  },
  (node, path, source) => {
    const s = new Section({ file: source, overrides: new Map() }, node, path, ['jwksUri'])
    return s.required('jwksUri', scalar((v) => {
      const u = httpUrl(v, 'https://as.alice.example/jwks')
      return typeof u === 'string' ? u : u.protocol !== 'https:' ? 'must be an https: URL' : { value: u.href }
    }), '')
  },
)

// ---------------------------------------------------------------- the walk

const file = scalar(filePath)
const TOP_KEYS = ['listen', 'tls', 'publicOrigin', 'upstream', 'acl', 'admin', 'secrets', 'replay', 'nonce', 'proof', 'keys', 'dpop',
  'sessions', 'identityHeaders', 'cors', 'log', 'trustedProxies', 'timeouts', 'limits'] as const
const PLACEHOLDER_HOSTPORT: HostPort = { host: '127.0.0.1', port: 0 }

function build(root: Section, configFile: string): Config {
  const listen = root.get('listen', scalar(hostPort), { host: '127.0.0.1', port: 8080 })

  const tlsSection = root.sub('tls', ['listen', 'cert', 'key'])
  const tls = tlsSection.present
    ? {
        listen: tlsSection.required('listen', scalar(hostPort), PLACEHOLDER_HOSTPORT),
        certFile: tlsSection.required('cert', file, ''),
        keyFile: tlsSection.required('key', file, ''),
      }
    : undefined

  const adminSection = root.sub('admin', ['listen'])
  const admin = adminSection.present ? { listen: adminSection.required('listen', scalar(hostPort), PLACEHOLDER_HOSTPORT) } : undefined
  checkDistinctListeners(tlsSection, adminSection, listen, tls?.listen, admin?.listen)

  const secrets = root.sub('secrets', ['file'])
  const secretsFile = secrets.present ? secrets.required('file', file, '') : secrets.get('file', file, undefined)

  const r = root.sub('replay', ['store', 'url', 'maxEntries'])
  const replay = {
    store: r.get('store', scalar(oneOf(['memory', 'redis'] as const)), 'memory'),
    url: r.get('url', scalar(redisUrl), undefined),
    maxEntries: r.get('maxEntries', scalar(positiveInt()), 1_000_000),
  }
  if (replay.store === 'redis' && replay.url === undefined && !r.has('url')) r.report('store', 'store: redis needs replay.url (or $POPGATE_REDIS_URL)')
  // A Redis URL with the memory store would silently leave each replica its own replay cache.
  if (replay.store === 'memory' && r.has('url')) r.report('url', 'is set but replay.store is memory; set store: redis (or remove the url)')

  const n = root.sub('nonce', ['ttl'])
  const p = root.sub('proof', ['maxAge', 'clockSkew', 'algorithms', 'maxBytes'])
  const k = root.sub('keys', ['pathPrefix', 'allowHttp', 'allowPrivateAddresses', 'allowPorts', 'resolve', 'caFile', 'timeout', 'maxBytes',
    'cacheMinTtl', 'cacheMaxTtl', 'negativeTtl', 'refetchCooldown', 'cacheMaxEntries', 'hotKeys', 'maxInFlightPerDomain', 'maxInFlight'])
  const keys = {
    pathPrefix: k.get('pathPrefix', scalar(pathPrefix), '/.well-known/domainpop/'),
    allowHttp: k.get('allowHttp', listOf(scalar(identity), { unique: true }), []),
    allowPrivateAddresses: k.get('allowPrivateAddresses', scalar(bool), false),
    allowPorts: k.get('allowPorts', allowPorts, [443]),
    resolve: k.get('resolve', mapOf(identity, scalar(ipLiteral)), Object.create(null) as Record<string, string>),
    caFile: k.get('caFile', file, undefined),
    timeoutMs: k.get('timeout', duration(), 3_000),
    maxBytes: k.get('maxBytes', size, 64 * 1024),
    cacheMinTtlMs: k.get('cacheMinTtl', duration(), 60_000),
    cacheMaxTtlMs: k.get('cacheMaxTtl', duration(), 3_600_000),
    negativeTtlMs: k.get('negativeTtl', duration(), 10_000),
    refetchCooldownMs: k.get('refetchCooldown', duration(), 30_000),
    cacheMaxEntries: k.get('cacheMaxEntries', scalar(positiveInt()), 10_000),
    hotKeys: k.get('hotKeys', scalar(positiveInt()), 1_024),
    maxInFlightPerDomain: k.get('maxInFlightPerDomain', scalar(positiveInt()), 4),
    maxInFlight: k.get('maxInFlight', scalar(positiveInt()), 64),
  }
  if (keys.cacheMinTtlMs > keys.cacheMaxTtlMs) {
    k.report(k.has('cacheMinTtl') ? 'cacheMinTtl' : 'cacheMaxTtl',
      `cacheMinTtl (${formatDurationMs(keys.cacheMinTtlMs)}) must not exceed cacheMaxTtl (${formatDurationMs(keys.cacheMaxTtlMs)})`)
  }

  const d = root.sub('dpop', ['enabled', 'audience', 'issuers'])
  const dpopEnabled = d.get('enabled', scalar(bool), false)
  if (dpopEnabled) d.report('enabled', 'DPoP tokens are not supported by this version yet')
  // Features whose keys are public interface but which are not built yet are
  // refused when switched on, never silently ignored (an operator would
  // believe a protection is in place).
  d.get('audience', scalar(str), undefined)
  d.get('issuers', issuers, {})

  const s = root.sub('sessions', ['tickets', 'cookie'])
  const st = s.sub('tickets', ['enabled', 'ttl'])
  const sc = s.sub('cookie', ['enabled', 'name', 'ttl'])
  const ih = root.sub('identityHeaders', ['prefix', 'assertion', 'forwardAuthorization'])
  if (sc.get('enabled', scalar(bool), false)) sc.report('enabled', 'session cookies are not supported by this version yet')
  if (ih.get('assertion', scalar(bool), false)) ih.report('assertion', 'signed identity assertions are not supported by this version yet')
  const log = root.sub('log', ['level', 'access'])
  const t = root.sub('timeouts', ['upstreamConnect', 'upstreamHeaders', 'upstreamBody', 'clientHeaders', 'clientRequest', 'keepAlive'])
  const l = root.sub('limits', ['maxHeaderBytes', 'maxHeaderCount', 'upstreamConnections', 'failedAuthPerClientPerMinute', 'failedAuthPerIdentityPerMinute', 'newKeyDomainsPerMinute'])

  return {
    file: configFile,
    listen,
    tls,
    publicOrigin: root.required('publicOrigin', scalar(origin), 'http://invalid.invalid'),
    upstream: root.required('upstream', scalar(upstreamUrl), new URL('http://invalid.invalid')),
    aclFile: root.required('acl', file, ''),
    admin,
    secretsFile,
    replay,
    nonce: { ttlMs: n.get('ttl', duration(), 300_000) },
    proof: {
      maxAgeMs: p.get('maxAge', duration(), 60_000),
      clockSkewMs: p.get('clockSkew', duration({ allowZero: true }), 5_000),
      algorithms: p.get('algorithms', listOf(scalar(oneOf(PROOF_ALGORITHMS)), { nonEmpty: true, unique: true }), [...PROOF_ALGORITHMS]),
      maxBytes: p.get('maxBytes', size, 8 * 1024),
    },
    keys,
    dpop: { enabled: dpopEnabled },
    sessions: {
      tickets: { enabled: st.get('enabled', scalar(bool), true), ttlMs: st.get('ttl', duration(), 3_600_000) },
      cookie: {
        enabled: sc.get('enabled', scalar(bool), false),
        name: sc.get('name', scalar(cookieName), '__Host-popgate'),
        ttlMs: sc.get('ttl', duration(), 3_600_000),
      },
    },
    identityHeaders: {
      prefix: ih.get('prefix', scalar(headerPrefix), 'X-PoP-'),
      assertion: ih.get('assertion', scalar(bool), false),
      forwardAuthorization: ih.get('forwardAuthorization', scalar(bool), false),
    },
    cors: { origins: root.sub('cors', ['origins']).get('origins', listOf(scalar(origin), { unique: true }), []) },
    log: { level: log.get('level', scalar(oneOf(LOG_LEVELS)), 'info'), access: log.get('access', scalar(bool), true) },
    trustedProxies: root.get('trustedProxies', listOf(scalar(ipOrCidr), { unique: true }), []),
    timeouts: {
      upstreamConnectMs: t.get('upstreamConnect', duration(), 5_000),
      upstreamHeadersMs: t.get('upstreamHeaders', duration(), 30_000),
      upstreamBodyMs: t.get('upstreamBody', duration(), 300_000),
      clientHeadersMs: t.get('clientHeaders', duration(), 20_000),
      clientRequestMs: t.get('clientRequest', duration(), 300_000),
      keepAliveMs: t.get('keepAlive', duration(), 5_000),
    },
    limits: {
      maxHeaderBytes: l.get('maxHeaderBytes', size, 16 * 1024),
      maxHeaderCount: l.get('maxHeaderCount', scalar(positiveInt(10_000)), 100),
      upstreamConnections: l.get('upstreamConnections', scalar(positiveInt()), 64),
      failedAuthPerClientPerMinute: l.get('failedAuthPerClientPerMinute', scalar(positiveInt()), 120),
      failedAuthPerIdentityPerMinute: l.get('failedAuthPerIdentityPerMinute', scalar(positiveInt()), 300),
      newKeyDomainsPerMinute: l.get('newKeyDomainsPerMinute', scalar(positiveInt()), 300),
    },
  }
}

/** Two listeners on one fixed host:port would fail at bind time; say so now, where the lines are known. */
function checkDistinctListeners(tls: Section, admin: Section, listen: HostPort, tlsListen?: HostPort, adminListen?: HostPort): void {
  const same = (a: HostPort, b?: HostPort): boolean => b !== undefined && a.port !== 0 && a.host === b.host && a.port === b.port
  if (same(listen, tlsListen)) tls.report('listen', 'is the same address as listen')
  if (same(listen, adminListen)) admin.report('listen', 'is the same address as listen')
  else if (tlsListen && same(tlsListen, adminListen)) admin.report('listen', 'is the same address as tls.listen')
}

// ---------------------------------------------------------------- entry points

/** Pure: validates YAML text. `file` names it in messages; relative paths resolve against dirname(file). */
export function parseConfig(text: string, file: string, env: Readonly<Record<string, string | undefined>> = {}): ConfigResult {
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
  const ctx: Context = { file: fileSource, overrides }

  let config: Config | undefined
  if (root.kind !== 'map') {
    problems.at(root.pos, '', `must be a map of settings (publicOrigin, upstream, acl, ...); got ${root.kind === 'seq' ? 'a list' : describe(root.value)}`)
  } else {
    const configFile = /^<.*>$/.test(file) ? file : resolvePath(file)
    config = build(new Section(ctx, root, '', TOP_KEYS, { line: 1, col: 1 }), configFile)
  }
  const all = [...sortByPosition(problems.list), ...envProblems.flatMap((p) => p.list)]
  return all.length === 0 && config !== undefined ? { config: deepFreeze(config), problems: [] } : { config: undefined, problems: all }
}

/** Reads the file (a missing or unreadable file is one problem at 1:1), then `parseConfig`. Pass `process.env` to honour overrides. */
export async function loadConfigFile(file: string, env: Readonly<Record<string, string | undefined>> = {}): Promise<ConfigResult> {
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : code === 'EISDIR' ? 'is a directory' : (err as Error).message
    return { config: undefined, problems: [{ file, line: 1, col: 1, path: '', message: `cannot read the config file: ${why}` }] }
  }
  return parseConfig(text, file, env)
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
