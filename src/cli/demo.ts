// `popgate demo` (what `npm start` runs): every party on loopback — a demo
// upstream, a key host for the identity `alice.test`, and the gateway in
// front — then prints commands to try. Nothing leaves 127.0.0.1. Its files
// (a private key among them) live in a 0700 temp folder removed on exit,
// Ctrl-C and SIGTERM.

import { schemeRedactFields } from '../schemes/index.js'
import http from 'node:http'
import { chmod, mkdtemp, writeFile } from 'node:fs/promises'
import { existsSync, realpathSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { delimiter, join, resolve } from 'node:path'
import type { AddressInfo } from 'node:net'
import { parseArgs } from 'node:util'
import { startGateway } from '../server.js'
import { createLogger } from '../log.js'
import { createMetrics } from '../metrics.js'
import { generateClientKey, saveClientKey } from '../client/keys.js'
import { createKeyHostServer } from '../keyhost/server.js'
import { createMemoryKeyStore } from '../keyhost/store.js'
import { UsageError, CliError, EXIT } from './usage.js'
import { createBrowserSite } from './browser-site.js'

const IDENTITY = 'alice.test'
/** The browser part's identity: *.localhost is a secure context that browsers resolve to loopback by themselves. */
const BROWSER_IDENTITY = 'alice.localhost'

function listen(server: http.Server, port: number): Promise<AddressInfo> {
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, '127.0.0.1', () => resolve(server.address() as AddressInfo))
  })
}

/** The demo upstream: echoes what it was asked and which identity headers it got. */
export function createEchoUpstream(): http.Server {
  return http.createServer((req, res) => {
    const identity = Object.fromEntries(Object.entries(req.headers).filter(([k]) => k.startsWith('x-pop-') || k.startsWith('x-forwarded-')))
    const body = JSON.stringify({ upstream: 'demo', method: req.method, url: req.url, headers: identity }, null, 2) + '\n'
    res.writeHead(200, { 'content-type': 'application/json' })
    res.end(body)
  })
}

/**
 * How the printed commands call popgate, so they work from any folder:
 * `popgate` when the one on PATH is this installation, else this script by
 * its absolute path (`node /…/dist/src/cli/main.js`), which needs no checkout,
 * no link and no registry.
 */
export function cliCommand(pathEnv: string, script: string): string {
  const self = realOrSame(script)
  for (const dir of pathEnv.split(delimiter)) {
    if (!dir) continue
    const candidate = join(dir, 'popgate')
    if (!existsSync(candidate)) continue
    if (realOrSame(candidate) === self) return 'popgate'
    break // another popgate comes first on PATH: name ours exactly
  }
  return `node ${/^[\w@%+=:,./-]+$/.test(self) ? self : `'${self.replaceAll("'", "'\\''")}'`}`
}

function realOrSame(path: string): string {
  try { return realpathSync(path) } catch { return resolve(path) }
}

export async function runDemo(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { port: { type: 'string', default: process.env.POPGATE_DEMO_PORT ?? '8080' } } })
  if (!/^\d+$/.test(values.port!) || Number(values.port) > 65535) throw new UsageError(`--port ${values.port}: a port number 0-65535 (0 picks a free one)`)
  const dir = await mkdtemp(join(tmpdir(), 'popgate-demo-'))
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }))
  await chmod(dir, 0o700) // mkdtemp(3) already does; said here because a private key goes in
  const servers: { close(): unknown }[] = []
  let closing: Promise<unknown> | undefined
  const stop = () => {
    if (closing) process.exit(1) // a second Ctrl-C: now
    closing = Promise.allSettled(servers.map((s) => s.close())).finally(() => process.exit(0))
  }
  process.on('SIGINT', stop)
  process.on('SIGTERM', stop)
  const upstreamServer = createEchoUpstream()
  servers.push({ close: () => { upstreamServer.closeAllConnections(); upstreamServer.close() } })
  const upstream = await listen(upstreamServer, 0)

  const key = await generateClientKey('ES256')
  const { privateFile } = await saveClientKey(key, join(dir, IDENTITY))
  const store = createMemoryKeyStore()
  const keyhostServer = createKeyHostServer({ identity: IDENTITY, store, authorize: () => false, publicOrigin: `http://${IDENTITY}` })
  servers.push({ close: () => { keyhostServer.closeAllConnections(); keyhostServer.close() } })
  const keyhost = await listen(keyhostServer, 0)
  await store.put({ id: key.kid, jwk: { ...key.publicJwk, use: 'sig' }, expiresAtMs: Date.now() + 24 * 3600_000 })
  const keyUrl = `http://${IDENTITY}:${keyhost.port}/.well-known/domainpop/keys/${key.kid}`

  // The identity's own web site for the browser page: the example page, the browser client, its key host.
  const siteStore = createMemoryKeyStore()
  let siteServer: http.Server | undefined
  const siteProbe = http.createServer()
  const sitePort = (await listen(siteProbe, 0)).port
  siteProbe.close()
  const siteOrigin = `http://${BROWSER_IDENTITY}:${sitePort}`

  let port = Number(values.port)
  // The port asked for, or a clear failure: never a silent move to another one (0 asks for any).
  const probe = http.createServer()
  try { await listen(probe, port) } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    throw new CliError(`cannot listen on 127.0.0.1:${port}: ${code === 'EADDRINUSE' ? 'address already in use' : code ?? 'error'}; pick another with --port N (or POPGATE_DEMO_PORT; 0 picks a free one)`, EXIT.cannotListen)
  } finally { probe.close() }
  const origin = () => `http://127.0.0.1:${port}`
  await writeFile(join(dir, 'acl.yaml'), [
    'version: 1',
    'rules:',
    '  - path: /healthz',
    '    public: true',
    '  - id: hello',
    '    path: /hello/**',
    `    read: [${IDENTITY}, ${BROWSER_IDENTITY}]`,
    `    write: [${IDENTITY}, ${BROWSER_IDENTITY}]`,
    '  - id: admin',
    '    path: /admin/**',
    '    read: [admin.test]',
    '',
  ].join('\n'))
  const writeConfig = (p: number) => writeFile(join(dir, 'gateway.yaml'), [
    `listen: 127.0.0.1:${p}`,
    `publicOrigin: http://127.0.0.1:${p}`,
    `upstream: http://127.0.0.1:${upstream.port}`,
    'acl: ./acl.yaml',
    'admin:',
    '  listen: 127.0.0.1:0',
    'keys:',
    `  allowHttp: [${IDENTITY}, ${BROWSER_IDENTITY}]`,
    '  allowPrivateAddresses: true   # demo only: the key host is on loopback',
    '  allowPorts: any',
    `  resolve: { ${IDENTITY}: 127.0.0.1, ${BROWSER_IDENTITY}: 127.0.0.1 }`,
    'sessions:',
    '  tickets: { enabled: true }',
    'cors:',
    `  origins: [${siteOrigin}]   # the example page may call the gateway`,
    'log:',
    '  level: warn',
    '',
  ].join('\n'))
  await writeConfig(port)
  const log = createLogger('warn', undefined, schemeRedactFields())
  let gw = await startGateway(join(dir, 'gateway.yaml'), { env: {}, log, metrics: createMetrics() })
  if (port === 0) {
    // publicOrigin must name the real port: rewrite and restart on it.
    port = gw.http.port
    await gw.close()
    await writeConfig(port)
    gw = await startGateway(join(dir, 'gateway.yaml'), { env: {}, log, metrics: createMetrics() })
  }
  servers.push(gw)
  siteServer = createBrowserSite({ identity: BROWSER_IDENTITY, origin: siteOrigin, gateway: origin(), store: siteStore, pageConfig: { paths: { allowed: '/hello/browser', denied: '/admin/users' }, ticketCalls: 10 } })
  const site = siteServer
  servers.push({ close: () => { site.closeAllConnections(); site.close() } })
  await listen(site, sitePort)
  const cli = cliCommand(process.env.PATH ?? '', process.argv[1] ?? '')
  const fetchCmd = (path: string) => `${cli} fetch ${origin()}${path} --identity ${IDENTITY} --key ${privateFile} --key-url ${keyUrl}`
  process.stdout.write(`
popgate demo is running (Ctrl-C to stop). Files: ${dir} (removed on exit)

  gateway    ${origin()}        (config ${join(dir, 'gateway.yaml')}, dev secrets, in-memory replay store)
  upstream   http://127.0.0.1:${upstream.port}     (echoes the identity headers it receives)
  key host   ${keyUrl.replace(`${IDENTITY}:`, `${IDENTITY}(127.0.0.1):`)}
  admin      http://127.0.0.1:${gw.admin!.port}/metrics

Try:
  curl -i ${origin()}/healthz                 # public route: 200
  curl -i ${origin()}/hello/world             # no credentials: 401 with a DomainPoP challenge
  ${fetchCmd('/hello/world')}
                                              # alice.test proves its key: 200, upstream sees X-PoP-Identity
  ${fetchCmd('/admin/users')} -i
                                              # authenticated, but the ACL says no: 403 forbidden
  ${cli} acl explain --acl ${join(dir, 'acl.yaml')} --as ${IDENTITY} GET /admin/users

In a browser (Chromium, Firefox; *.localhost resolves to this machine):
  ${siteOrigin}/
                                              # ${BROWSER_IDENTITY}'s page: a WebCrypto key made and published, the challenge,
                                              # the proof, then ten calls on a session ticket, and two refusals as problem+json
`)
  return -1
}
