import t from 'tap'
import { existsSync } from 'node:fs'
import { mkdtemp, mkdir, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { CONFIG_EXIT_CODE, ENV_OVERRIDES, loadConfigFile, parseConfig } from '../../../src/config/load.js'
import type { Config as CoreConfig } from '../../../src/config/types.js'
import type { DpopConfig } from '../../../src/schemes/dpop/config.js'
import type { SessionsConfig } from '../../../src/schemes/sessions/index.js'
import type { HttpSignaturesConfig } from '../../../src/schemes/http-signature/config.js'
import type { IssuerSymmetricConfig } from '../../../src/schemes/issuer-symmetric/config.js'
import { formatProblem } from '../../../src/config/yaml-source.js'

/** The repository root, found from this file whether it runs from test/ or dist/test/. */
function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url))
  while (!existsSync(join(dir, 'test', 'fixtures', 'config'))) {
    const up = dirname(dir)
    if (up === dir) throw new Error('cannot find test/fixtures/config')
    dir = up
  }
  return dir
}
const ROOT = repoRoot()
const fixture = (name: string): Promise<string> => readFile(join(ROOT, 'test', 'fixtures', 'config', name), 'utf8')

const FILE = '/srv/popgate/gateway.yaml'
/** The three required keys, on lines 1–3; test text appended starts on line 4. */
const BASE = 'publicOrigin: https://bob.example\nupstream: http://127.0.0.1:3000\nacl: acl.yaml\n'

type Env = Record<string, string | undefined>
type T = Pick<typeof t, 'same' | 'equal' | 'ok' | 'match'>
/** The core config with the built-in scheme modules' sections beside it (schemes/module.ts sectionOf). */
type Config = CoreConfig & { readonly dpop: DpopConfig; readonly sessions: SessionsConfig; readonly httpSignatures: HttpSignaturesConfig; readonly issuerSymmetric: IssuerSymmetricConfig }
const ok = (t: T, text: string, env?: Env): Config => {
  const r = parseConfig(text, FILE, env)
  t.same(r.problems.map(formatProblem), [], 'no problems')
  if (!r.config) throw new Error('expected a config')
  return r.config as Config
}
/** Formatted problems, for exact matching of file:line:col: path: message. */
const problems = (text: string, env?: Env): string[] => {
  const r = parseConfig(text, FILE, env)
  if (r.problems.length > 0 && r.config !== undefined) throw new Error('a config was returned along with problems')
  return r.problems.map(formatProblem)
}
/** Exactly one problem, at `line:col` with `path`, whose message matches `re`. */
const oneProblem = (t: T, text: string, where: string, re: RegExp, env?: Env): void => {
  const list = problems(text, env)
  t.equal(list.length, 1, `one problem: ${list.join(' | ')}`)
  t.ok(list[0]?.startsWith(where), `at ${where}: ${list[0]}`)
  t.match(list[0] ?? '', re)
}

t.equal(CONFIG_EXIT_CODE, 78, 'EX_CONFIG')

t.test('defaults: only the three required keys', async (t) => {
  const c = ok(t, BASE)
  const expected: Omit<Config, 'upstream'> = {
    file: FILE,
    listen: { host: '127.0.0.1', port: 8080 },
    tls: undefined,
    forwardedClientCert: undefined,
    publicOrigin: 'https://bob.example',
    upstreamHost: 'client',
    aclFile: '/srv/popgate/acl.yaml',
    admin: undefined,
    secretsFile: undefined,
    replay: { store: 'memory', url: undefined, mode: 'standalone', sentinelMaster: undefined, keyPrefix: 'popgate:replay:', timeoutMs: 250, maxEntries: 1_000_000 },
    nonce: { ttlMs: 300_000 },
    proof: { maxAgeMs: 60_000, clockSkewMs: 5_000, algorithms: ['ES256', 'ES384', 'EdDSA', 'Ed25519', 'PS256'], maxBytes: 8192 },
    keys: {
      pathPrefix: '/.well-known/domainpop/', allowHttp: [], allowPrivateAddresses: false, allowPorts: [443], resolve: {},
      caFile: undefined, timeoutMs: 3_000, maxBytes: 65_536, cacheMinTtlMs: 60_000, cacheMaxTtlMs: 3_600_000,
      negativeTtlMs: 10_000, refetchCooldownMs: 30_000, cacheMaxEntries: 10_000, hotKeys: 1_024, maxInFlightPerDomain: 4, maxInFlight: 64,
      cacheMaxBytes: 33_554_432, maxUrlsPerIdentity: 8, maxBytesPerIdentity: 262_144, staleIfErrorMs: 3_600_000, webhook: undefined,
    },
    dpop: { enabled: false, audience: undefined, algorithms: ['RS256', 'PS256', 'ES256', 'EdDSA', 'Ed25519'], requireNonce: true, issuers: {}, authorizationServers: [] },
    sessions: { tickets: { enabled: false, ttlMs: 3_600_000, cacheSize: 10_000 }, cookie: { enabled: false, name: '__Host-popgate', ttlMs: 3_600_000, logoutPath: '/.well-known/popgate/logout' } },
    httpSignatures: { enabled: false, algorithms: ['ed25519', 'ecdsa-p256-sha256'], maxValidityMs: 86_400_000, clockSkewMs: undefined, requireTag: true, maxBodyBytes: 1_048_576 },
    issuerSymmetric: { enabled: false, cacheSize: 10_000 },
    identityHeaders: { prefix: 'X-PoP-', assertion: false, assertionAudience: undefined, signature: false, signatureMaxBodyBytes: 1_048_576, forwardAuthorization: false, strip: [] },
    shutdown: { drainTimeoutMs: 20_000 },
    cors: { origins: [] },
    log: { level: 'info', access: true, format: 'json' },
    trustedProxies: [],
    timeouts: {
      upstreamConnectMs: 5_000, upstreamHeadersMs: 30_000, upstreamBodyMs: 300_000,
      clientHeadersMs: 20_000, clientRequestMs: 300_000, keepAliveMs: 5_000,
    },
    limits: { maxHeaderBytes: 16_384, maxHeaderCount: 100, upstreamConnections: 64, failedAuthPerClientPerMinute: 120, failedAuthPerIdentityPerMinute: 300, newKeyDomainsPerMinute: 300 },
    tracing: undefined,
  }
  const { upstream, ...rest } = c
  t.strictSame({ ...rest, keys: { ...rest.keys, resolve: { ...rest.keys.resolve } } }, expected)
  t.ok(upstream instanceof URL)
  t.equal(upstream.href, 'http://127.0.0.1:3000/')
  t.equal(Object.getPrototypeOf(c.keys.resolve), null, 'resolve map has no prototype: "constructor" is not a host')
  t.equal(c.keys.resolve['constructor'], undefined)
})

t.test('a full config: every key read, every value normalized', async (t) => {
  const c = ok(t, await fixture('full.yaml'))
  t.strictSame(c.listen, { host: '0.0.0.0', port: 8081 })
  t.strictSame(c.tls, { listen: { host: '::', port: 8443 }, certFile: '/srv/popgate/tls/cert.pem', keyFile: '/etc/popgate/tls/key.pem',
    clientCertificates: 'request', clientCaFile: '/srv/popgate/tls/clients-ca.pem', http2: { enabled: true, maxConcurrentStreams: 50, maxHeaderListBytes: 32 * 1024 } })
  t.strictSame(c.forwardedClientCert, { caFile: '/srv/popgate/tls/lb-clients-ca.pem' })
  t.equal(c.publicOrigin, 'https://bob.example', 'scheme and host lowercased, default port and trailing / dropped')
  t.equal(c.upstream.href, 'http://127.0.0.1:3000/app/', 'path prefix kept')
  t.equal(c.aclFile, '/srv/popgate/acl.yaml')
  t.strictSame(c.admin, { listen: { host: '127.0.0.1', port: 9090 }, warnNonLoopback: false })
  t.equal(c.secretsFile, '/srv/secrets/secrets.yaml')
  t.strictSame(c.replay, { store: 'redis', url: 'rediss://:pw@redis.internal:6380/2', mode: 'sentinel', sentinelMaster: 'popgate', keyPrefix: 'gw:jti:', timeoutMs: 400, maxEntries: 5000 })
  t.strictSame(c.nonce, { ttlMs: 600_000 })
  t.strictSame(c.proof, { maxAgeMs: 90_000, clockSkewMs: 0, algorithms: ['ES256', 'Ed25519'], maxBytes: 4096 })
  t.strictSame({ ...c.keys, resolve: { ...c.keys.resolve } }, {
    pathPrefix: '/.well-known/keys/', allowHttp: ['alice.test'], allowPrivateAddresses: true, allowPorts: 'any',
    resolve: { 'alice.test': '127.0.0.1', 'carol.test': '::1' }, caFile: '/srv/popgate/ca.pem', timeoutMs: 1500,
    maxBytes: 32_768, cacheMinTtlMs: 30_000, cacheMaxTtlMs: 7_200_000, negativeTtlMs: 5_000, refetchCooldownMs: 60_000,
    cacheMaxEntries: 500, hotKeys: 100, maxInFlightPerDomain: 2, maxInFlight: 16,
    cacheMaxBytes: 16_777_216, maxUrlsPerIdentity: 3, maxBytesPerIdentity: 131_072, staleIfErrorMs: 600_000, webhook: 'https://alerts.example/popgate',
  })
  t.strictSame(JSON.parse(JSON.stringify(c.dpop)), { enabled: true, audience: 'https://bob.example', algorithms: ['ES256', 'RS256'], requireNonce: false, issuers: { 'https://as.alice.example': { jwksUri: 'https://as.alice.example/jwks.json', audience: 'api://reports', algorithms: ['PS256'] } }, authorizationServers: ['https://as.carol.example'] })
  t.strictSame(c.sessions, { tickets: { enabled: true, ttlMs: 1_800_000, cacheSize: 5_000 }, cookie: { enabled: true, name: '__Host-gate', ttlMs: 7_200_000, logoutPath: '/auth/logout' } })
  t.strictSame(c.httpSignatures, { enabled: true, algorithms: ['ed25519', 'rsa-pss-sha512'], maxValidityMs: 3_600_000, clockSkewMs: 2_000, requireTag: false, maxBodyBytes: 65_536 })
  t.strictSame(c.identityHeaders, { prefix: 'X-Auth-', assertion: true, assertionAudience: 'https://reports.internal', signature: true, signatureMaxBodyBytes: 2_097_152, forwardAuthorization: true, strip: ['X-Legacy-User', 'X-Corp-Sso-*'] })
  t.strictSame(c.shutdown, { drainTimeoutMs: 45_000 })
  t.equal(c.upstreamHost, 'upstream')
  t.strictSame(c.cors, { origins: ['https://app.bob.example', 'https://admin.bob.example:8443'] })
  t.strictSame(c.log, { level: 'debug', access: false, format: 'pretty' })
  t.strictSame(c.trustedProxies, ['10.0.0.0/8', '192.168.1.1', 'fd00::/8'])
  t.strictSame({ ...c.tracing!, endpoint: c.tracing!.endpoint.href, headers: { ...c.tracing!.headers } }, { endpoint: 'http://otel-collector:4318/v1/traces', headers: { 'x-api-key': 'k' }, timeoutMs: 3000, sampleRatio: 0.2, serviceName: 'popgate-edge' })
  t.strictSame(c.timeouts, {
    upstreamConnectMs: 2_000, upstreamHeadersMs: 10_000, upstreamBodyMs: 3_600_000,
    clientHeadersMs: 10_000, clientRequestMs: 600_000, keepAliveMs: 65_000,
  })
  t.strictSame(c.limits, { maxHeaderBytes: 32_768, maxHeaderCount: 150, upstreamConnections: 128, failedAuthPerClientPerMinute: 50, failedAuthPerIdentityPerMinute: 70, newKeyDomainsPerMinute: 90 })
})

t.test('full.yaml changes every field from its default (so each key is really read)', async (t) => {
  const leaves = (v: unknown, path = ''): Map<string, string> => {
    const out = new Map<string, string>()
    if (v !== null && typeof v === 'object' && !(v instanceof URL) && !Array.isArray(v)) {
      for (const [k, child] of Object.entries(v)) for (const [p, s] of leaves(child, `${path}.${k}`)) out.set(p, s)
    } else out.set(path, v instanceof URL ? v.href : JSON.stringify(v))
    return out
  }
  const full = leaves(ok(t, await fixture('full.yaml')))
  const defaults = leaves(ok(t, BASE))
  const unchanged = [...full].filter(([p, v]) => defaults.get(p) === v).map(([p]) => p)
  // publicOrigin/aclFile/file are the same on purpose;
  // a pinned issuer has jwksUri or jwksFile, never both (jwksFile is read in the next test's negative case).
  t.strictSame(unchanged.sort(), ['.aclFile', '.dpop.issuers.https://as.alice.example.jwksFile', '.file', '.publicOrigin'])
})

t.test('the config is deep-frozen; the URL is left as is', async (t) => {
  const c = ok(t, await fixture('full.yaml')) as unknown as Record<string, any> // eslint-disable-line @typescript-eslint/no-explicit-any
  t.ok(Object.isFrozen(c))
  t.throws(() => { c.publicOrigin = 'https://evil.example' }, TypeError)
  t.throws(() => { c.keys.timeoutMs = 0 }, TypeError)
  t.throws(() => { c.keys.resolve['alice.test'] = '10.0.0.1' }, TypeError)
  t.throws(() => { c.keys.allowHttp.push('evil.example') }, TypeError)
  t.throws(() => { c.proof.algorithms[0] = 'HS256' }, TypeError)
  t.throws(() => { c.sessions.cookie.enabled = false }, TypeError)
  t.throws(() => { c.tls.listen.port = 1 }, TypeError)
  t.ok(c.upstream instanceof URL)
  t.notOk(Object.isFrozen(c.upstream), 'URL instance untouched')
})

t.test('a file with many mistakes reports all of them, each with line:col and path', async (t) => {
  const r = parseConfig(await fixture('mistakes.yaml'), '/srv/popgate/mistakes.yaml')
  t.equal(r.config, undefined)
  t.strictSame(r.problems.map(formatProblem), [
    '/srv/popgate/mistakes.yaml:1:1: upstream: is required',
    '/srv/popgate/mistakes.yaml:1:9: listen: port must be a number from 0 to 65535; got "99999"',
    '/srv/popgate/mistakes.yaml:2:15: publicOrigin: must be an origin with no path: scheme://host[:port]',
    '/srv/popgate/mistakes.yaml:3:1: upsteam: unknown key; did you mean "upstream"?',
    '/srv/popgate/mistakes.yaml:6:12: keys.timeout: needs a unit: write "3s" or "3ms", not a bare 3',
    '/srv/popgate/mistakes.yaml:7:13: keys.maxBytes: unknown size unit "KB": sizes use binary units, write "64KiB" (1KiB = 1024 bytes)',
    '/srv/popgate/mistakes.yaml:9:17: keys.resolve["alice.test"]: must be an IPv4 or IPv6 address; got "not-an-ip"',
    '/srv/popgate/mistakes.yaml:11:23: proof.algorithms[1]: must be one of ES256, ES384, EdDSA, Ed25519, PS256; got "none"',
    '/srv/popgate/mistakes.yaml:13:10: log.level: must be one of fatal, error, warn, info, debug, trace, silent; got "verbose"',
  ])
  t.strictSame(r.problems[4], { file: '/srv/popgate/mistakes.yaml', line: 6, col: 12, path: 'keys.timeout', message: 'needs a unit: write "3s" or "3ms", not a bare 3' })
})

t.test('unknown keys: an error at the key, with a suggestion only when one is obvious', async (t) => {
  oneProblem(t, BASE + 'lsiten: 127.0.0.1:1\n', `${FILE}:4:1: lsiten: unknown key; did you mean "listen"?`, /./)
  oneProblem(t, BASE + 'public_origin: https://x.example\n', `${FILE}:4:1: public_origin: unknown key; did you mean "publicOrigin"?`, /./)
  oneProblem(t, BASE + 'keys:\n  timeOut: 3s\n', `${FILE}:5:3: keys.timeOut: unknown key; did you mean "timeout"?`, /./)
  oneProblem(t, BASE + 'keys:\n  cacheMaxTTL: 1h\n', `${FILE}:5:3: keys.cacheMaxTTL: unknown key; did you mean "cacheMaxTtl"?`, /./)
  oneProblem(t, BASE + 'sessions:\n  cookie: {enabeld: true}\n', `${FILE}:5:12: sessions.cookie.enabeld: unknown key; did you mean "enabled"?`, /./)
  const far = problems(BASE + 'frobnicate: 1\n')
  t.strictSame(far, [`${FILE}:4:1: frobnicate: unknown key`], 'no wild guess')
  // `cacheMinTtl`/`cacheMaxTtl` are equally close to `cacheTtl`: no suggestion rather than a coin toss.
  t.strictSame(problems(BASE + 'keys: {cacheTtl: 1h}\n'), [`${FILE}:4:8: keys.cacheTtl: unknown key`])
  t.strictSame(problems(BASE + 'keys: {"a b": 1}\n'), [`${FILE}:4:8: keys["a b"]: unknown key`], 'odd keys are quoted in the path')
})

t.test('wrong types are errors, never coerced', async (t) => {
  const cases: Array<[string, string, RegExp]> = [
    ['listen: 8080\n', '4:9: listen:', /not a bare port/],
    ['listen: [a, b]\n', '4:9: listen:', /host:port/],
    ['tls: yes\n', '4:6: tls:', /must be a map/],
    ['keys: [1]\n', '4:7: keys:', /must be a map/],
    ['keys: {allowPrivateAddresses: "true"}\n', '4:31: keys.allowPrivateAddresses:', /true or false/],
    ['keys: {allowPrivateAddresses: yes}\n', '4:31: keys.allowPrivateAddresses:', /YAML 1.2/],
    ['keys: {allowHttp: alice.test}\n', '4:19: keys.allowHttp:', /must be a list/],
    ['keys: {resolve: [a]}\n', '4:17: keys.resolve:', /must be a map/],
    ['keys: {cacheMaxEntries: "10"}\n', '4:25: keys.cacheMaxEntries:', /whole number/],
    ['keys: {cacheMaxEntries: 1.5}\n', '4:25: keys.cacheMaxEntries:', /whole number/],
    ['keys: {maxInFlight: 0}\n', '4:21: keys.maxInFlight:', /at least 1/],
    ['keys: {hotKeys: 0}\n', '4:17: keys.hotKeys:', /at least 1/],
    ['keys: {hotKeys: many}\n', '4:17: keys.hotKeys:', /whole number/],
    ['replay: {maxEntries: -1}\n', '4:22: replay.maxEntries:', /at least 1/],
    ['replay: {store: Redis}\n', '4:17: replay.store:', /did you mean "redis"/],
    ['log: {access: 1}\n', '4:15: log.access:', /true or false/],
    ['cors: {origins: {a: 1}}\n', '4:17: cors.origins:', /must be a list/],
    ['identityHeaders: {prefix: [X-]}\n', '4:27: identityHeaders.prefix:', /must be a string; got a list/],
  ]
  for (const [text, where, re] of cases) oneProblem(t, BASE + text, `${FILE}:${where}`, re)
  oneProblem(t, 'publicOrigin: https://bob.example\nupstream: {url: x}\nacl: a\n', `${FILE}:2:11: upstream:`, /absolute URL/)
  oneProblem(t, BASE.replace('acl: acl.yaml', 'acl: ["a"]'), `${FILE}:3:6: acl:`, /must be a string/)
})

t.test('null or an empty value means "use the default"; required keys still required', async (t) => {
  const c = ok(t, BASE + 'listen:\ntls: ~\nkeys:\n  caFile: null\n  allowPorts:\ndpop: {audience: null}\n')
  t.strictSame(c.listen, { host: '127.0.0.1', port: 8080 })
  t.equal(c.tls, undefined)
  t.equal(c.keys.caFile, undefined)
  t.strictSame(c.keys.allowPorts, [443])
  oneProblem(t, 'publicOrigin:\nupstream: http://127.0.0.1:3000\nacl: a\n', `${FILE}:1:1: publicOrigin: is required`, /./)
})

t.test('required keys and required members of optional sections', async (t) => {
  t.strictSame(problems('listen: 127.0.0.1:1\n'), [
    `${FILE}:1:1: publicOrigin: is required`,
    `${FILE}:1:1: upstream: is required`,
    `${FILE}:1:1: acl: is required`,
  ])
  t.strictSame(problems(BASE + 'tls:\n  listen: 127.0.0.1:8443\n'), [`${FILE}:4:1: tls.cert: is required`, `${FILE}:4:1: tls.key: is required`])
  t.strictSame(problems(BASE + 'admin: {}\n'), [`${FILE}:4:1: admin.listen: is required`])
  t.strictSame(problems(BASE + 'secrets: {}\n'), [`${FILE}:4:1: secrets.file: is required`])
  t.strictSame(problems(BASE + 'tls: 5\n'), [`${FILE}:4:6: tls: must be a map with the keys listen, cert, key, clientCertificates, clientCa, http2; got 5`], 'a non-map section is one problem, not four')
})

t.test('empty files and non-map documents', async (t) => {
  for (const text of ['', '\n\n', '# just a comment\n', '---\n']) {
    t.strictSame(problems(text), [`${FILE}:1:1: (root): the file is empty; publicOrigin, upstream and acl are required`], JSON.stringify(text))
  }
  t.strictSame(problems('- a\n- b\n'), [`${FILE}:1:1: (root): must be a map of settings (publicOrigin, upstream, acl, ...); got a list`])
  t.strictSame(problems('just a string\n'), [`${FILE}:1:1: (root): must be a map of settings (publicOrigin, upstream, acl, ...); got "just a string"`])
})

t.test('durations and sizes in the config', async (t) => {
  const cases: Array<[string, string, RegExp]> = [
    ['nonce: {ttl: 300}\n', '4:14: nonce.ttl:', /needs a unit/],
    ['nonce: {ttl: 0s}\n', '4:14: nonce.ttl:', /greater than zero/],
    ['nonce: {ttl: 5 minutes}\n', '4:14: nonce.ttl:', /must be a duration/],
    ['nonce: {ttl: -5m}\n', '4:14: nonce.ttl:', /negative/],
    ['proof: {maxAge: 1.5ms}\n', '4:17: proof.maxAge:', /whole number of milliseconds/],
    ['timeouts: {keepAlive: 30d}\n', '4:23: timeouts.keepAlive:', /at most 2147483647ms/],
    ['timeouts: {upstreamBody: 0ms}\n', '4:26: timeouts.upstreamBody:', /greater than zero/],
    ['sessions: {tickets: {ttl: 1y}}\n', '4:27: sessions.tickets.ttl:', /unknown duration unit "y"/],
    ['proof: {maxBytes: 8KB}\n', '4:19: proof.maxBytes:', /write "8KiB"/],
    ['proof: {maxBytes: 0}\n', '4:19: proof.maxBytes:', /greater than zero/],
    ['limits: {maxHeaderBytes: 0.1KiB}\n', '4:26: limits.maxHeaderBytes:', /whole number of bytes/],
    ['keys: {maxBytes: -64KiB}\n', '4:18: keys.maxBytes:', /negative/],
  ]
  for (const [text, where, re] of cases) oneProblem(t, BASE + text, `${FILE}:${where}`, re)
  const c = ok(t, BASE + 'proof: {clockSkew: 0s, maxBytes: 1024}\ntimeouts: {keepAlive: 24d}\n')
  t.equal(c.proof.clockSkewMs, 0, 'clockSkew may be zero')
  t.equal(c.proof.maxBytes, 1024, 'a bare size is bytes')
  t.equal(c.timeouts.keepAliveMs, 24 * 86_400_000)
})

t.test('keys.cacheMinTtl must not exceed keys.cacheMaxTtl', async (t) => {
  oneProblem(t, BASE + 'keys:\n  cacheMinTtl: 2h\n', `${FILE}:5:16: keys.cacheMinTtl:`, /cacheMinTtl \(2h\) must not exceed cacheMaxTtl \(1h\)/)
  oneProblem(t, BASE + 'keys:\n  cacheMaxTtl: 30s\n', `${FILE}:5:16: keys.cacheMaxTtl:`, /\(1m\) must not exceed cacheMaxTtl \(30s\)/)
  ok(t, BASE + 'keys: {cacheMinTtl: 1h, cacheMaxTtl: 1h}\n')
})

t.test('publicOrigin: an http(s) origin only, normalized', async (t) => {
  const bad: Array<[string, RegExp]> = [
    ['https://bob.example/app', /no path/],
    ['https://bob.example/app/', /no path/],
    ['https://bob.example/a/..', /no path/],
    ['https://bob.example\\\\x', /no path/],
    ['https://bob.example?x=1', /query/],
    ['https://bob.example/?', /query/],
    ['https://bob.example#top', /fragment/],
    ['https://user:pw@bob.example', /userinfo/],
    ['https://@bob.example', /userinfo/],
    ['ftp://bob.example', /http: or https:/],
    ['file:///etc/passwd', /http: or https:/],
    ['javascript:alert(1)', /http: or https:/],
    ['bob.example', /absolute URL/],
    ['//bob.example', /absolute URL/],
    ['"https://bob.example "', /whitespace/],
    ['"*"', /"\*" is not allowed/],
    ['https://', /absolute URL/],
  ]
  for (const [value, re] of bad) {
    oneProblem(t, `publicOrigin: ${value}\nupstream: http://127.0.0.1:3000\nacl: a\n`, `${FILE}:1:15: publicOrigin:`, re)
  }
  const good: Array<[string, string]> = [
    ['https://bob.example/', 'https://bob.example'],
    ['HTTPS://BOB.EXAMPLE', 'https://bob.example'],
    ['https://bob.example:443', 'https://bob.example'],
    ['http://127.0.0.1:8080', 'http://127.0.0.1:8080'],
    ['"http://[::1]:8080"', 'http://[::1]:8080'],
    ['https://xn--bcher-kva.example', 'https://xn--bcher-kva.example'],
  ]
  for (const [value, want] of good) t.equal(ok(t, `publicOrigin: ${value}\nupstream: http://127.0.0.1:3000\nacl: a\n`).publicOrigin, want, value)
})

t.test('publicOrigin: the password of a refused URL is not echoed', async (t) => {
  const list = problems('publicOrigin: https://user:hunter2@bob.example/path\nupstream: http://127.0.0.1:3000\nacl: a\n')
  t.equal(list.length, 1)
  t.notMatch(list.join(), /hunter2/)
})

t.test('upstream: http(s), path prefix allowed, no query/fragment/userinfo', async (t) => {
  const up = (v: string): string => `publicOrigin: https://bob.example\nupstream: ${v}\nacl: a\n`
  t.equal(ok(t, up('https://api.internal:8443/v1/')).upstream.href, 'https://api.internal:8443/v1/')
  t.equal(ok(t, up('http://[::1]:3000')).upstream.host, '[::1]:3000')
  for (const [v, re] of [['http://x.internal/?a=1', /query/], ['http://x.internal#f', /fragment/], ['http://u:p@x.internal', /userinfo/],
    ['ws://x.internal', /http: or https:/], ['unix:/run/app.sock', /http: or https:/], ['x.internal:3000', /http: or https:/]] as const) {
    oneProblem(t, up(v), `${FILE}:2:11: upstream:`, re)
  }
})

t.test('listen addresses', async (t) => {
  const l = (v: string): string => BASE + `listen: ${v}\n`
  t.strictSame(ok(t, l('"[::1]:8080"')).listen, { host: '::1', port: 8080 })
  t.strictSame(ok(t, l('127.0.0.1:0')).listen, { host: '127.0.0.1', port: 0 }, 'port 0 for tests')
  t.strictSame(ok(t, l('localhost:8080')).listen, { host: 'localhost', port: 8080 })
  t.strictSame(ok(t, l('0.0.0.0:80')).listen, { host: '0.0.0.0', port: 80 })
  const bad: Array<[string, RegExp]> = [
    ['"::1:8080"', /brackets/],
    ['":8080"', /needs a host/],
    ['127.0.0.1', /host:port/],
    ['127.0.0.1:65536', /0 to 65535/],
    ['127.0.0.1:-1', /0 to 65535/],
    ['127.0.0.1:http', /0 to 65535/],
    ['"[127.0.0.1]:80"', /IPv6/],
    ['"[::1]8080"', /host:port/],
    ['"bad_host:80"', /not an IP address or host name/],
    ['"http://127.0.0.1:80"', /no scheme or path/],
  ]
  for (const [v, re] of bad) oneProblem(t, l(v), `${FILE}:4:9: listen:`, re)
  oneProblem(t, BASE + 'listen: 127.0.0.1:9000\nadmin: {listen: 127.0.0.1:9000}\n', `${FILE}:5:17: admin.listen:`, /same address as listen/)
  oneProblem(t, BASE + 'listen: 127.0.0.1:9000\ntls: {listen: 127.0.0.1:9000, cert: c, key: k}\n', `${FILE}:5:15: tls.listen:`, /same address as listen/)
  ok(t, BASE + 'listen: 127.0.0.1:0\nadmin: {listen: 127.0.0.1:0}\n')
})

t.test('replay store', async (t) => {
  oneProblem(t, BASE + 'replay: {store: redis}\n', `${FILE}:4:17: replay.store:`, /needs replay.url/)
  oneProblem(t, BASE + 'replay: {url: redis://r:6379}\n', `${FILE}:4:15: replay.url:`, /store is memory/)
  oneProblem(t, BASE + 'replay: {store: redis, url: http://r:6379}\n', `${FILE}:4:29: replay.url:`, /redis: or rediss:/)
  oneProblem(t, BASE + 'replay: {store: sqlite}\n', `${FILE}:4:17: replay.store:`, /one of memory, redis/)
  const secret = problems(BASE + 'replay: {store: redis, url: "redis://:hunter2@r:6379 "}\n')
  t.equal(secret.length, 1)
  t.notMatch(secret.join(), /hunter2/, 'a bad Redis URL is not echoed')
  t.equal(ok(t, BASE + 'replay: {store: redis, url: "redis://[::1]:6379/0"}\n').replay.url, 'redis://[::1]:6379/0')
})

t.test('replay store: redis keys (mode, sentinelMaster, keyPrefix, timeout)', async (t) => {
  const R = BASE + 'replay:\n  store: redis\n  url: rediss://u:p@r:6380/2\n'
  t.match(ok(t, R).replay, { mode: 'standalone', keyPrefix: 'popgate:replay:', timeoutMs: 250, sentinelMaster: undefined })
  t.match(ok(t, R + '  mode: sentinel\n  sentinelMaster: mymaster\n  keyPrefix: "gw1:"\n  timeout: 1s\n').replay, { mode: 'sentinel', sentinelMaster: 'mymaster', keyPrefix: 'gw1:', timeoutMs: 1000 })
  t.equal(ok(t, R + '  mode: cluster\n').replay.mode, 'cluster')
  oneProblem(t, R + '  mode: sentinel\n', `${FILE}:7:9: replay.mode:`, /needs replay.sentinelMaster/)
  oneProblem(t, R + '  sentinelMaster: m\n', `${FILE}:7:19: replay.sentinelMaster:`, /mode: sentinel only/)
  oneProblem(t, R + '  keyPrefix: "a b"\n', `${FILE}:7:14: replay.keyPrefix:`, /printable ASCII/)
  oneProblem(t, R + '  timeout: 11s\n', `${FILE}:7:12: replay.timeout:`, /at most 10s/)
  oneProblem(t, R + '  timeout: 250\n', `${FILE}:7:12: replay.timeout:`, /needs a unit/)
  oneProblem(t, BASE + 'replay: {mode: cluster}\n', `${FILE}:4:16: replay.mode:`, /store: redis only/)
})

t.test('proof.algorithms: allowlist, exact case, non-empty, no duplicates', async (t) => {
  oneProblem(t, BASE + 'proof: {algorithms: []}\n', `${FILE}:4:21: proof.algorithms:`, /must not be empty/)
  oneProblem(t, BASE + 'proof: {algorithms: [ES256, ES256]}\n', `${FILE}:4:29: proof.algorithms[1]:`, /duplicate/)
  oneProblem(t, BASE + 'proof: {algorithms: [eddsa]}\n', `${FILE}:4:22: proof.algorithms[0]:`, /did you mean "EdDSA"/)
  for (const alg of ['HS256', 'none', 'RS256', 'ES512']) oneProblem(t, BASE + `proof: {algorithms: [${alg}]}\n`, `${FILE}:4:22: proof.algorithms[0]:`, /must be one of/)
  oneProblem(t, BASE + 'proof: {algorithms: ES256}\n', `${FILE}:4:21: proof.algorithms:`, /must be a list/)
  t.strictSame(ok(t, BASE + 'proof: {algorithms: [PS256]}\n').proof.algorithms, ['PS256'])
})

t.test('keys: URL policy settings', async (t) => {
  const k = (body: string): string => BASE + `keys: {${body}}\n`
  const bad: Array<[string, string, RegExp]> = [
    ['pathPrefix: /.well-known/domainpop', '4:20: keys.pathPrefix:', /start and end with "\/"/],
    ['pathPrefix: .well-known/', '4:20: keys.pathPrefix:', /start and end/],
    ['pathPrefix: /', '4:20: keys.pathPrefix:', /directory below/],
    ['pathPrefix: /a/../b/', '4:20: keys.pathPrefix:', /dot segments/],
    ['pathPrefix: //x/', '4:20: keys.pathPrefix:', /empty or dot/],
    ['pathPrefix: /a%2f/', '4:20: keys.pathPrefix:', /plain path/],
    ['allowHttp: [localhost]', '4:20: keys.allowHttp[0]:', /not a valid identity: must have at least two labels/],
    ['allowHttp: [Alice.test]', '4:20: keys.allowHttp[0]:', /lowercase/],
    ['allowHttp: [127.0.0.1]', '4:20: keys.allowHttp[0]:', /IP address/],
    ['allowHttp: ["alice.test:8080"]', '4:20: keys.allowHttp[0]:', /not a valid identity/],
    ['allowPorts: []', '4:20: keys.allowPorts:', /must not be empty/],
    ['allowPorts: [0]', '4:21: keys.allowPorts[0]:', /1 to 65535/],
    ['allowPorts: [65536]', '4:21: keys.allowPorts[0]:', /1 to 65535/],
    ['allowPorts: ["443"]', '4:21: keys.allowPorts[0]:', /1 to 65535/],
    ['allowPorts: all', '4:20: keys.allowPorts:', /list of ports or "any"/],
    ['allowPorts: 443', '4:20: keys.allowPorts:', /list of ports or "any"/],
    ['allowPorts: [443, 443]', '4:26: keys.allowPorts[1]:', /duplicate/],
    ['resolve: {alice.test: 999.1.1.1}', '4:30: keys.resolve["alice.test"]:', /IPv4 or IPv6/],
    ['resolve: {alice.test: localhost}', '4:30: keys.resolve["alice.test"]:', /IPv4 or IPv6/],
    ['resolve: {alice.test: "[::1]"}', '4:30: keys.resolve["alice.test"]:', /IPv4 or IPv6/],
    ['resolve: {Alice.Test: 127.0.0.1}', '4:18: keys.resolve["Alice.Test"]:', /key "Alice.Test" is not a valid identity: must be lowercase/],
    ['resolve: {"*.test": 127.0.0.1}', '4:18: keys.resolve["*.test"]:', /not a valid identity/],
    ['resolve: {1.2.3.4: 127.0.0.1}', '4:18: keys.resolve["1.2.3.4"]:', /IP address/],
    ['caFile: ""', '4:16: keys.caFile:', /must not be empty/],
  ]
  for (const [body, where, re] of bad) oneProblem(t, k(body), `${FILE}:${where}`, re)
  t.equal(ok(t, k('allowPorts: any')).keys.allowPorts, 'any')
  t.strictSame(ok(t, k('allowPorts: [443, 8443]')).keys.allowPorts, [443, 8443])
})

t.test('dpop: keys read, pinned issuers checked, none or HS256 never an algorithm', async (t) => {
  const c = ok(t, BASE + 'dpop:\n  enabled: true\n')
  t.strictSame(c.dpop, { enabled: true, audience: undefined, algorithms: ['RS256', 'PS256', 'ES256', 'EdDSA', 'Ed25519'], requireNonce: true, issuers: {}, authorizationServers: [] })
  ok(t, BASE + 'dpop: {enabled: false, audience: https://bob.example, issuers: {"https://as.example": {jwksUri: "https://as.example/jwks"}}}\n')
  oneProblem(t, BASE + 'dpop: {algorithms: [ES256, none]}\n', `${FILE}:4:28: dpop.algorithms[1]:`, /must be one of/)
  oneProblem(t, BASE + 'dpop: {algorithms: [HS256]}\n', `${FILE}:4:21:`, /must be one of/)
  oneProblem(t, BASE + 'dpop: {issuers: {"https://as.example": {jwksUri: "https://as.example/j", jwksFile: /k.json}}}\n', `${FILE}:`, /not both/)
  oneProblem(t, BASE + 'dpop: {issuers: {"http://as.example": {jwksUri: "https://as.example/jwks"}}}\n', `${FILE}:4:18: dpop.issuers["http://as.example"]:`, /https:/)
  oneProblem(t, BASE + 'dpop: {issuers: {"https://as.example": {}}}\n', `${FILE}:4:40: dpop.issuers["https://as.example"].jwksUri:`, /is required/)
  // Issue 19: a pinned issuer is written the way a token's iss must be, and pinned once in canonical form.
  oneProblem(t, BASE + 'dpop: {issuers: {"https://as.example/a/../b": {jwksUri: "https://as.example/jwks"}}}\n', `${FILE}:4:18: dpop.issuers["https://as.example/a/../b"]:`, /not an issuer a token can name: is not in canonical form/)
  oneProblem(t, BASE + 'dpop: {issuers: {"https://as.example/a%2Fb": {jwksUri: "https://as.example/jwks"}}}\n', `${FILE}:4:18:`, /not an issuer a token can name: path is not canonical/)
  oneProblem(t, BASE + 'dpop: {issuers: {"https://as.example": {jwksUri: "https://as.example/jwks"}, "https://as.example/": {jwksUri: "https://as.example/jwks"}}}\n', `${FILE}:4:`, /https:\/\/as\.example\/ and https:\/\/as\.example are the same issuer; pin it once/)
  ok(t, BASE + 'dpop: {issuers: {"https://as.example/a": {jwksUri: "https://as.example/jwks"}, "https://as.example/a/": {jwksUri: "https://as.example/jwks"}}}\n')
  t.strictSame(ok(t, BASE + 'dpop: {authorizationServers: ["https://as.alice.example"]}\n').dpop.authorizationServers, ['https://as.alice.example'], 'kept as written: no trailing slash added')
  oneProblem(t, BASE + 'dpop: {authorizationServers: ["http://as.alice.example"]}\n', `${FILE}:4:31: dpop.authorizationServers[0]:`, /https:/)
  oneProblem(t, BASE + 'dpop: {authorizationServers: [https://a.example, https://a.example]}\n', `${FILE}:`, /./)
})

t.test('identity headers, cookie name, CORS origins, log level, trusted proxies', async (t) => {
  const cases: Array<[string, string, RegExp]> = [
    ['identityHeaders: {prefix: X-PoP}\n', '4:27: identityHeaders.prefix:', /end with "-"/],
    ['identityHeaders: {prefix: "X PoP-"}\n', '4:27: identityHeaders.prefix:', /header-name token/],
    ['identityHeaders: {prefix: "X:PoP-"}\n', '4:27: identityHeaders.prefix:', /header-name token/],
    ['identityHeaders: {prefix: "-"}\n', '4:27: identityHeaders.prefix:', /end with "-"/],
    ['identityHeaders: {prefix: ""}\n', '4:27: identityHeaders.prefix:', /must not be empty/],
    ['sessions: {cookie: {name: "a;b"}}\n', '4:27: sessions.cookie.name:', /cookie-name token/],
    ['sessions: {cookie: {name: "a=b"}}\n', '4:27: sessions.cookie.name:', /cookie-name token/],
    ['sessions: {cookie: {name: popgate}}\n', '4:27: sessions.cookie.name:', /must start with __Host-/],
    ['sessions: {cookie: {name: __Host-}}\n', '4:27: sessions.cookie.name:', /must start with __Host-/],
    ['sessions: {cookie: {ttl: 8d}}\n', '4:26: sessions.cookie.ttl:', /a cookie lifetime must be between 1m and 168h/],
    ['sessions: {tickets: {ttl: 30s}}\n', '4:27: sessions.tickets.ttl:', /a ticket lifetime must be between 1m and 24h/],
    ['sessions: {tickets: {ttl: 25h}}\n', '4:27: sessions.tickets.ttl:', /a ticket lifetime must be between 1m and 24h/],
    ['sessions: {tickets: {cacheSize: 0}}\n', '4:33: sessions.tickets.cacheSize:', /./],
    ['sessions: {cookie: {deviceBound: true}}\n', '4:34: sessions.cookie.deviceBound:', /device-bound session cookies \(DBSC\) are not supported/],
    ['sessions: {cookie: {logoutPath: logout}}\n', '4:33: sessions.cookie.logoutPath:', /absolute path of plain segments/],
    ['sessions: {cookie: {logoutPath: /a/../b}}\n', '4:33: sessions.cookie.logoutPath:', /absolute path of plain segments/],
    ['sessions: {cookie: {logoutPath: "/a?b"}}\n', '4:33: sessions.cookie.logoutPath:', /absolute path of plain segments/],
    ['sessions: {cookie: {logoutPath: /a/}}\n', '4:33: sessions.cookie.logoutPath:', /absolute path of plain segments/],
    ['cors: {origins: ["*"]}\n', '4:18: cors.origins[0]:', /"\*" is not allowed/],
    ['cors: {origins: [https://app.example/path]}\n', '4:18: cors.origins[0]:', /no path/],
    ['cors: {origins: [https://a.example, "https://A.example/"]}\n', '4:37: cors.origins[1]:', /duplicate/],
    ['log: {level: WARN}\n', '4:14: log.level:', /did you mean "warn"/],
    ['trustedProxies: [10.0.0.0/33]\n', '4:18: trustedProxies[0]:', /prefix length must be 0 to 32/],
    ['trustedProxies: ["fd00::/129"]\n', '4:18: trustedProxies[0]:', /0 to 128/],
    ['trustedProxies: [10.0.0.0/8/8]\n', '4:18: trustedProxies[0]:', /IP address or CIDR/],
    ['trustedProxies: [proxy.internal]\n', '4:18: trustedProxies[0]:', /IP address or CIDR/],
    ['trustedProxies: [10.0.0.0/x]\n', '4:18: trustedProxies[0]:', /prefix length/],
    ['trustedProxies: 10.0.0.0/8\n', '4:17: trustedProxies:', /must be a list/],
  ]
  for (const [text, where, re] of cases) oneProblem(t, BASE + text, `${FILE}:${where}`, re)
  t.strictSame(ok(t, BASE + 'trustedProxies: [0.0.0.0/0, "::/0", 127.0.0.1]\n').trustedProxies, ['0.0.0.0/0', '::/0', '127.0.0.1'])
})

t.test('relative paths resolve against the config file directory (real files)', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'popgate-config-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  await mkdir(join(dir, 'etc'))
  const file = join(dir, 'etc', 'gateway.yaml')
  await writeFile(file, [
    'publicOrigin: https://bob.example', 'upstream: http://127.0.0.1:3000', 'acl: ./acl.yaml',
    'tls: {listen: 127.0.0.1:0, cert: tls/cert.pem, key: /abs/key.pem}', 'secrets: {file: ../shared/secrets.yaml}', 'keys: {caFile: ca.pem}', '',
  ].join('\n'))
  const r = await loadConfigFile(file)
  t.same(r.problems, [])
  t.equal(r.config?.file, file)
  t.equal(r.config?.aclFile, join(dir, 'etc', 'acl.yaml'))
  t.equal(r.config?.tls?.certFile, join(dir, 'etc', 'tls', 'cert.pem'))
  t.equal(r.config?.tls?.keyFile, '/abs/key.pem', 'absolute paths kept')
  t.equal(r.config?.secretsFile, join(dir, 'shared', 'secrets.yaml'))
  t.equal(r.config?.keys.caFile, join(dir, 'etc', 'ca.pem'))

  // The same file named relatively: paths still resolve against its directory, not the bare cwd.
  const rel = await loadConfigFile(relative(process.cwd(), file))
  t.equal(rel.config?.aclFile, join(dir, 'etc', 'acl.yaml'))
  t.equal(rel.config?.file, file, 'Config.file is absolute')
})

t.test('loadConfigFile: a missing or unreadable file is one problem at 1:1', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'popgate-config-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  const missing = await loadConfigFile(join(dir, 'nope.yaml'))
  t.equal(missing.config, undefined)
  t.strictSame(missing.problems.map(formatProblem), [`${join(dir, 'nope.yaml')}:1:1: (root): cannot read the config file: no such file`])
  const isDir = await loadConfigFile(dir)
  t.strictSame(isDir.problems.map(formatProblem), [`${dir}:1:1: (root): cannot read the config file: is a directory`])
})

t.test('broken YAML syntax: file:line, and nothing else is guessed', async (t) => {
  const r = parseConfig(await fixture('broken-syntax.yaml'), '/srv/broken.yaml')
  t.equal(r.config, undefined)
  t.equal(r.problems.length, 1)
  t.match(formatProblem(r.problems[0]!), /^\/srv\/broken\.yaml:5:1: \(root\): Flow sequence/)
  const unquotedV6 = parseConfig(BASE + 'listen: [::1]:8080\n', FILE)
  t.match(unquotedV6.problems.map(formatProblem), [/^\/srv\/popgate\/gateway\.yaml:4:\d+: /], 'unquoted IPv6 listen is a YAML error with its line')
  const tab = parseConfig(BASE + 'keys:\n\ttimeout: 3s\n', FILE)
  t.match(tab.problems.map(formatProblem), [/gateway\.yaml:5:1: .*[Tt]ab/])
})

t.test('duplicate keys are an error at the second one', async (t) => {
  const r = parseConfig(await fixture('duplicate-keys.yaml'), '/srv/dup.yaml')
  t.equal(r.config, undefined)
  t.match(r.problems.map(formatProblem), [/^\/srv\/dup\.yaml:4:1: .*unique/])
  const nested = parseConfig(BASE + 'keys:\n  timeout: 1s\n  timeout: 2s\n', FILE)
  t.match(nested.problems.map(formatProblem), [/gateway\.yaml:6:3: /])
})

t.test('environment overrides: env > file > default', async (t) => {
  t.strictSame(Object.keys(ENV_OVERRIDES).sort(), [
    'POPGATE_ACL', 'POPGATE_ADMIN_LISTEN', 'POPGATE_LISTEN', 'POPGATE_LOG_LEVEL', 'POPGATE_PUBLIC_ORIGIN', 'POPGATE_REDIS_URL', 'POPGATE_SECRETS_FILE', 'POPGATE_UPSTREAM',
  ])
  const c = ok(t, BASE + 'listen: 127.0.0.1:1\nreplay: {store: redis, url: redis://file:6379}\nlog: {level: warn}\nsecrets: {file: s.yaml}\n', {
    POPGATE_LISTEN: '[::1]:0',
    POPGATE_PUBLIC_ORIGIN: 'https://Env.Example/',
    POPGATE_UPSTREAM: 'http://10.0.0.2:8000/base/',
    POPGATE_ACL: '/etc/popgate/acl.yaml',
    POPGATE_REDIS_URL: 'redis://env:6379',
    POPGATE_LOG_LEVEL: 'trace',
    POPGATE_SECRETS_FILE: '/run/secrets/popgate.yaml',
    POPGATE_UNRELATED: 'ignored',
  })
  t.strictSame(c.listen, { host: '::1', port: 0 })
  t.equal(c.publicOrigin, 'https://env.example', 'normalized like the file value')
  t.equal(c.upstream.href, 'http://10.0.0.2:8000/base/')
  t.equal(c.aclFile, '/etc/popgate/acl.yaml')
  t.equal(c.replay.url, 'redis://env:6379')
  t.equal(c.log.level, 'trace')
  t.equal(c.secretsFile, '/run/secrets/popgate.yaml')

  // Env alone can supply required keys and whole absent sections.
  const fromEnv = ok(t, 'replay: {store: redis}\n', {
    POPGATE_PUBLIC_ORIGIN: 'https://bob.example', POPGATE_UPSTREAM: 'http://127.0.0.1:1', POPGATE_ACL: 'acl.yaml',
    POPGATE_REDIS_URL: 'rediss://r:6380', POPGATE_SECRETS_FILE: 'secrets/s.yaml',
  })
  t.equal(fromEnv.replay.url, 'rediss://r:6380')
  t.equal(fromEnv.aclFile, resolve(process.cwd(), 'acl.yaml'), 'env relative path: relative to the process cwd, not the config dir')
  t.equal(fromEnv.secretsFile, resolve(process.cwd(), 'secrets/s.yaml'))

  // Undefined means unset.
  t.equal(ok(t, BASE, { POPGATE_UPSTREAM: undefined }).upstream.href, 'http://127.0.0.1:3000/')

  // admin.listen: over the file's, or alone, turning the admin listener on (as the chart's pods need).
  t.strictSame(ok(t, BASE + 'admin: {listen: 127.0.0.1:9090}\n', { POPGATE_ADMIN_LISTEN: '0.0.0.0:9191' }).admin, { listen: { host: '0.0.0.0', port: 9191 }, warnNonLoopback: true })
  t.strictSame(ok(t, BASE, { POPGATE_ADMIN_LISTEN: '0.0.0.0:9191' }).admin?.listen, { host: '0.0.0.0', port: 9191 })
  t.equal(ok(t, BASE).admin, undefined, 'no section, no variable: no admin listener')
  t.strictSame(problems(BASE, { POPGATE_ADMIN_LISTEN: '9090' }), ['$POPGATE_ADMIN_LISTEN:1:1: admin.listen: must be "host:port" (e.g. "127.0.0.1:8080", "[::1]:8080"); got "9090"'])
  t.strictSame(problems(BASE + 'listen: 127.0.0.1:9000\n', { POPGATE_ADMIN_LISTEN: '127.0.0.1:9000' }), ['$POPGATE_ADMIN_LISTEN:1:1: admin.listen: is the same address as listen'])
})

t.test('environment overrides: an invalid value is reported against the variable, at 1:1', async (t) => {
  t.strictSame(problems(BASE, { POPGATE_UPSTREAM: 'ftp://x.example' }), ['$POPGATE_UPSTREAM:1:1: upstream: must be an http: or https: URL, not ftp:'])
  t.strictSame(problems(BASE, { POPGATE_PUBLIC_ORIGIN: 'https://bob.example/app' }), ['$POPGATE_PUBLIC_ORIGIN:1:1: publicOrigin: must be an origin with no path: scheme://host[:port]'])
  t.strictSame(problems(BASE, { POPGATE_LISTEN: '8080' }), ['$POPGATE_LISTEN:1:1: listen: must be "host:port" (e.g. "127.0.0.1:8080", "[::1]:8080"); got "8080"'])
  t.strictSame(problems(BASE, { POPGATE_LOG_LEVEL: 'loud' }), ['$POPGATE_LOG_LEVEL:1:1: log.level: must be one of fatal, error, warn, info, debug, trace, silent; got "loud"'])
  t.strictSame(problems(BASE, { POPGATE_ACL: '' }), ["$POPGATE_ACL:1:1: acl: is set but empty; unset it to use the config file's value"])
  t.strictSame(problems(BASE, { POPGATE_REDIS_URL: 'redis://r:6379' }), ['$POPGATE_REDIS_URL:1:1: replay.url: is set but replay.store is memory; set store: redis (or remove the url)'],
    'a Redis URL never silently falls back to per-process replay memory')
  t.notMatch(problems(BASE + 'replay: {store: redis}\n', { POPGATE_REDIS_URL: 'redis://:hunter2@r:6379 ' }).join(), /hunter2/)

  // Env wins: the file's (bad) value is not read at all, and file problems and env problems come together.
  t.strictSame(ok(t, 'publicOrigin: https://bob.example\nupstream: ftp://bad\nacl: a\n', { POPGATE_UPSTREAM: 'http://127.0.0.1:9' }).upstream.href, 'http://127.0.0.1:9/')
  t.strictSame(problems(BASE + 'nonce: {ttl: 5}\n', { POPGATE_UPSTREAM: 'nope' }), [
    `${FILE}:4:14: nonce.ttl: needs a unit: write "5s" or "5ms", not a bare 5`,
    '$POPGATE_UPSTREAM:1:1: upstream: must be an absolute URL like http://127.0.0.1:3000',
  ])
})

t.test('the example config/gateway.yaml parses with no problems', async (t) => {
  const file = join(ROOT, 'config', 'gateway.yaml')
  const r = await loadConfigFile(file)
  t.strictSame(r.problems.map(formatProblem), [])
  t.equal(r.config?.aclFile, join(ROOT, 'acl.example.yaml'))
  t.equal(r.config?.publicOrigin, 'https://bob.example')
  // It documents every top-level key the loader accepts (commented or not).
  const text = await readFile(file, 'utf8')
  for (const key of ['listen', 'tls', 'publicOrigin', 'upstream', 'acl', 'admin', 'secrets', 'replay', 'nonce', 'proof', 'keys', 'dpop',
    'sessions', 'identityHeaders', 'shutdown', 'cors', 'log', 'trustedProxies', 'timeouts', 'limits']) {
    t.match(text, new RegExp(`^#? ?${key}:`, 'm'), key)
  }
})

t.test('features not built yet are refused when switched on, never silently ignored; the session cookie and cors.origins are built', async (t) => {
  const base = 'publicOrigin: https://gw.example\nupstream: http://127.0.0.1:3000\nacl: ./acl.yaml\n'
  const r = parseConfig(base + 'sessions: {cookie: {deviceBound: true}}\n', '/etc/popgate/gateway.yaml')
  t.equal(r.config, undefined)
  t.match(r.problems.map(formatProblem).join('\n'), /sessions\.cookie\.deviceBound: device-bound session cookies \(DBSC\) are not supported/)
  const on = parseConfig(base + 'sessions: {cookie: {enabled: true}}\ncors: {origins: [https://app.example]}\n', '/etc/popgate/gateway.yaml')
  t.strictSame(on.problems.map(formatProblem), [])
  t.equal((on.config as unknown as { sessions: { cookie: { enabled: boolean } } }).sessions.cookie.enabled, true)
  t.strictSame(on.config?.cors.origins, ['https://app.example'])
})

t.test('shutdown.drainTimeout and identityHeaders.assertionAudience: values checked at their line', async (t) => {
  const base = 'publicOrigin: https://gw.example\nupstream: http://127.0.0.1:3000\nacl: ./acl.yaml\n'
  const ok0 = parseConfig(base + 'shutdown: { drainTimeout: 0s }\n', '/etc/popgate/gateway.yaml')
  t.strictSame(ok0.config?.shutdown, { drainTimeoutMs: 0 }, '0s: cut at once')
  for (const [text, re] of [
    ['shutdown: { drainTimeout: 20 }\n', /4:\d+: shutdown\.drainTimeout: needs a unit/],
    ['shutdown: { drainTimeout: -1s }\n', /shutdown\.drainTimeout:/],
    ['shutdown: { drainTimout: 20s }\n', /shutdown\.drainTimout: unknown key; did you mean "drainTimeout"/],
    ['identityHeaders: { assertionAudience: "a b" }\n', /identityHeaders\.assertionAudience: must be at most 256 printable/],
    ['identityHeaders: { assertion: "true" }\n', /identityHeaders\.assertion:/],
  ] as const) {
    const r = parseConfig(base + text, '/etc/popgate/gateway.yaml')
    t.equal(r.config, undefined, text.trim())
    t.match(r.problems.map(formatProblem).join('\n'), re)
  }
})

t.test('tls client certificates, HTTP/2 limits and forwardedClientCert: checked at their line', async (t) => {
  const TLS = 'tls:\n  listen: 127.0.0.1:0\n  cert: c.pem\n  key: k.pem\n'
  const c = ok(t, BASE + TLS)
  t.strictSame([c.tls?.clientCertificates, c.tls?.clientCaFile, c.tls?.http2], ['none', undefined, { enabled: true, maxConcurrentStreams: 100, maxHeaderListBytes: 16 * 1024 }],
    'defaults: no certificate asked for; h2 on, 100 streams, the header list capped at limits.maxHeaderBytes')
  t.equal(ok(t, BASE + TLS + 'limits: {maxHeaderBytes: 8KiB}\n').tls?.http2.maxHeaderListBytes, 8 * 1024, 'the h2 header list follows limits.maxHeaderBytes')
  t.equal(ok(t, BASE + TLS + '  clientCertificates: request\n').tls?.clientCaFile, undefined, 'request needs no CA (certificate-bound tokens work with any certificate, RFC 8705 §2.2)')
  oneProblem(t, BASE + TLS + '  clientCertificates: require\n', `${FILE}:4:1: tls.clientCa:`, /required when clientCertificates is require/)
  oneProblem(t, BASE + TLS + '  clientCa: ca.pem\n', `${FILE}:8:13: tls.clientCa:`, /no effect while clientCertificates is none/)
  oneProblem(t, BASE + TLS + '  clientCertificates: Required\n', `${FILE}:8:23: tls.clientCertificates:`, /must be one of none, request, require/)
  oneProblem(t, BASE + TLS + '  http2: {maxConcurrentStreams: 100000}\n', `${FILE}:8:33: tls.http2.maxConcurrentStreams:`, /at most 1000/)
  oneProblem(t, BASE + TLS + '  http2: {maxStreams: 10}\n', `${FILE}:8:11: tls.http2.maxStreams:`, /unknown key/)
  oneProblem(t, BASE + 'forwardedClientCert: {ca: lb.pem}\n', `${FILE}:4:27: forwardedClientCert.ca:`, /needs trustedProxies/)
  t.strictSame(ok(t, BASE + 'trustedProxies: [10.0.0.1]\nforwardedClientCert: {ca: lb.pem}\n').forwardedClientCert, { caFile: '/srv/popgate/lb.pem' })
  oneProblem(t, BASE + 'trustedProxies: [10.0.0.1]\nforwardedClientCert: {}\n', `${FILE}:5:1: forwardedClientCert.ca:`, /is required/)
})
