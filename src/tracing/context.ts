// Child spans for the steps a request waits on (key and issuer fetches, the
// replay store, the upstream call), parented by the request's server span
// through the active context. The request path calls `childSpan` without
// knowing whether tracing is on: while no tracing instance exists in the
// process, `childSpan` is one boolean check and a direct call (no span, no
// context lookup). The tracer travels in the context, next to the span, so
// two gateways in one process (tests, a reload that changes `tracing`) each
// trace with their own.

import { context, createContextKey, SpanKind, SpanStatusCode, trace, type Attributes, type Context, type Span, type Tracer } from '@opentelemetry/api'
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks'

const TRACER = createContextKey('popgate.tracer')

/** True once any tracing instance has been created in this process. */
let enabled = false

/**
 * Turns on context propagation across awaits (AsyncLocalStorage), once per
 * process. Only called when a config enables tracing: without it, no
 * AsyncLocalStorage is ever entered.
 */
export function enableContext(): void {
  if (enabled) return
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable())
  enabled = true
}

/** The context a request runs in: its server span and the tracer for its children. */
export function requestContext(tracer: Tracer, span: Span, parent: Context): Context {
  return trace.setSpan(parent, span).setValue(TRACER, tracer)
}

export function runIn<T>(ctx: Context, fn: () => T): T {
  return context.with(ctx, fn)
}

/**
 * Runs `fn` under a child span of the request's span, when there is one.
 * A thrown GatewayError's code becomes `popgate.code` and the span's error
 * status; `describe` adds attributes from the result.
 */
export function childSpan<T>(name: string, attributes: Attributes, fn: (span: Span | undefined) => Promise<T>, describe?: (value: T) => Attributes, kind: SpanKind = SpanKind.CLIENT): Promise<T> {
  if (!enabled) return fn(undefined)
  const parent = context.active()
  const tracer = parent.getValue(TRACER) as Tracer | undefined
  if (tracer === undefined) return fn(undefined)
  const span = tracer.startSpan(name, { kind, attributes }, parent)
  return context.with(trace.setSpan(parent, span), () => fn(span)).then(
    (value) => {
      if (describe) span.setAttributes(describe(value))
      span.end()
      return value
    },
    (err: unknown) => {
      const code = (err as { code?: unknown } | null)?.code
      if (typeof code === 'string') span.setAttribute('popgate.code', code)
      span.setStatus({ code: SpanStatusCode.ERROR, message: typeof code === 'string' ? code : 'error' })
      span.end()
      throw err
    },
  )
}
