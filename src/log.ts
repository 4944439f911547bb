// pino, with credentials redacted at construction time (STYLE.md habit 7).
import { pino, type Logger, type DestinationStream } from 'pino'
import type { LogLevel } from './config/types.js'

export type { Logger }

export const REDACT_PATHS = [
  'req.headers.authorization', 'req.headers.dpop', 'req.headers["domainpop-proof"]', 'req.headers.cookie',
  'res.headers["set-cookie"]', 'headers.authorization', 'headers.dpop', 'headers["domainpop-proof"]', 'headers.cookie',
  'authorization', 'proof', 'token', 'ticket', 'cookie', 'secret', 'nonce',
]

const NAME = 'popgate'

/** Lines are written in batches of at least this many bytes... */
export const LOG_BATCH_BYTES = 4096
/** ...or at least this often, whichever comes first. */
export const LOG_FLUSH_MS = 1000

/**
 * The production destination: asynchronous and batched. Each asynchronous
 * write is a thread-pool round trip; batching makes it one per ~25 access
 * lines (measured: −3 to −5 µs of gateway CPU per public-route request,
 * docs/benchmarks.md "Access log"). A quiet gateway still gets its lines out
 * within LOG_FLUSH_MS, and pino flushes synchronously on exit.
 */
export function createDestination(dest: number | string = 1): DestinationStream {
  const sonic = pino.destination({ dest, sync: false, minLength: LOG_BATCH_BYTES })
  let pending = false
  setInterval(() => {
    if (!pending) return
    pending = false
    try { sonic.flush() } catch { /* destroyed at shutdown: nothing left to write */ }
  }, LOG_FLUSH_MS).unref()
  return {
    write(line: string) { pending = true; return sonic.write(line) },
    flush(cb?: (err?: Error) => void) { sonic.flush(cb) },
  } as DestinationStream
}

export function createLogger(level: LogLevel, destination?: DestinationStream): Logger {
  return pino({ level, base: { name: NAME }, redact: { paths: REDACT_PATHS, censor: '[redacted]' } }, destination ?? createDestination())
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
