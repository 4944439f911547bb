// The per-request state object, and the one access-log line written from it
// when the response closes (method, path, status, decision, rule id,
// identity, duration in ms, upstream status). Never a header value.

import type { IncomingMessage, ServerResponse } from 'node:http'
import type { GatewayState } from './state.js'

export interface Exchange {
  readonly startNs: bigint
  readonly method: string
  path: string | undefined
  ruleId: string | undefined
  identity: string | undefined
  decision: 'public' | 'allow' | 'deny' | 'error' | undefined
  code: string | undefined
  upstreamStatus: number | undefined
}

export function createExchange(req: IncomingMessage): Exchange {
  return { startNs: process.hrtime.bigint(), method: req.method ?? '', path: undefined, ruleId: undefined, identity: undefined, decision: undefined, code: undefined, upstreamStatus: undefined }
}

export function logExchange(state: GatewayState, ex: Exchange, res: ServerResponse): void {
  writeAccess(state, ex, res.statusCode, !res.writableEnded)
}

export function logUpgrade(state: GatewayState, ex: Exchange, status: number): void {
  writeAccess(state, ex, status, false)
}

function writeAccess(state: GatewayState, ex: Exchange, status: number, aborted: boolean): void {
  const decision = ex.decision ?? 'error'
  state.metrics.inc('popgate_requests_total', { decision, code: ex.code ?? 'ok' })
  if (!state.config.log.access) return
  const durationMs = Number(process.hrtime.bigint() - ex.startNs) / 1e6
  state.log.info({
    msg: 'access', method: ex.method, path: ex.path, status, decision, code: ex.code,
    rule: ex.ruleId, identity: ex.identity, durationMs: Math.round(durationMs * 1000) / 1000,
    upstreamStatus: ex.upstreamStatus, aborted: aborted || undefined,
  })
}
