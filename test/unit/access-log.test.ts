// The access line is built by hand (pipeline/exchange.ts accessMembers) and
// written straight to the logger's destination (log.ts writeInfoFields).
// These tests try to break both: a field value that would corrupt the JSON
// or add a field, a level that should silence the line.

import fc from 'fast-check'
import t from 'tap'
import { accessMembers, type Exchange } from '../../src/pipeline/exchange.js'
import { createLogger, writeInfoFields } from '../../src/log.js'

const exchange = (over: Partial<Exchange> = {}): Exchange => ({
  startNs: 0n, method: 'GET', path: '/public/hello', ruleId: 'public', identity: undefined,
  decision: 'public', code: undefined, upstreamStatus: 200, ...over,
})

const collect = () => {
  const lines: string[] = []
  return { lines, stream: { write: (s: string) => { lines.push(s) } } }
}

t.test('every field survives any string value as valid JSON, and absent fields are left out', async (t) => {
  const optional = fc.option(fc.string({ unit: 'binary' }), { nil: undefined })
  fc.assert(fc.property(
    fc.string({ unit: 'binary' }), optional, optional, optional, optional,
    fc.option(fc.integer({ min: 100, max: 599 }), { nil: undefined }), fc.boolean(),
    (method, path, ruleId, identity, code, upstreamStatus, aborted) => {
      const ex = exchange({ method, path, ruleId, identity, code, upstreamStatus })
      const parsed = JSON.parse('{' + accessMembers(ex, 401, 'deny', 1.234, aborted) + '}') as Record<string, unknown>
      const want: Record<string, unknown> = { msg: 'access', method, status: 401, decision: 'deny', durationMs: 1.234 }
      if (path !== undefined) want.path = path
      if (code !== undefined) want.code = code
      if (ruleId !== undefined) want.rule = ruleId
      if (identity !== undefined) want.identity = identity
      if (upstreamStatus !== undefined) want.upstreamStatus = upstreamStatus
      if (aborted) want.aborted = true
      t.same(parsed, want)
      return true
    },
  ), { numRuns: 500 })
})

t.test('a hostile path cannot add or overwrite fields', async (t) => {
  const path = '/x","identity":"admin.example","status":200,"\u2028\n'
  const parsed = JSON.parse('{' + accessMembers(exchange({ path, identity: undefined }), 403, 'deny', 0, false) + '}') as Record<string, unknown>
  t.equal(parsed.path, path)
  t.equal(parsed.identity, undefined)
  t.equal(parsed.status, 403)
})

t.test('writeInfoFields writes a pino-shaped line at info, nothing below the level', async (t) => {
  const info = collect()
  writeInfoFields(createLogger('info', info.stream), '"msg":"access","status":200')
  t.equal(info.lines.length, 1)
  t.ok(info.lines[0]!.endsWith('}\n'))
  const line = JSON.parse(info.lines[0]!) as Record<string, unknown>
  t.equal(line.level, 30)
  t.equal(line.name, 'popgate')
  t.type(line.time, 'number')
  t.ok(Math.abs((line.time as number) - Date.now()) < 60_000)
  t.equal(line.msg, 'access')

  const warn = collect()
  writeInfoFields(createLogger('warn', warn.stream), '"msg":"access"')
  t.same(warn.lines, [], 'log.level warn drops access lines, as pino would')
})
