// W3C Trace Context (https://www.w3.org/TR/trace-context/) at the edges of
// the gateway: what is read from the client and what is sent upstream.
//
// - A `traceparent` is continued only from a trusted hop (`trustedProxies`):
//   anyone else could pin our spans to a trace of their choosing, or force
//   sampling with the sampled flag. Otherwise the request starts a new trace.
// - The parsing is OpenTelemetry's W3CTraceContextPropagator (version, ids
//   not all zero, flags; §3.2.2). Before it, a size cap: a version-00 value
//   is exactly 55 characters (§3.2), later versions may append fields, so
//   anything past MAX_TRACEPARENT is refused without being parsed, and a
//   `tracestate` past MAX_TRACESTATE is dropped (§3.3.1.5: at least 512
//   characters must be propagated; more may be cut). Two fields joined by
//   Node (`a, b`) fail the parse: a new trace (§3.2, one traceparent).
// - Upstream: the client's `traceparent`/`tracestate` are removed from the
//   forwarded header list and ours (the upstream span's) are written instead.

import { context, ROOT_CONTEXT, type Context, type TextMapGetter } from '@opentelemetry/api'
import { W3CTraceContextPropagator } from '@opentelemetry/core'
import type { IncomingMessage } from 'node:http'

export const MAX_TRACEPARENT = 256
export const MAX_TRACESTATE = 1024

const propagator = new W3CTraceContextPropagator()

type Carrier = { traceparent?: string; tracestate?: string }
const getter: TextMapGetter<Carrier> = { keys: (c) => Object.keys(c), get: (c, k) => (c as Record<string, string | undefined>)[k] }

/** The context a request's server span is parented by: the trusted hop's trace, or none (a new trace). */
export function incomingContext(req: IncomingMessage, trusted: boolean): Context {
  if (!trusted) return ROOT_CONTEXT
  const tp = req.headers.traceparent
  if (typeof tp !== 'string' || tp.length > MAX_TRACEPARENT) return ROOT_CONTEXT
  const ts = req.headers.tracestate
  const carrier: Carrier = { traceparent: tp }
  if (typeof ts === 'string' && ts.length <= MAX_TRACESTATE) carrier.tracestate = ts
  return propagator.extract(ROOT_CONTEXT, carrier, getter)
}

/** Replaces any traceparent/tracestate in a flat [name, value, …] header list with the active context's. */
export function injectInto(headers: string[], ctx: Context = context.active()): void {
  for (let i = headers.length - 2; i >= 0; i -= 2) {
    const name = headers[i]!.toLowerCase()
    if (name === 'traceparent' || name === 'tracestate') headers.splice(i, 2)
  }
  const out: Carrier = {}
  propagator.inject(ctx, out, { set: (c, k, v) => { (c as Record<string, string>)[k] = v } })
  if (out.traceparent !== undefined) headers.push('traceparent', out.traceparent)
  if (out.tracestate !== undefined) headers.push('tracestate', out.tracestate)
}
