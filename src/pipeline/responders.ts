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
import { upstreamHeaders } from '../proxy/headers.js'
import type { WsProxy } from '../proxy/websocket.js'
import type { Principal } from '../schemes/types.js'
import { logExchange, type Exchange } from './exchange.js'
import type { ForwardPlan, Responder } from './run.js'
import type { OwnRoute } from '../http/own-routes.js'
import type { GatewayState } from '../assembly/state.js'

export class HttpResponder implements Responder {
  constructor(private readonly req: IncomingMessage, private readonly res: ServerResponse) {}

  precheck(): void {}

  async forward(state: GatewayState, target: Target, principal: Principal | undefined, plan: ForwardPlan): Promise<number | undefined> {
    const headers = upstreamHeaders(this.req, state.headers, principal, { assertion: plan.assertion, keepToken: plan.keepToken })
    const result = await forward(this.req, this.res, state.upstream, target.forward, headers, principal?.responseHeaders, plan.body)
    return result.upstreamStatus
  }

  answer(route: OwnRoute, method: string): void {
    this.res.writeHead(200, { 'content-type': route.contentType, 'cache-control': route.cacheControl, 'content-length': Buffer.byteLength(route.body) })
    this.res.end(method === 'HEAD' ? undefined : route.body)
  }

  refuse(state: GatewayState, err: GatewayError, scheme: string | undefined): void {
    sendProblem(this.res, err, state.schemes.schemes, scheme)
  }

  log(state: GatewayState, ex: Exchange): void {
    logExchange(state, ex, this.res.statusCode, !this.res.writableEnded)
  }
}

export class UpgradeResponder implements Responder {
  private status = 101
  private refused = false

  constructor(private readonly ws: WsProxy, private readonly req: IncomingMessage, private readonly socket: Duplex, private readonly head: Buffer) {
    socket.on('error', () => socket.destroy())
  }

  precheck(req: IncomingMessage): void {
    if (req.method !== 'GET' || req.headers.upgrade?.toLowerCase() !== 'websocket') throw new GatewayError('bad_request', 'only WebSocket upgrades are proxied')
  }

  async forward(state: GatewayState, target: Target, principal: Principal | undefined, plan: ForwardPlan): Promise<number> {
    const headers = upstreamHeaders(this.req, state.headers, principal, { upgrade: true, assertion: plan.assertion, keepToken: plan.keepToken })
    // The refusal is written from inside http-proxy-3's error callback, before it closes the socket.
    const onFailure = (err: Error) => this.refuse(state, upstreamError(err), undefined)
    try {
      this.status = await this.ws.proxy(this.req, this.socket, this.head, state.config.upstream, headers, target.forward, onFailure)
    } catch (err) {
      throw upstreamError(err as Error)
    }
    return this.status
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
    logExchange(state, ex, this.status, false)
  }
}
