// The upstream call as a child span, and its context sent upstream as
// `traceparent`/`tracestate` (W3C Trace Context §3) in place of whatever the
// client sent. Called by the responders only when tracing is on.

import { childSpan } from './context.js'
import { injectInto } from './propagation.js'

export function tracedUpstream<T extends number | undefined>(headers: string[], origin: string, path: string, fn: () => Promise<T>): Promise<T> {
  return childSpan('popgate.upstream', { 'server.address': origin, 'url.path': path }, (span) => {
    if (span !== undefined) injectInto(headers)
    return fn()
  }, (status) => (status === undefined ? {} : { 'http.response.status_code': status }))
}
