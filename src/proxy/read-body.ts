// What forward signing needs from the request (proxy/forward-signature.ts):
// the target as the upstream will see it, and the body read whole, bounded,
// so its Content-Digest can be signed before anything is sent.
// Throws: GatewayError body_too_large (413) past the bound, bad_request when
// the client stops mid-body. Nothing has been sent upstream in either case.

import type { IncomingMessage } from 'node:http'
import { GatewayError } from '../errors.js'
import type { Target } from '../http/target.js'
import type { GatewayState } from '../pipeline/state.js'
import type { ForwardTarget } from './forward-signature.js'

/** RFC 9112 §6.3: a body is framed by Transfer-Encoding or a Content-Length other than 0. */
export function requestHasBody(req: IncomingMessage): boolean {
  const cl = req.headers['content-length']
  return req.headers['transfer-encoding'] !== undefined || (cl !== undefined && !/^0+$/.test(cl))
}

export function readBoundedBody(req: IncomingMessage, maxBytes: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? 0)
  if (declared > maxBytes) return Promise.reject(new GatewayError('body_too_large', `the body is larger than ${maxBytes} bytes`))
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let total = 0
    const onData = (c: Buffer) => {
      total += c.length
      if (total > maxBytes) {
        cleanup()
        reject(new GatewayError('body_too_large', `the body is larger than ${maxBytes} bytes`))
        return
      }
      chunks.push(c)
    }
    const onEnd = () => { cleanup(); resolve(Buffer.concat(chunks, total)) }
    const onClose = () => { cleanup(); reject(new GatewayError('bad_request', 'the client closed the connection before the body ended')) }
    const cleanup = () => { req.off('data', onData); req.off('end', onEnd); req.off('close', onClose); req.off('error', onClose) }
    req.on('data', onData)
    req.once('end', onEnd)
    req.once('close', onClose)
    req.once('error', onClose)
  })
}

/** The request as the upstream receives it: its scheme, the Host sent to it, the forwarded path. */
export function forwardTarget(state: GatewayState, req: IncomingMessage, target: Target): ForwardTarget {
  const u = state.config.upstream
  return {
    method: req.method!,
    scheme: u.protocol.slice(0, -1),
    authority: state.headers.upstreamHost ?? req.headers.host ?? u.host,
    path: state.upstream.basePath + target.forward,
  }
}
