// The access line is built by hand (pipeline/exchange.ts accessMembers) and
// written straight to the logger's destination (log.ts writeInfoFields), and
// the production destination batches its writes (log.ts createDestination).
// These tests try to break each: a field value that would corrupt the JSON
// or add a field, a level that should silence the line, a line left in the
// batch buffer on a quiet gateway.

import { spawnSync } from 'node:child_process'
import { mkdtemp, readFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

import fc from 'fast-check'
import t from 'tap'
import { accessMembers, type Exchange } from '../../../src/pipeline/exchange.js'
import { createDestination, createLogger, writeInfoFields, LOG_BATCH_BYTES, LOG_FLUSH_MS } from '../../../src/log.js'

const exchange = (over: Partial<Exchange> = {}): Exchange => ({
  startNs: 0n, method: 'GET', path: '/public/hello', ruleId: 'public', identity: undefined,
  decision: 'public', reason: undefined, code: undefined, upstreamStatus: 200, scheme: undefined, clientCert: undefined, claimed: undefined, forwardStartNs: undefined, trace: undefined,
  requestId: 'r-1', userAgent: undefined, socket: null, peer: undefined, client: undefined, bytesIn: undefined, bytesOut: undefined, cutByDrain: false, ...over,
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
      const want: Record<string, unknown> = { msg: 'access', method, status: 401, decision: 'deny', durationMs: 1.234, requestId: 'r-1' }
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

const readUntil = async (file: string, done: (text: string) => boolean, timeoutMs: number): Promise<string> => {
  const deadline = Date.now() + timeoutMs
  let text = ''
  while (Date.now() < deadline) {
    text = await readFile(file, 'utf8').catch(() => '')
    if (done(text)) break
    await new Promise((r) => setTimeout(r, 20))
  }
  return text
}

t.test('the batched destination still gets a lone short line out on a quiet gateway', async (t) => {
  const file = join(await mkdtemp(join(tmpdir(), 'popgate-log-')), 'out.log')
  createLogger('info', createDestination(file)).info({ msg: 'hello' })
  const text = await readUntil(file, (s) => s.includes('"msg":"hello"'), LOG_FLUSH_MS * 5)
  t.ok(text.length < LOG_BATCH_BYTES, 'the line alone is below the batch size')
  t.match(text, /"msg":"hello"/, `written within ${LOG_FLUSH_MS * 5} ms without any further traffic`)
})

t.test('the batched destination writes full batches without waiting for the timer', async (t) => {
  const file = join(await mkdtemp(join(tmpdir(), 'popgate-log-')), 'out.log')
  const log = createLogger('info', createDestination(file))
  const filler = 'x'.repeat(200)
  for (let i = 0; i < 100; i++) log.info({ msg: 'bulk', i, filler })
  const text = await readUntil(file, (s) => s.length >= LOG_BATCH_BYTES, LOG_FLUSH_MS / 2)
  t.ok(text.length >= LOG_BATCH_BYTES, `at least one ${LOG_BATCH_BYTES}-byte batch on disk before the flush timer fired`)
  const lines = text.split('\n').slice(0, -1) // a read may race a write: judge only terminated lines
  t.ok(lines.length > 0)
  t.ok(lines.every((line) => { try { JSON.parse(line); return true } catch { return false } }), 'whole JSON lines only')
})

t.test('lines still in the batch when the process exits are written, also on process.exit()', async (t) => {
  const file = join(await mkdtemp(join(tmpdir(), 'popgate-log-')), 'out.log')
  const logModule = new URL('../../../src/log.js', import.meta.url).href
  // Three short lines (far below a batch) and an immediate exit: nothing but the exit hook can write them.
  const script = `const { createLogger, createDestination } = await import(${JSON.stringify(logModule)})
const log = createLogger('info', createDestination(${JSON.stringify(file)}))
await new Promise((r) => setTimeout(r, 100)) // the file is open
for (let i = 0; i < 3; i++) log.info({ msg: 'last words', i })
process.exit(0)`
  const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 30_000 })
  t.equal(child.status, 0, child.stderr)
  const lines = (await readFile(file, 'utf8')).split('\n').filter(Boolean).map((l) => JSON.parse(l) as { msg: string; i: number })
  t.same(lines.map((l) => [l.msg, l.i]), [['last words', 0], ['last words', 1], ['last words', 2]])
})

t.test('batches keep line order and lose nothing under a burst', async (t) => {
  const file = join(await mkdtemp(join(tmpdir(), 'popgate-log-')), 'out.log')
  const dest = createDestination(file)
  const log = createLogger('info', dest)
  const N = 5_000
  for (let i = 0; i < N; i++) log.info({ msg: 'burst', i })
  await new Promise<void>((resolve, reject) => (dest as unknown as { flush(cb: (err?: Error) => void): void }).flush((err) => (err ? reject(err) : resolve())))
  const text = await readUntil(file, (s) => s.split('\n').length > N, LOG_FLUSH_MS * 5)
  const seq = text.split('\n').filter(Boolean).map((l) => (JSON.parse(l) as { i: number }).i)
  t.equal(seq.length, N, 'every line written once')
  t.ok(seq.every((v, k) => v === k), 'in order')
})

t.test('log.format pretty: one readable line per JSON line, values that need it quoted', async (t) => {
  const { prettyLine, createPrettyDestination } = await import('../../../src/log.js')
  const line = '{"level":30,"time":0,"name":"popgate","msg":"access","method":"GET","path":"/a b","status":200,"claimed":"x=y"}\n'
  t.equal(prettyLine(line), '00:00:00.000 INFO  access method=GET path="/a b" status=200 claimed="x=y"\n')
  t.equal(prettyLine('not json'), 'not json\n', 'anything else passes through')
  const out: string[] = []
  createLogger('info', createPrettyDestination((s) => out.push(s))).warn({ reason: 'SIGHUP' }, 'config reloaded')
  t.match(out[0], /^\d\d:\d\d:\d\d\.\d{3} WARN  config reloaded reason=SIGHUP\n$/)
})

t.test('the newer fields: any user agent or request id stays one JSON string, after the older fields', async (t) => {
  fc.assert(fc.property(fc.string({ unit: 'binary' }), fc.option(fc.string({ unit: 'binary' }), { nil: undefined }), fc.nat(), fc.nat(), (requestId, userAgent, bytesIn, bytesOut) => {
    const members = accessMembers(exchange({ requestId, userAgent, client: '192.0.2.1', bytesIn, bytesOut }), 200, 'public', 0.5, false)
    const parsed = JSON.parse('{' + members + '}') as Record<string, unknown>
    t.same(parsed, { msg: 'access', method: 'GET', path: '/public/hello', status: 200, decision: 'public', rule: 'public', durationMs: 0.5, upstreamStatus: 200, requestId, client: '192.0.2.1', ...(userAgent === undefined ? {} : { userAgent }), bytesIn, bytesOut })
    const keys = Object.keys(parsed)
    t.ok(keys.indexOf('requestId') > keys.indexOf('upstreamStatus'))
    return true
  }), { numRuns: 300 })
})
