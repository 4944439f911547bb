// The per-request state object, and the one access-log line written from it
// when the response closes (method, path, status, decision, rule id,
// identity, duration in ms, upstream status). Never a header value.

import type { IncomingMessage } from 'node:http'
import type { GatewayState } from '../assembly/state.js'
import { writeInfoFields } from '../log.js'

export interface Exchange {
  readonly startNs: bigint
  readonly method: string
  path: string | undefined
  ruleId: string | undefined
  identity: string | undefined
  /** The identity a credential claimed before it was verified (logged as `claimed` when no identity was proven). */
  claimed: string | undefined
  /**
   * `challenge`: no credentials, answered with a 401 challenge (step one of every flow, not an error).
   * `would_deny`: a report-mode rule would have refused it; forwarded anyway (`reason` says why).
   */
  decision: 'public' | 'allow' | 'deny' | 'would_deny' | 'challenge' | 'error' | undefined
  /** For `would_deny`: the ACL's deny reason or the credential's error code. */
  reason: string | undefined
  code: string | undefined
  upstreamStatus: number | undefined
  /** The credential scheme the request used, once the gate has chosen one. */
  scheme: string | undefined
  /** When the forwarding step began (hrtime), if it did: the upstream latency histogram. */
  forwardStartNs: bigint | undefined
}

export function createExchange(req: IncomingMessage): Exchange {
  return { startNs: process.hrtime.bigint(), method: req.method ?? '', path: undefined, ruleId: undefined, identity: undefined, claimed: undefined, decision: undefined, reason: undefined, code: undefined, upstreamStatus: undefined, scheme: undefined, forwardStartNs: undefined }
}

/** Counts the exchange and writes its access line (unless log.access is off). */
export function logExchange(state: GatewayState, ex: Exchange, status: number, aborted: boolean): void {
  const decision = ex.decision ?? 'error'
  const endNs = process.hrtime.bigint()
  const metrics = state.metrics
  metrics.inc('popgate_requests_total', { decision, code: ex.code ?? 'ok' })
  const labels = LABELS[decision] ?? { decision }
  metrics.observe('popgate_request_duration_seconds', labels, Number(endNs - ex.startNs) / 1e9)
  if (ex.forwardStartNs !== undefined) metrics.observe('popgate_upstream_duration_seconds', labels, Number(endNs - ex.forwardStartNs) / 1e9)
  if (!state.config.log.access) return
  const durationMs = Math.round(Number(endNs - ex.startNs) / 1e3) / 1e3
  writeInfoFields(state.log, accessMembers(ex, status, decision, durationMs, aborted))
}

const q = JSON.stringify

/** One label object per decision, shared: no allocation per observation. */
const LABELS: Readonly<Record<string, { readonly decision: string }>> = Object.fromEntries(['public', 'allow', 'deny', 'would_deny', 'error'].map((d) => [d, Object.freeze({ decision: d })]))

/**
 * The access line's JSON members, in a fixed order; absent values are left
 * out, as pino leaves out `undefined`. Strings go through JSON.stringify
 * (the path and rule id may hold any character); numbers are numbers.
 */
export function accessMembers(ex: Exchange, status: number, decision: string, durationMs: number, aborted: boolean): string {
  let s = '"msg":"access","method":' + q(ex.method)
  if (ex.path !== undefined) s += ',"path":' + q(ex.path)
  s += ',"status":' + status + ',"decision":' + q(decision)
  if (ex.reason !== undefined) s += ',"reason":' + q(ex.reason)
  if (ex.code !== undefined) s += ',"code":' + q(ex.code)
  if (ex.ruleId !== undefined) s += ',"rule":' + q(ex.ruleId)
  if (ex.identity !== undefined) s += ',"identity":' + q(ex.identity)
  else if (ex.claimed !== undefined) s += ',"claimed":' + q(ex.claimed) // unverified: never an identity
  s += ',"durationMs":' + durationMs
  if (ex.upstreamStatus !== undefined) s += ',"upstreamStatus":' + ex.upstreamStatus
  if (aborted) s += ',"aborted":true'
  return s
}
