// pino, with credentials redacted at construction time (STYLE.md habit 7).
import { pino, type Logger, type DestinationStream } from 'pino'
import type { LogLevel } from './config/types.js'

export type { Logger }

export const REDACT_PATHS = [
  'req.headers.authorization', 'req.headers.dpop', 'req.headers["domainpop-proof"]', 'req.headers.cookie',
  'res.headers["set-cookie"]', 'headers.authorization', 'headers.dpop', 'headers["domainpop-proof"]', 'headers.cookie',
  'authorization', 'proof', 'token', 'ticket', 'cookie', 'secret', 'nonce',
]

export function createLogger(level: LogLevel, destination?: DestinationStream): Logger {
  return pino({ level, base: { name: 'popgate' }, redact: { paths: REDACT_PATHS, censor: '[redacted]' } }, destination ?? pino.destination({ sync: false }))
}
