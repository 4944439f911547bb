// OpenTelemetry tracing (docs/operations.md "Tracing"): createTracing builds
// one instance per `tracing` config (provider.ts); the request path starts a
// server span only when state.tracing is set, and child spans through
// `childSpan` (context.ts), which is a direct call while tracing is off.
export { createTracing, type Tracing, type RequestTrace, type TracedExchange } from './provider.js'
export { childSpan } from './context.js'
export { injectInto, incomingContext, MAX_TRACEPARENT, MAX_TRACESTATE } from './propagation.js'
export { tracedUpstream } from './upstream.js'
