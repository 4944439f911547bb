// Admin listener (keep it off the public interface): /healthz (the process
// answers), /readyz (state loaded, not draining, and the replay store
// answers), /metrics (Prometheus text; gauges read from the current state
// at scrape). It has no authentication, so nothing here changes state but
// POST /sessions/revoke/<identity>, which can only make sessions stricter
// (revocation/admin-route.ts); everything else is GET and HEAD, anything
// else is 405 (docs/security.md G19).

import http from 'node:http'
import type { StateHolder } from './assembly/state.js'
import { handleRevoke } from './revocation/admin-route.js'
import type { Revocations } from './revocation/types.js'

export function createAdminServer(holder: StateHolder, draining: () => boolean = () => false, revocations: () => Revocations | undefined = () => undefined): http.Server {
  return http.createServer((req, res) => {
    const path = (req.url ?? '').split('?')[0] ?? ''
    if (handleRevoke(req, res, path, revocations())) return
    const send = (status: number, type: string, body: string) => {
      res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store', 'content-length': Buffer.byteLength(body) })
      res.end(body)
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('allow', 'GET, HEAD')
      return send(405, 'text/plain', 'method not allowed\n')
    }
    if (path === '/healthz') return send(200, 'text/plain', 'ok\n')
    if (path === '/metrics') {
      const st = holder.current
      const gauges = st.modules.flatMap((m) => m.built.gauges?.() ?? [])
      st.metrics.render({ keys: st.keys.stats(), draining: draining(), gauges }).then(
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
    send(404, 'text/plain', 'not found\n')
  })
}
