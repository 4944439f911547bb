// Where a request goes, top to bottom. Each step is one stage module; the
// order is the contract (PROTOCOL.md §2.3, §7):
//
//   1. capture the state   — a reload mid-request changes nothing for it
//   2. parse the target    — once; the ACL and the upstream see the same path
//   3. admission          — the ACL rule; public rules skip authentication
//   4. find credentials    — none → 401 challenge; several → 400
//   5. authenticate        — proof checks, authorize *before* any key fetch,
//                            key, signature, replay
//   6. forward             — identity headers stripped, then set; streamed
//
// Errors from any step are GatewayErrors and become responses in exactly one
// place (http/respond.ts). One access-log line per request (pipeline/access-log.ts).

import type { IncomingMessage, ServerResponse } from 'node:http'
import { parseTarget } from '../http/target.js'
import { sendProblem, toGatewayError, NONCE_HEADER } from '../http/respond.js'
import { admit } from './admission.js'
import { checkSingleHost } from './credentials.js'
import { GatewayError } from '../errors.js'
import { authenticate, ForbiddenError } from './domainpop.js'
import { upstreamHeaders } from '../proxy/headers.js'
import { forward } from '../proxy/forward.js'
import { createExchange, logExchange, type Exchange } from './exchange.js'
import type { StateHolder } from './state.js'

export async function handleRequest(holder: StateHolder, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const state = holder.current // 1
  const ex = createExchange(req)
  try {
    if (req.rawHeaders.length > 2 * state.config.limits.maxHeaderCount) {
      state.metrics.inc('popgate_rate_limited_total', { scope: 'header_count' })
      throw new GatewayError('headers_too_large', 'too many header fields')
    }
    checkSingleHost(req)
    const target = parseTarget(req.url ?? '') // 2
    ex.path = target.path
    const method = req.method!
    const { rule, public: isPublic } = admit(state, method, target.path) // 3
    ex.ruleId = rule?.id
    if (isPublic) {
      ex.decision = 'public'
      const result = await forward(req, res, state.upstream, target.forward, upstreamHeaders(req, state.headers, undefined))
      ex.upstreamStatus = result.upstreamStatus
      return
    }

    const auth = await authenticate(state, req, method, target.path, rule) // 4, 5
    ex.identity = auth.proof.identity
    ex.decision = 'allow'
    const extra = auth.proof.nonceRefresh ? [NONCE_HEADER, state.nonces.issue(state.now())] : []
    const headers = upstreamHeaders(req, state.headers, { identity: auth.proof.identity, method: 'domainpop', thumbprint: auth.thumbprint, channelBound: auth.channelBound })
    const result = await forward(req, res, state.upstream, target.forward, headers, extra) // 6
    ex.upstreamStatus = result.upstreamStatus
  } catch (err) {
    const gerr = toGatewayError(err)
    ex.code = gerr.code
    ex.decision = err instanceof ForbiddenError ? 'deny' : 'error'
    if (gerr.code === 'internal_error') state.log.error({ err }, 'unexpected error')
    if (gerr.code === 'upstream_unavailable' || gerr.code === 'upstream_timeout') state.metrics.inc('popgate_upstream_errors_total', { code: gerr.code })
    sendProblem(res, gerr, state.challenger)
  } finally {
    logExchange(state, ex, res)
  }
}

export type { Exchange }
