// The two ways an exchange is answered (pipeline/run.ts Responder):
//   HttpResponder      — forwards on undici (proxy/forward.ts), refuses with
//                        a ServerResponse, logs when the response closes
//   UpgradeResponder   — hands the socket to http-proxy-3 (proxy/websocket.ts),
//                        refuses by writing to the raw socket, logs once the
//                        upstream has answered (or the refusal is written)
// Classes, not closures: one allocation per exchange on the hot path.

import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Duplex } from 'node:stream'
import { GatewayError } from '../errors.js'
import { rawProblem, sendProblem } from '../http/respond.js'
import type { Target } from '../http/target.js'
import { forward, upstreamError } from '../proxy/forward.js'
import { readBody } from './request-view.js'
import type { ForwardTarget } from '../proxy/forward-signature.js'
import { upstreamHeaders } from '../proxy/headers.js'
import type { WsProxy } from '../proxy/websocket.js'
import type { Principal } from '../schemes/types.js'
import { logExchange, noteConnection, noteUpstreamFailure, requestIdOf, type Exchange } from './exchange.js'
import { cutByDrain } from '../http/in-flight.js'
import type { ForwardPlan, Responder } from './run.js'
import type { OwnRoute } from '../http/own-routes.js'
import type { GatewayState } from '../assembly/state.js'
import { tracedUpstream } from '../tracing/upstream.js'
import { waivedChallenges } from './report-mode.js'

export class HttpResponder implements Responder {
  /** The CORS fields of this answer (http/cors.ts), when the gateway answers CORS for it. */
  private corsFields: readonly string[] | undefined

  constructor(private readonly req: IncomingMessage, private readonly res: ServerResponse) {}

  precheck(): void {}

  cors(fields: readonly string[] | undefined): void {
    this.corsFields = fields
  }

  preflight(fields: readonly string[]): void {
    this.res.writeHead(204, [...fields, 'X-Request-Id', requestIdOf(this.req)])
    this.res.end()
  }

  async forward(state: GatewayState, target: Target, principal: Principal | undefined, plan: ForwardPlan): Promise<number | undefined> {
    const requestId = requestIdOf(this.req)
    const headers = upstreamHeaders(this.req, state.headers, principal, { assertion: plan.assertion, keep: plan.keep, requestId, clientCert: plan.clientCert })
    let body = plan.body
    if (state.forwardSigner !== undefined) {
      // Content-Digest needs the whole body before anything is sent: the buffer a scheme read, or read it now, bounded.
      if (body === 'stream') body = await readBody(this.req, state.config.identityHeaders.signatureMaxBodyBytes)
      state.forwardSigner.sign(forwardTarget(state, this.req, target), headers, body !== undefined && body.length > 0 ? body : undefined, state.now())
    }
    const signedPlan = body === plan.body ? plan : { ...plan, body }
    // Tracing off: no closure, no span (src/tracing/).
    if (state.tracing !== undefined) return tracedUpstream(headers, state.upstream.origin, target.forward, () => this.send(state, target, principal, headers, signedPlan, requestId))
    return this.send(state, target, principal, headers, signedPlan, requestId)
  }

  private async send(state: GatewayState, target: Target, principal: Principal | undefined, headers: string[], plan: ForwardPlan, requestId: string): Promise<number | undefined> {
    // A report-mode rule's waived refusal: its challenges go out on the forwarded response.
    const own = principal ? principal.responseHeaders : waivedChallenges(this.req)
    let extra = own ? [...own, 'X-Request-Id', requestId] : ['X-Request-Id', requestId]
    if (this.corsFields !== undefined) extra = [...extra, ...this.corsFields]
    const result = await forward(this.req, this.res, state.upstream, target.forward, headers, extra, plan.body, this.corsFields !== undefined)
    if (result.failure) noteUpstreamFailure(state, { method: this.req.method ?? '', path: target.path, requestId }, result.failure)
    return result.upstreamStatus
  }

  answer(route: OwnRoute, method: string): void {
    const status = route.status ?? 200
    if (route.headers !== undefined) for (let i = 0; i < route.headers.length; i += 2) this.res.setHeader(route.headers[i]!, route.headers[i + 1]!)
    // RFC 9110 §8.6, §15.3.5: a 204 has no content and no Content-Length.
    if (status === 204) {
      this.res.writeHead(204, { 'cache-control': route.cacheControl, 'x-request-id': requestIdOf(this.req) })
      this.res.end()
      return
    }
    this.res.writeHead(status, { 'content-type': route.contentType, 'cache-control': route.cacheControl, 'content-length': Buffer.byteLength(route.body), 'x-request-id': requestIdOf(this.req) })
    this.res.end(method === 'HEAD' ? undefined : route.body)
  }

  refuse(state: GatewayState, err: GatewayError, scheme: string | undefined): void {
    if (!this.res.headersSent) {
      this.res.setHeader('X-Request-Id', requestIdOf(this.req))
      // A listed origin's page reads the problem+json and the challenge, not a CORS failure.
      const c = this.corsFields
      if (c !== undefined) for (let i = 0; i < c.length; i += 2) this.res.appendHeader(c[i]!, c[i + 1]!)
    }
    sendProblem(this.res, err, state.schemes.schemes, scheme)
  }

  log(state: GatewayState, ex: Exchange): void {
    noteConnection(ex, this.req, state)
    ex.cutByDrain = cutByDrain(this.res)
    // Nothing sent (the client left, or the drain cut it, before the head): no status to report.
    logExchange(state, ex, this.res.headersSent ? this.res.statusCode : 0, !this.res.writableEnded)
  }

}

export class UpgradeResponder implements Responder {
  private status = 101
  private refused = false

  constructor(private readonly ws: WsProxy, private readonly req: IncomingMessage, private readonly socket: Duplex, private readonly head: Buffer) {
    socket.on('error', () => socket.destroy())
  }

  /** A WebSocket handshake is not a CORS request (browsers send Origin, checked by the schemes' CSRF guards). */
  cors(): void {}

  preflight(): void {
    throw new GatewayError('bad_request', 'only WebSocket upgrades are proxied')
  }

  precheck(req: IncomingMessage): void {
    if (req.method !== 'GET' || req.headers.upgrade?.toLowerCase() !== 'websocket') throw new GatewayError('bad_request', 'only WebSocket upgrades are proxied')
  }

  async forward(state: GatewayState, target: Target, principal: Principal | undefined, plan: ForwardPlan): Promise<number> {
    const headers = upstreamHeaders(this.req, state.headers, principal, { upgrade: true, assertion: plan.assertion, keep: plan.keep, clientCert: plan.clientCert })
    state.forwardSigner?.sign(forwardTarget(state, this.req, target), headers, undefined, state.now())
    // The refusal is written from inside http-proxy-3's error callback, before it closes the socket.
    const onFailure = (err: Error) => this.refuse(state, upstreamError(err), undefined)
    const send = async () => {
      try {
        return this.status = await this.ws.proxy(this.req, this.socket, this.head, state.config.upstream, headers, target.forward, onFailure, principal?.responseHeaders)
      } catch (err) {
        throw upstreamError(err as Error)
      }
    }
    return state.tracing === undefined ? send() : tracedUpstream(headers, state.upstream.origin, target.forward, send)
  }

  answer(): void {
    throw new GatewayError('bad_request', 'this path does not take WebSocket upgrades')
  }

  refuse(state: GatewayState, err: GatewayError, scheme: string | undefined): void {
    if (this.refused) return
    this.refused = true
    this.status = err.status
    if (this.socket.writable) this.socket.end(rawProblem(err, state.schemes.schemes, scheme))
    else this.socket.destroy()
  }

  log(state: GatewayState, ex: Exchange): void {
    noteConnection(ex, this.req, state)
    logExchange(state, ex, this.status, false)
  }
}

/** The request as the upstream receives it, for the forward signature: its scheme, the Host sent to it, the forwarded path. */
function forwardTarget(state: GatewayState, req: IncomingMessage, target: Target): ForwardTarget {
  const u = state.config.upstream
  return {
    method: req.method!,
    scheme: u.protocol.slice(0, -1),
    authority: state.headers.upstreamHost ?? req.headers.host ?? u.host,
    path: state.upstream.basePath + target.forward,
  }
}
