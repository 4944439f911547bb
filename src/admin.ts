// Admin listener (keep it off the public interface): /healthz (the process
// answers), /readyz (state loaded, not draining, and the replay store
// answers), /metrics (Prometheus text; gauges read from the current state
// at scrape), and the live page at / (admin/page.ts) with its style and
// script. It has no authentication, so nothing here changes state but
// POST /sessions/revoke/<identity>, which can only make sessions stricter
// (revocation/admin-route.ts), and POST /keys/approve/<identity>/<thumbprint>
// (keys/admin-route.ts), which admits a held key: one more reason this
// listener belongs on loopback (docs/security.md, "Key trust"); everything
// else is GET and HEAD, anything else is 405 (docs/security.md G19).
//
// Bound to loopback (the default), the page answers only requests whose
// Host is a loopback name: a web page the operator visits cannot point a
// name of its own at 127.0.0.1 (DNS rebinding) and read identities and
// refusals from it (docs/security.md G19).

import http from 'node:http'
import { isIP } from 'node:net'
import type { StateHolder } from './assembly/state.js'
import { renderMain, renderPage } from './admin/page.js'
import { readView } from './admin/view.js'
import { PAGE_CSP, PAGE_SCRIPT, PAGE_STYLE } from './admin/assets.js'
import type { ReloadStatus } from './config/reload-status.js'
import { handleRevoke } from './revocation/admin-route.js'
import { handleKeys } from './keys/admin-route.js'
import type { Revocations } from './revocation/types.js'

export interface AdminOptions {
  /** The listener is bound to a loopback address: the page refuses non-loopback Host names. */
  readonly loopback?: boolean
  /** The last reload's outcome, for the reload gauges (config/reload-status.ts). */
  readonly reload?: () => ReloadStatus
  /** The sessions module's revocation list, when it built one (POST /sessions/revoke/<identity>). */
  readonly revocations?: () => Revocations | undefined
}

const PAGE_HEADERS = { 'content-security-policy': PAGE_CSP, 'x-content-type-options': 'nosniff', 'referrer-policy': 'no-referrer', 'x-frame-options': 'DENY' }

/** `localhost`, 127.0.0.0/8 or ::1, with or without a port. */
export function isLoopbackHostHeader(host: string | undefined): boolean {
  if (host === undefined) return false
  const name = host.startsWith('[') ? host.slice(1, host.indexOf(']')) : host.replace(/:\d*$/, '')
  if (name.toLowerCase() === 'localhost') return true
  if (isIP(name) === 4) return name.startsWith('127.')
  return name === '::1'
}

export function createAdminServer(holder: StateHolder, draining: () => boolean = () => false, opts: AdminOptions = {}): http.Server {
  const startedAtMs = Date.now()
  return http.createServer((req, res) => {
    const [path, query] = (req.url ?? '').split('?') as [string, string | undefined]
    if (handleRevoke(req, res, path, opts.revocations?.())) return
    if (handleKeys(req, res, path, () => holder.current.keyTrust)) return
    const send = (status: number, type: string, body: string, extra: Record<string, string> = {}) => {
      res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store', 'content-length': Buffer.byteLength(body), ...extra })
      res.end(req.method === 'HEAD' ? undefined : body)
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('allow', 'GET, HEAD')
      return send(405, 'text/plain', 'method not allowed\n')
    }
    if (path === '/healthz') return send(200, 'text/plain', 'ok\n')
    if (path === '/metrics') {
      const st = holder.current
      const gauges = st.modules.flatMap((m) => m.built.gauges?.() ?? [])
      st.metrics.render({ keys: st.keys.stats(), draining: draining(), gauges, reload: opts.reload?.() }).then(
        (text) => send(200, 'text/plain; version=0.0.4', text),
        (err: unknown) => { st.log.error({ err }, 'metrics render failed'); send(500, 'text/plain', 'metrics unavailable\n') },
      )
      return
    }
    if (path === '/readyz') {
      // Draining: out of the Service first, while in-flight requests finish (server.ts drain).
      if (draining()) return send(503, 'text/plain', 'draining\n')
      holder.current.replay.healthy().then(
        (ok) => send(ok ? 200 : 503, 'text/plain', ok ? 'ready\n' : 'replay store unavailable\n'),
        () => send(503, 'text/plain', 'replay store unavailable\n'),
      )
      return
    }
    // Browsers ask for it; an empty answer keeps their consoles clean.
    if (path === '/favicon.ico') return send(204, 'image/x-icon', '')
    if (path === '/' || path === '/admin.js' || path === '/admin.css') {
      if (opts.loopback && !isLoopbackHostHeader(req.headers.host)) return send(403, 'text/plain', 'the admin page answers loopback names only (Host: localhost or 127.0.0.1)\n')
      if (path === '/admin.js') return send(200, 'text/javascript; charset=utf-8', PAGE_SCRIPT, PAGE_HEADERS)
      if (path === '/admin.css') return send(200, 'text/css; charset=utf-8', PAGE_STYLE, PAGE_HEADERS)
      const st = holder.current
      readView(st, draining(), startedAtMs).then(
        (view) => send(200, 'text/html; charset=utf-8', query === 'part=main' ? renderMain(view) : renderPage(view), PAGE_HEADERS),
        (err: unknown) => { st.log.error({ err }, 'admin page failed'); send(500, 'text/plain', 'admin page unavailable\n') },
      )
      return
    }
    send(404, 'text/plain', 'not found\n')
  })
}
