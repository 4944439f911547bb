// pino, with credentials redacted at construction time (STYLE.md habit 7).
import { pino, type Logger, type DestinationStream } from 'pino'
import type { LogLevel } from './config/types.js'

export type { Logger }

export const REDACT_PATHS = [
  'req.headers.authorization', 'req.headers.cookie',
  'res.headers["set-cookie"]', 'headers.authorization', 'headers.cookie',
  'authorization', 'proof', 'token', 'ticket', 'cookie', 'secret', 'nonce',
]

/** Redaction paths for request fields that carry credentials (the scheme modules' `redactFields`, handed in by the entry point). */
export function redactPaths(credentialFields: readonly string[]): string[] {
  const paths = [...REDACT_PATHS]
  for (const f of new Set(credentialFields)) paths.push(`req.headers[${JSON.stringify(f)}]`, `headers[${JSON.stringify(f)}]`)
  return paths
}

const NAME = 'popgate'

/** Lines are written in batches of at least this many bytes... */
export const LOG_BATCH_BYTES = 16 * 1024
/** ...or at least this often, whichever comes first. */
export const LOG_FLUSH_MS = 1000

/**
 * The production destination: lines collected in an array and handed to
 * SonicBoom (which does the I/O: partial writes, EAGAIN, EPIPE) as one
 * string per batch of ≥ LOG_BATCH_BYTES, or once per LOG_FLUSH_MS on a quiet
 * gateway; lines still pending when the process exits are written at exit.
 *
 * Synchronous by default: one write(2) per batch (~90 access lines) on the
 * main thread. The asynchronous mode hands each batch to libuv's thread
 * pool, and waking a pool thread cost the main thread more than the write
 * itself under load (docs/benchmarks.md, "Access log"). SonicBoom's own
 * `minLength` batching is not used: it takes Buffer.byteLength of its
 * growing buffer on every line, flattening a string of up to 16 KB each time.
 */
export function createDestination(dest: number | string = 1, opts: { sync?: boolean } = {}): DestinationStream {
  const sonic = pino.destination({ dest, sync: opts.sync ?? true })
  let lines: string[] = []
  let chars = 0
  const drain = (): void => {
    if (lines.length === 0) return
    const batch = lines.join('')
    lines = []
    chars = 0
    try { sonic.write(batch) } catch { /* destroyed at shutdown: nothing left to write to */ }
  }
  setInterval(drain, LOG_FLUSH_MS).unref()
  const stream = {
    write(line: string): boolean {
      lines.push(line)
      chars += line.length // a threshold only: chars, not bytes, is close enough
      if (chars >= LOG_BATCH_BYTES) drain()
      return true
    },
    flush(cb?: (err?: Error) => void): void {
      drain()
      sonic.flush(cb)
    },
    flushSync(): void {
      drain()
      sonic.flushSync()
    },
  }
  atExit.add(stream)
  return stream as DestinationStream
}

const LEVEL_NAMES: Readonly<Record<number, string>> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' }

/**
 * `log.format: pretty`: each JSON line rewritten for a human at a terminal,
 * `12:00:01.234 INFO  access method=GET path=/foo status=200 …`, written
 * synchronously. Not for production: it parses every line again.
 */
export function createPrettyDestination(write: (text: string) => void = (text) => { process.stdout.write(text) }): DestinationStream {
  return {
    write(line: string) {
      write(prettyLine(line))
      return true
    },
  } as DestinationStream
}

/** One JSON log line → one readable line; a line that is not JSON is passed through as it is. */
export function prettyLine(line: string): string {
  let entry: Record<string, unknown>
  try {
    entry = JSON.parse(line) as Record<string, unknown>
  } catch {
    return line.endsWith('\n') ? line : line + '\n'
  }
  const { level, time, name: _name, msg, ...rest } = entry
  const at = typeof time === 'number' ? new Date(time).toISOString().slice(11, 23) : '--:--:--.---'
  let out = `${at} ${(LEVEL_NAMES[level as number] ?? String(level)).padEnd(5)} ${String(msg ?? '')}`
  for (const [k, v] of Object.entries(rest)) out += ` ${k}=${typeof v === 'string' && !/[\s"=]/.test(v) ? v : JSON.stringify(v)}`
  return out + '\n'
}

/** Destinations whose pending lines are written synchronously when the process exits. */
const atExit = new Set<{ flushSync(): void }>()
process.on('exit', () => {
  for (const d of atExit) {
    try { d.flushSync() } catch { /* not open yet, or destroyed: nothing more can be done */ }
  }
})

/** `credentialFields`: request fields besides Authorization and Cookie that carry credentials (schemes/index.ts schemeRedactFields). */
export function createLogger(level: LogLevel, destination?: DestinationStream, credentialFields: readonly string[] = []): Logger {
  return pino({ level, base: { name: NAME }, redact: { paths: redactPaths(credentialFields), censor: '[redacted]' } }, destination ?? createDestination())
}

/**
 * Writes one info line whose fields the caller has already serialized as
 * JSON members (`"a":1,"b":"x"`, no braces), straight to the logger's own
 * destination, in the shape pino gives its lines. For the access log only:
 * pino's generic serializer and redaction cost ~1.2 µs a line in a tight
 * loop against ~0.4 µs for the hand-built members (docs/benchmarks.md,
 * "Access log"), and an access line has fixed fields that never hold a
 * credential, so there is nothing to redact. Everything else goes through pino.
 */
export function writeInfoFields(log: Logger, members: string): void {
  if (!log.isLevelEnabled('info')) return
  const stream = (log as unknown as Record<symbol, { write(s: string): unknown }>)[pino.symbols.streamSym]!
  stream.write('{"level":30,"time":' + Date.now() + ',"name":"' + NAME + '",' + members + '}\n')
}
