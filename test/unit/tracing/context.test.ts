// childSpan (tracing/context.ts) while no tracing instance exists in the
// process: a direct call, no span, no context manager; and the header
// injection that replaces a client's traceparent.

import t from 'tap'
import { context, ROOT_CONTEXT, trace, TraceFlags } from '@opentelemetry/api'
import { childSpan } from '../../../src/tracing/context.js'
import { injectInto } from '../../../src/tracing/propagation.js'

t.test('tracing never enabled: childSpan calls through with no span', async (t) => {
  let seen: unknown = 'not called'
  const v = await childSpan('x', {}, async (span) => { seen = span; return 42 })
  t.equal(v, 42)
  t.equal(seen, undefined, 'no span object')
  await t.rejects(childSpan('x', {}, async () => { throw new Error('boom') }), /boom/, 'errors pass through')
  t.equal(context.active(), ROOT_CONTEXT, 'no context manager was registered')
})

t.test('injectInto replaces the client\'s traceparent and tracestate, case-insensitively', async (t) => {
  const ctx = trace.setSpanContext(ROOT_CONTEXT, { traceId: 'a'.repeat(32), spanId: 'b'.repeat(16), traceFlags: TraceFlags.SAMPLED, isRemote: false })
  const headers = ['host', 'up', 'TraceParent', '00-' + 'c'.repeat(32) + '-' + 'd'.repeat(16) + '-01', 'x-other', '1', 'tracestate', 'evil=1']
  injectInto(headers, ctx)
  t.same(headers, ['host', 'up', 'x-other', '1', 'traceparent', `00-${'a'.repeat(32)}-${'b'.repeat(16)}-01`])
})
