// WebSocket upgrades take the same path as plain requests (pipeline/run.ts):
// target → rule → credentials → authenticate; then the socket is handed to
// http-proxy-3. Refusals are written to the raw socket as problem+json.

import type { IncomingMessage } from 'node:http'
import type { Duplex } from 'node:stream'
import { parseTarget } from '../http/target.js'
import { rawProblem, toGatewayError } from '../http/respond.js'
import { GatewayError } from '../errors.js'
import { admit } from './admission.js'
import { checkSingleHost } from './credentials.js'
import { authenticate, ForbiddenError } from './domainpop.js'
import { upstreamHeaders, type IdentityHeaders } from '../proxy/headers.js'
import { createExchange, logUpgrade } from './exchange.js'
import type { WsProxy } from '../proxy/websocket.js'
import type { StateHolder } from './state.js'

export async function handleUpgrade(holder: StateHolder, ws: WsProxy, req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
  const state = holder.current
  const ex = createExchange(req)
  socket.on('error', () => socket.destroy())
  try {
    if (req.method !== 'GET' || req.headers.upgrade?.toLowerCase() !== 'websocket') throw new GatewayError('bad_request', 'only WebSocket upgrades are proxied')
    if (req.rawHeaders.length > 2 * state.config.limits.maxHeaderCount) throw new GatewayError('headers_too_large', 'too many header fields')
    checkSingleHost(req)
    const target = parseTarget(req.url ?? '')
    ex.path = target.path
    const { rule, public: isPublic } = admit(state, 'GET', target.path)
    ex.ruleId = rule?.id
    let identity: IdentityHeaders | undefined
    if (isPublic) {
      ex.decision = 'public'
    } else {
      const auth = await authenticate(state, req, 'GET', target.path, rule)
      identity = { identity: auth.proof.identity, method: 'domainpop', thumbprint: auth.thumbprint, channelBound: auth.channelBound }
      ex.identity = identity.identity
      ex.decision = 'allow'
    }
    const headers = upstreamHeaders(req, state.headers, identity, { upgrade: true })
    logUpgrade(state, ex, 101)
    await ws.proxy(req, socket, head, state.config.upstream, headers, target.forward)
  } catch (err) {
    const gerr = toGatewayError(err)
    ex.code = gerr.code
    ex.decision = err instanceof ForbiddenError ? 'deny' : 'error'
    if (socket.writable) socket.end(rawProblem(gerr, state.challenger))
    else socket.destroy()
    logUpgrade(state, ex, gerr.status)
  }
}
