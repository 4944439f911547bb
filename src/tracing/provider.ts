// One tracing instance per `tracing` config: the SDK's tracer provider
// (parent-based ratio sampler, service resource, OTLP/HTTP JSON exporter
// behind export.ts's guards) and the per-request server span.
//
// A request's span (`RequestTrace`) is started in pipeline/run.ts only when
// state.tracing is set, and ended in pipeline/exchange.ts with the facts the
// access line has: rule id, scheme, decision, code, identity (the proven
// one; a merely claimed identity is `popgate.claimed`), status. Never a
// header value, a proof or a token.

import { SpanKind, SpanStatusCode, type Attributes, type Context, type Span, type Tracer } from '@opentelemetry/api'
import { BasicTracerProvider, ParentBasedSampler, TraceIdRatioBasedSampler } from '@opentelemetry/sdk-trace-base'
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http'
import { detectResources, envDetector, resourceFromAttributes } from '@opentelemetry/resources'
import type { IncomingMessage } from 'node:http'
import type { BlockList } from 'node:net'
import type { TracingConfig } from '../config/types.js'
import { isTrustedPeer } from '../http/client-address.js'
import type { Logger } from '../log.js'
import { enableContext, requestContext, runIn } from './context.js'
import { boundedProcessor, type DropReport } from './export.js'
import { incomingContext } from './propagation.js'

/** The facts a server span ends with (pipeline/exchange.ts Exchange has them). */
export interface TracedExchange {
  readonly method: string
  readonly path: string | undefined
  readonly ruleId: string | undefined
  readonly scheme: string | undefined
  readonly decision: string | undefined
  readonly code: string | undefined
  readonly identity: string | undefined
  readonly claimed: string | undefined
  readonly upstreamStatus: number | undefined
}

export interface RequestTrace {
  /** 32 lowercase hex digits: the access line's `trace_id`. */
  readonly traceId: string
  /** Runs the request under its span, so child spans and the upstream's traceparent find it. */
  run<T>(fn: () => T): T
  end(ex: TracedExchange, status: number): void
}

export interface Tracing {
  readonly config: TracingConfig
  start(req: IncomingMessage, trusted: BlockList | undefined): RequestTrace
  /** Exports what is queued (tests, shutdown). */
  flush(): Promise<void>
  close(): Promise<void>
}

class ServerSpan implements RequestTrace {
  readonly traceId: string
  constructor(private readonly span: Span, private readonly ctx: Context) {
    this.traceId = span.spanContext().traceId
  }

  run<T>(fn: () => T): T { return runIn(this.ctx, fn) }

  end(ex: TracedExchange, status: number): void {
    const span = this.span
    if (span.isRecording()) {
      const a: Attributes = { 'http.response.status_code': status, 'popgate.decision': ex.decision ?? 'error' }
      if (ex.path !== undefined) a['url.path'] = ex.path
      if (ex.ruleId !== undefined) a['popgate.rule'] = ex.ruleId
      if (ex.scheme !== undefined) a['popgate.scheme'] = ex.scheme
      if (ex.code !== undefined) a['popgate.code'] = ex.code
      if (ex.identity !== undefined) a['enduser.id'] = ex.identity
      else if (ex.claimed !== undefined) a['popgate.claimed'] = ex.claimed
      if (ex.upstreamStatus !== undefined) a['popgate.upstream_status'] = ex.upstreamStatus
      span.setAttributes(a)
      if (ex.ruleId !== undefined) span.updateName(`${ex.method} ${ex.ruleId}`)
      // Server spans: 5xx is an error, 4xx is the client's (OpenTelemetry HTTP semantic conventions).
      if (status >= 500) span.setStatus({ code: SpanStatusCode.ERROR, message: ex.code ?? String(status) })
    }
    span.end()
  }
}

export function createTracing(config: TracingConfig, deps: { readonly log: Logger; readonly dropped: DropReport['dropped'] }): Tracing {
  enableContext()
  const exporter = new OTLPTraceExporter({ url: config.endpoint.href, headers: { ...config.headers }, timeoutMillis: config.timeoutMs })
  const resource = detectResources({ detectors: [envDetector] }).merge(resourceFromAttributes({ 'service.name': config.serviceName }))
  const provider = new BasicTracerProvider({
    resource,
    // A trusted hop's sampling decision is followed; new traces are sampled at the ratio.
    sampler: new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(config.sampleRatio) }),
    spanProcessors: [boundedProcessor(exporter, deps.log, { dropped: deps.dropped }, { exportTimeoutMs: config.timeoutMs })],
  })
  const tracer: Tracer = provider.getTracer('popgate')
  let closed: Promise<void> | undefined

  return {
    config,
    start(req, trusted) {
      const parent = incomingContext(req, isTrustedPeer(trusted, req.socket.remoteAddress))
      const span = tracer.startSpan(req.method ?? 'HTTP', {
        kind: SpanKind.SERVER,
        attributes: { 'http.request.method': req.method ?? '', 'client.address': req.socket.remoteAddress ?? '', 'network.protocol.version': req.httpVersion },
      }, parent)
      return new ServerSpan(span, requestContext(tracer, span, parent))
    },
    flush: () => provider.forceFlush(),
    close() {
      // Bounded: a hanging collector must not hold a reload or a shutdown.
      closed ??= Promise.race([provider.shutdown(), new Promise<void>((r) => setTimeout(r, config.timeoutMs + 1_000).unref())]).catch(() => {})
      return closed
    },
  }
}
