// An OTLP/HTTP trace receiver on loopback (JSON encoding, what
// @opentelemetry/exporter-trace-otlp-http sends): it decodes each export into
// flat spans. `mode` makes it a collector that answers, refuses (503) or
// hangs (never answers).

import http from 'node:http'
import type { AddressInfo } from 'node:net'

export interface ReceivedSpan {
  readonly traceId: string
  readonly spanId: string
  readonly parentSpanId: string | undefined
  readonly name: string
  readonly kind: number
  readonly attributes: Readonly<Record<string, string | number | boolean>>
  readonly status: { readonly code?: number; readonly message?: string }
  readonly service: string | undefined
}

export interface Receiver {
  readonly url: string
  readonly spans: ReceivedSpan[]
  /** Export requests received (answered or not). */
  exports: number
  mode: 'ok' | 'refuse' | 'hang'
  /** Headers of the last export request. */
  lastHeaders: http.IncomingHttpHeaders | undefined
  close(): Promise<void>
}

type AnyValue = { stringValue?: string; intValue?: string | number; boolValue?: boolean; doubleValue?: number }
type KeyValue = { key: string; value: AnyValue }
const valueOf = (v: AnyValue): string | number | boolean => v.stringValue ?? (v.intValue !== undefined ? Number(v.intValue) : v.boolValue ?? v.doubleValue ?? '')
const attrs = (list: readonly KeyValue[] | undefined) => Object.fromEntries((list ?? []).map((a) => [a.key, valueOf(a.value)]))

export async function startReceiver(): Promise<Receiver> {
  const hanging: http.ServerResponse[] = []
  const r: Receiver = { url: '', spans: [], exports: 0, mode: 'ok', lastHeaders: undefined, close: async () => {} }
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      r.exports++
      r.lastHeaders = req.headers
      if (r.mode === 'hang') return void hanging.push(res)
      if (r.mode === 'refuse') { res.writeHead(503); return void res.end() }
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { resourceSpans: { resource?: { attributes?: KeyValue[] }; scopeSpans: { spans: { traceId: string; spanId: string; parentSpanId?: string; name: string; kind: number; attributes?: KeyValue[]; status?: { code?: number; message?: string } }[] }[] }[] }
      for (const rs of body.resourceSpans) {
        const service = attrs(rs.resource?.attributes)['service.name'] as string | undefined
        for (const ss of rs.scopeSpans) {
          for (const s of ss.spans) r.spans.push({ traceId: s.traceId, spanId: s.spanId, parentSpanId: s.parentSpanId || undefined, name: s.name, kind: s.kind, attributes: attrs(s.attributes), status: s.status ?? {}, service })
        }
      }
      res.writeHead(200, { 'content-type': 'application/json' })
      res.end('{}')
    })
  })
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok))
  const port = (server.address() as AddressInfo).port
  return Object.assign(r, {
    url: `http://127.0.0.1:${port}/v1/traces`,
    close: () => new Promise<void>((ok) => { for (const h of hanging) h.destroy(); server.closeAllConnections(); server.close(() => ok()) }),
  })
}
