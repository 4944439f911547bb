// The identity's own web site, for `popgate demo` and the browser tests:
// one origin (http://alice.localhost:PORT, a secure context in browsers)
// that serves the example page (examples/browser/), the browser client
// (dist/browser/), and the domain's key host under /.well-known/domainpop/,
// so the page publishes its key same-origin. Who may publish: a bearer token
// the site hands its own page in /config.json — a stand-in for the domain's
// real sign-in, fit for a demo on loopback only.

import http from 'node:http'
import { readFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { join, normalize } from 'node:path'
import { randomBytes, timingSafeEqual } from 'node:crypto'
import { createKeyHostHandler } from '../keyhost/server.js'
import type { KeyStore } from '../keyhost/store.js'

/** dist/src/cli → the package root. */
const ROOT = fileURLToPath(new URL('../../../', import.meta.url))
export const EXAMPLE_DIR = join(ROOT, 'examples', 'browser')
export const BROWSER_DIST_DIR = join(ROOT, 'dist', 'browser')

export interface BrowserSiteOptions {
  readonly identity: string
  /** This site's origin, e.g. http://alice.localhost:8081 */
  readonly origin: string
  /** The gateway the page calls, and the paths it tries. */
  readonly gateway: string
  readonly store: KeyStore
  /** Extra members for /config.json (the paths the page calls, …). */
  readonly pageConfig?: Readonly<Record<string, unknown>>
}

const TYPES: Record<string, string> = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8', '.map': 'application/json' }

export function createBrowserSite(opts: BrowserSiteOptions): http.Server {
  const token = randomBytes(24).toString('base64url')
  const expected = Buffer.from(`Bearer ${token}`)
  const keyHost = createKeyHostHandler({
    identity: opts.identity, store: opts.store, publicOrigin: opts.origin,
    authorize: (req) => {
      const got = Buffer.from(req.headers.authorization ?? '')
      return got.length === expected.length && timingSafeEqual(got, expected)
    },
  })
  const send = (res: http.ServerResponse, status: number, type: string, body: string | Buffer) => {
    // The page loads scripts from this origin only.
    res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store', 'content-security-policy': "default-src 'self'; connect-src *; img-src 'self' data:" })
    res.end(body)
  }
  const file = async (res: http.ServerResponse, dir: string, name: string) => {
    const path = normalize(join(dir, name))
    if (!path.startsWith(dir + '/')) return send(res, 404, 'text/plain', 'not found')
    try { send(res, 200, TYPES[path.slice(path.lastIndexOf('.'))] ?? 'application/octet-stream', await readFile(path)) } catch { send(res, 404, 'text/plain', 'not found') }
  }
  return http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0]!
    if (path.startsWith('/.well-known/domainpop/')) return keyHost(req, res)
    if (req.method !== 'GET') return send(res, 405, 'text/plain', 'method not allowed')
    if (path === '/favicon.ico') { res.writeHead(204); return void res.end() }
    if (path === '/config.json') return send(res, 200, 'application/json', JSON.stringify({ identity: opts.identity, gateway: opts.gateway, publishToken: token, ...opts.pageConfig }))
    if (path === '/') return void file(res, EXAMPLE_DIR, 'index.html')
    if (path.startsWith('/popgate/')) return void file(res, BROWSER_DIST_DIR, path.slice('/popgate/'.length))
    return void file(res, EXAMPLE_DIR, path.slice(1))
  })
}
