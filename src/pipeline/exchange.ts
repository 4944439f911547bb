// The per-request state object, and the one access-log line written from it
// when the response closes (method, path, status, decision, rule id,
// identity, the credential scheme, duration in ms, upstream status; then the
// request id, client address, user agent and byte counts). Never a credential:
// the only header values are the request id (validated) and the user agent
// (bounded, escaped).

import { randomUUID } from 'node:crypto'
import type { IncomingMessage } from 'node:http'
import type { GatewayState } from '../assembly/state.js'
import { writeInfoFields } from '../log.js'
import type { RequestTrace } from '../tracing/index.js'
import { clientAddress } from '../http/client-address.js'
import { upstreamCause } from '../proxy/forward.js'
import type { GatewayError } from '../errors.js'

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
  /** Where the client certificate the principal proved (or its token is bound to) came from: the TLS socket, or a trusted hop's Client-Cert. */
  clientCert: 'socket' | 'header' | undefined
  /** When the forwarding step began (hrtime), if it did: the upstream latency histogram. */
  forwardStartNs: bigint | undefined
  /** The client's X-Request-Id when valid, else one made here (requestIdOf): sent upstream and back. */
  readonly requestId: string
  /** User-Agent, cut to USER_AGENT_MAX characters. */
  readonly userAgent: string | undefined
  /** The connection, and its peer address read while it was open (Node detaches the socket when the response ends). */
  readonly socket: IncomingMessage['socket'] | null
  readonly peer: string | undefined
  /** Filled when the line is written (noteConnection). */
  client: string | undefined
  bytesIn: number | undefined
  bytesOut: number | undefined
  /** The drain cut it (http/in-flight.ts): logged as an error, code drain_cut, whatever was sent before. */
  cutByDrain: boolean
  /** The request's server span, when tracing is on (src/tracing/). */
  trace: RequestTrace | undefined
}

export function createExchange(req: IncomingMessage): Exchange {
  return {
    startNs: process.hrtime.bigint(), method: req.method ?? '', path: undefined, ruleId: undefined, identity: undefined, claimed: undefined, decision: undefined, reason: undefined, code: undefined, upstreamStatus: undefined, scheme: undefined, clientCert: undefined, forwardStartNs: undefined,
    requestId: requestIdOf(req), userAgent: userAgentOf(req), socket: req.socket, peer: req.socket?.remoteAddress, client: undefined, bytesIn: undefined, bytesOut: undefined, cutByDrain: false, trace: undefined,
  }
}

/**
 * X-Request-Id as a client or an edge proxy sent it: 1–128 printable ASCII
 * characters without space, `"`, `\` or `,` (two fields joined by Node hold
 * ", "). Anything else is replaced, never cleaned up.
 */
const REQUEST_ID = /^[\x21\x23-\x2b\x2d-\x5b\x5d-\x7e]{1,128}$/
const REQUEST_ID_KEY = Symbol('popgate.requestId')
export const USER_AGENT_MAX = 256

/** The request's id, decided once per request: the client's when valid, else a random UUID. */
export function requestIdOf(req: IncomingMessage): string {
  const r = req as IncomingMessage & { [REQUEST_ID_KEY]?: string }
  let id = r[REQUEST_ID_KEY]
  if (id === undefined) {
    const sent = req.headers['x-request-id']
    id = typeof sent === 'string' && REQUEST_ID.test(sent) ? sent : randomUUID()
    r[REQUEST_ID_KEY] = id
  }
  return id
}

function userAgentOf(req: IncomingMessage): string | undefined {
  const ua = req.headers['user-agent']
  return ua === undefined || ua.length <= USER_AGENT_MAX ? ua : ua.slice(0, USER_AGENT_MAX)
}

/** Byte counters of a connection at the end of its previous exchange. */
interface ConnectionMark { read: number; written: number }
const MARK = Symbol('popgate.bytesMark')

/**
 * The client address, and the bytes of this exchange on its connection: read
 * (request head and body, as nginx's $request_length) and written (response
 * head and body, as $bytes_sent), counted since the connection's previous
 * exchange ended. Call once per exchange, when it ends.
 */
export function noteConnection(ex: Exchange, req: IncomingMessage, state: GatewayState): void {
  ex.client = clientAddress(req, state.headers.trusted, ex.peer)
  const socket = ex.socket as (IncomingMessage['socket'] & { [MARK]?: ConnectionMark }) | null
  if (socket === null) return
  const read = socket.bytesRead, written = socket.bytesWritten
  const mark = socket[MARK]
  if (mark === undefined) {
    socket[MARK] = { read, written }
    ex.bytesIn = read
    ex.bytesOut = written
  } else {
    ex.bytesIn = read - mark.read
    ex.bytesOut = written - mark.written
    mark.read = read
    mark.written = written
  }
}

/** An upstream that failed: counted, and its cause logged at warn (ECONNREFUSED, reset, timeout). */
export function noteUpstreamFailure(state: GatewayState, ex: Pick<Exchange, 'method' | 'path' | 'requestId'>, err: GatewayError): void {
  state.metrics.inc('popgate_upstream_errors_total', { code: err.code })
  const { cause, kind } = upstreamCause(err.cause)
  state.log.warn({ code: err.code, cause, kind, method: ex.method, path: ex.path, requestId: ex.requestId }, 'upstream failed')
}

/** Counts the exchange and writes its access line (unless log.access is off). */
export function logExchange(state: GatewayState, ex: Exchange, status: number, aborted: boolean): void {
  if (ex.cutByDrain) {
    ex.decision = 'error'
    ex.code = 'drain_cut'
  }
  const decision = ex.decision ?? 'error'
  const endNs = process.hrtime.bigint()
  state.metrics.recordExchange(ex, status, Number(endNs - ex.startNs) / 1e9, ex.forwardStartNs === undefined ? undefined : Number(endNs - ex.forwardStartNs) / 1e9)
  if (ex.trace !== undefined) ex.trace.end(ex, status)
  if (!state.config.log.access) return
  const durationMs = Math.round(Number(endNs - ex.startNs) / 1e3) / 1e3
  writeInfoFields(state.log, accessMembers(ex, status, decision, durationMs, aborted))
}

const q = JSON.stringify

/**
 * The access line's JSON members, in a fixed order (the fields added later
 * after the older ones, so a reader of the older line finds them where they
 * were); absent values are left out, as pino leaves out `undefined`. Strings go through JSON.stringify
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
  if (ex.scheme !== undefined) s += ',"scheme":' + q(ex.scheme)
  s += ',"durationMs":' + durationMs
  if (ex.upstreamStatus !== undefined) s += ',"upstreamStatus":' + ex.upstreamStatus
  if (aborted) s += ',"aborted":true'
  s += ',"requestId":' + q(ex.requestId)
  if (ex.client !== undefined) s += ',"client":' + q(ex.client)
  if (ex.userAgent !== undefined) s += ',"userAgent":' + q(ex.userAgent)
  if (ex.bytesIn !== undefined) s += ',"bytesIn":' + ex.bytesIn + ',"bytesOut":' + ex.bytesOut
  if (ex.clientCert !== undefined) s += ',"clientCert":"' + ex.clientCert + '"' // socket | header: nothing to escape
  if (ex.trace !== undefined) s += ',"trace_id":"' + ex.trace.traceId + '"' // 32 hex digits: nothing to escape
  return s
}
