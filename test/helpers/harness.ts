// Shared test scaffolding: a recording upstream, a gateway started from YAML
// written to a temp dir, and small HTTP helpers. Everything binds 127.0.0.1
// on port 0.

import http from 'node:http'
import { mkdtemp, writeFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { AddressInfo } from 'node:net'
import { Writable } from 'node:stream'
import { startGateway, type Gateway } from '../../src/server.js'
import type { BuildDeps } from '../../src/assembly/build-state.js'
import { schemeRedactFields } from '../../src/schemes/index.js'
import { createLogger } from '../../src/log.js'
import { createMetrics, type Metrics } from '../../src/metrics.js'
import type { ReplayStore } from '../../src/replay/types.js'

export interface Seen { method: string; url: string; headers: http.IncomingHttpHeaders; rawHeaders: string[]; bodyBytes: number }

export interface Upstream {
  readonly port: number
  readonly url: string
  readonly seen: Seen[]
  /** Replace the behaviour for the next requests. */
  handler: (req: http.IncomingMessage, res: http.ServerResponse) => void
  close(): Promise<void>
}

export async function startUpstream(): Promise<Upstream> {
  const seen: Seen[] = []
  const up: Upstream = {
    port: 0, url: '', seen,
    handler: (_req, res) => { res.writeHead(200, { 'content-type': 'text/plain' }); res.end('upstream ok') },
    close: async () => {},
  }
  const server = http.createServer((req, res) => {
    const entry: Seen = { method: req.method!, url: req.url!, headers: req.headers, rawHeaders: req.rawHeaders, bodyBytes: 0 }
    seen.push(entry)
    req.on('data', (c: Buffer) => { entry.bodyBytes += c.length })
    up.handler(req, res)
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  const port = (server.address() as AddressInfo).port
  return Object.assign(up, {
    port, url: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()) }),
  })
}

export const DEFAULT_ACL = `version: 1
rules:
  - path: /healthz
    public: true
  - path: /public/**
    public: true
  - id: foo
    path: /foo
    read: [alice.test]
  - id: reports
    path: /reports/**
    read: ["*.partner.test", alice.test]
    write: [alice.test]
`

/** Collects log lines in memory (JSON objects). */
export function memoryLog(): { lines: Record<string, unknown>[]; text: string[]; stream: Writable } {
  const lines: Record<string, unknown>[] = []
  const text: string[] = []
  const stream = new Writable({
    write(chunk, _enc, cb) {
      for (const l of String(chunk).split('\n')) if (l) { text.push(l); lines.push(JSON.parse(l)) }
      cb()
    },
  })
  return { lines, text, stream }
}

export interface TestGateway {
  readonly gw: Gateway
  readonly url: string
  readonly dir: string
  readonly configFile: string
  readonly aclFile: string
  readonly metrics: Metrics
  readonly log: ReturnType<typeof memoryLog>
  close(): Promise<void>
}

export interface GatewayOptions {
  readonly upstream: string
  readonly acl?: string
  /** Extra YAML appended to the config (top-level keys). */
  readonly extraConfig?: string
  readonly publicOrigin?: string
  readonly watch?: boolean
  readonly logLevel?: string
  readonly now?: () => number
  readonly extraSchemes?: BuildDeps['extraSchemes']
  readonly ownRoutes?: BuildDeps['ownRoutes']
  /** The scheme modules (default: the built-in ones); a test adds its own with one line. */
  readonly modules?: BuildDeps['modules']
  /** Replaces the configured replay store (the gateway puts its deadline around it). */
  readonly replay?: ReplayStore
}

export async function startTestGateway(opts: GatewayOptions): Promise<TestGateway> {
  const dir = await mkdtemp(join(tmpdir(), 'popgate-test-'))
  const aclFile = join(dir, 'acl.yaml')
  const configFile = join(dir, 'gateway.yaml')
  await writeFile(aclFile, opts.acl ?? DEFAULT_ACL)
  await writeFile(configFile, [
    'listen: 127.0.0.1:0',
    `publicOrigin: ${opts.publicOrigin ?? 'https://gw.test'}`,
    `upstream: ${opts.upstream}`,
    'acl: ./acl.yaml',
    'log:',
    `  level: ${opts.logLevel ?? 'info'}`,
    opts.extraConfig ?? '',
  ].join('\n'))
  const log = memoryLog()
  const metrics = createMetrics()
  const gw = await startGateway(configFile, { env: {}, log: createLogger((opts.logLevel ?? 'info') as 'info', log.stream, schemeRedactFields(opts.modules)), metrics, watch: opts.watch ?? false, now: opts.now, extraSchemes: opts.extraSchemes, ownRoutes: opts.ownRoutes, replay: opts.replay, modules: opts.modules })
  return {
    gw, dir, configFile, aclFile, metrics, log,
    url: `http://127.0.0.1:${gw.http.port}`,
    async close() { await gw.close(); await rm(dir, { recursive: true, force: true }) },
  }
}

export interface RawResponse { status: number; headers: http.IncomingHttpHeaders; rawHeaders: string[]; body: string }

/** A request with exact control over the target and raw header list (fetch would normalize both). */
export function rawRequest(url: string, opts: { method?: string; path: string; headers?: [string, string][]; body?: string | Buffer }): Promise<RawResponse> {
  const u = new URL(url)
  return new Promise((resolve, reject) => {
    const flat: string[] = []
    if (!(opts.headers ?? []).some(([k]) => k.toLowerCase() === 'host')) flat.push('Host', u.host)
    for (const [k, v] of opts.headers ?? []) flat.push(k, v)
    const req = http.request({ host: u.hostname, port: u.port, method: opts.method ?? 'GET', path: opts.path, headers: flat.length ? (flat as unknown as http.OutgoingHttpHeaders) : undefined, agent: false })
    req.on('response', (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, rawHeaders: res.rawHeaders, body: Buffer.concat(chunks).toString('utf8') }))
      res.on('error', reject)
    })
    req.on('error', reject)
    req.end(opts.body)
  })
}

/** Sends bytes verbatim on a socket and returns what comes back (for targets Node's client refuses to send). */
export async function rawSocket(port: number, text: string): Promise<string> {
  const net = await import('node:net')
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1', () => s.end(text))
    let out = ''
    s.on('data', (c) => { out += c })
    s.on('end', () => resolve(out))
    s.on('close', () => resolve(out))
    s.on('error', reject)
  })
}

export const waitFor = async (cond: () => boolean | Promise<boolean>, timeoutMs = 5000, stepMs = 20): Promise<void> => {
  const until = Date.now() + timeoutMs
  while (!(await cond())) {
    if (Date.now() > until) throw new Error('waitFor: condition not met in time')
    await new Promise((r) => setTimeout(r, stepMs))
  }
}

/** A loopback port that was free a moment ago: for servers that cannot report the one they bound, and for a port nothing listens on. Racy, but only against ourselves. */
export async function freePort(): Promise<number> {
  const net = await import('node:net')
  const s = net.createServer()
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r))
  const port = (s.address() as import('node:net').AddressInfo).port
  await new Promise<void>((r) => s.close(() => r()))
  return port
}
