// Where a request goes, top to bottom. Plain requests and WebSocket upgrades
// take this one path; they differ only in how the answer is written (a
// Responder, pipeline/responders.ts: HttpResponder forwards on undici,
// UpgradeResponder hands the socket to http-proxy-3). Each step is one stage
// module; the order is the contract (docs/protocol.md §2, §7):
//
//   1. capture the state   — a reload mid-request changes nothing for it
//   2. read the head once  — header count, the one Host (a valid host[:port]
//                            or 400), body or not, credential fields
//   3. parse the target    — once; the ACL and the upstream see the same path
//      the gateway's own documents (http/own-routes.ts) are answered here
//   4. admission           — the ACL rule; public rules skip authentication;
//                            a body on GET/HEAD/OPTIONS is refused unless the rule allows it
//   5. authenticate        — the gate every scheme goes through: limits →
//                            parse → ACL authorize *before* any I/O → verify
//                            → the rule's policy (pipeline/authenticate.ts);
//                            a report-mode rule forwards what it would refuse,
//                            without an identity (pipeline/report-mode.ts)
//   6. forward             — identity headers stripped, then set (with the
//                            signed assertion when configured); streamed
//
// Errors from any step are GatewayErrors and become responses in exactly one
// place (http/respond.ts), written by the Responder. One access-log line per
// exchange (pipeline/exchange.ts).

import type { IncomingMessage } from 'node:http'
import { parseTarget, type Target } from '../http/target.js'
import { readRequestFacts } from '../http/request-facts.js'
import { toGatewayError } from '../http/respond.js'
import { CHALLENGE_CODES, GatewayError } from '../errors.js'
import { admit, ForbiddenError, refuseUnexpectedBody } from './admission.js'
import { authenticateOrReport, reportDenial } from './report-mode.js'
import { ownRoute, type OwnRoute } from '../http/own-routes.js'
import { createExchange, noteUpstreamFailure, type Exchange } from './exchange.js'
import { GateView } from './request-view.js'
import { checkCredentialedOrigin, isPreflight, originsFor, preflightHeaders, responseHeaders } from '../http/cors.js'
import { matchRule } from '../acl/index.js'
import type { Principal } from '../schemes/types.js'
import type { ClientCertificate } from '../tls/certificate.js'
import type { GatewayState, StateHolder } from '../assembly/state.js'

/** How an exchange is answered: the only part that differs between plain requests and upgrades. */
export interface Responder {
  /** Refuses what this responder cannot carry (a non-WebSocket upgrade) before any other check. */
  precheck(req: IncomingMessage): void
  /** Sends the request upstream, with the signed assertion when there is one; resolves with the upstream's status. */
  forward(state: GatewayState, target: Target, principal: Principal | undefined, plan: ForwardPlan): Promise<number | undefined>
  /** The CORS fields (http/cors.ts) every later answer carries; a later call replaces them (undefined: CORS off, the upstream's pass). */
  cors(fields: readonly string[] | undefined): void
  /** Answers a CORS preflight with 204 and these fields. */
  preflight(fields: readonly string[]): void
  /** Answers with one of the gateway's own documents. */
  answer(route: OwnRoute, method: string): void
  /** Writes a refusal; `scheme` names the scheme whose credentials failed, when one did. */
  refuse(state: GatewayState, err: GatewayError, scheme: string | undefined): void
  /** Writes the one access line. */
  log(state: GatewayState, ex: Exchange): void
}

/** How the request goes upstream, decided by the stages before forwarding. */
export interface ForwardPlan {
  /** The signed X-PoP-Assertion (proxy/assertion.ts), when configured and authenticated. */
  readonly assertion: string | undefined
  /** Credential fields that reach the upstream: the scheme's `forwardable`, when the rule says forwardToken. */
  readonly keep: ReadonlySet<string> | undefined
  /** RFC 9440 `Client-Cert` for the upstream: the request's chained client certificate, when the rule says forwardClientCert. */
  readonly clientCert?: ClientCertificate | undefined
  /** The body: the buffer a scheme's verify read (schemes/types.ts VerifyView), the request stream, or none. */
  readonly body: Uint8Array | 'stream' | undefined
}

export function drive(holder: StateHolder, req: IncomingMessage, out: Responder): Promise<void> {
  const state = holder.current // 1
  const ex = createExchange(req)
  // Tracing off: this one check, no span objects (src/tracing/). On: the exchange runs under its server span.
  if (state.tracing === undefined) return exchange(state, req, out, ex)
  const trace = ex.trace = state.tracing.start(req, state.headers.trusted)
  return trace.run(() => exchange(state, req, out, ex))
}

async function exchange(state: GatewayState, req: IncomingMessage, out: Responder, ex: Exchange): Promise<void> {
  let admitted = false // the ACL was asked: the decision goes to the reload sample
  try {
    out.precheck(req)
    if (req.rawHeaders.length > 2 * state.config.limits.maxHeaderCount) { // 2
      state.metrics.inc('popgate_rate_limited_total', { scope: 'header_count' })
      throw new GatewayError('headers_too_large', 'too many header fields')
    }
    const facts = readRequestFacts(req.rawHeaders, state.schemes.ownedFields)
    const origin = req.headers.origin
    // CORS on (http/cors.ts): even a refusal below is readable by a listed origin's page.
    if (state.cors.size > 0) out.cors(responseHeaders(origin, state.cors))
    const target = parseTarget(req.url ?? '') // 3
    ex.path = target.path
    const method = req.method!
    const own = ownRoute(state.ownRoutes, method, target.path)
    if (own !== undefined) {
      ex.decision = 'public'
      own.guard?.(method, (name) => { const v = req.headers[name]; return Array.isArray(v) ? v.join(', ') : v })
      out.answer(own, method)
      return
    }
    if (isPreflight(method, origin, req.headers['access-control-request-method'])) {
      const asked = req.headers['access-control-request-method'] as string
      const allowed = originsFor(state.cors, matchRule(state.acl, asked, target.path)?.cors)
      if (allowed.size > 0) { // else not ours: the upstream answers it, as without CORS
        ex.decision = 'public'
        out.preflight(preflightHeaders({ origin: origin!, requestMethod: asked, requestHeaders: req.headers['access-control-request-headers'] }, allowed))
        return
      }
    }
    admitted = true
    const { rule, public: isPublic, wouldDeny } = admit(state, method, target.path) // 4
    ex.ruleId = rule?.id
    const corsOrigins = originsFor(state.cors, rule?.cors)
    if (rule?.cors !== undefined) out.cors(rule.cors.size > 0 ? responseHeaders(origin, rule.cors) : undefined)
    if (corsOrigins.size > 0 && !isPublic) checkCredentialedOrigin(origin, facts.authorization !== undefined || facts.fields !== undefined, state.config.publicOrigin, corsOrigins)
    refuseUnexpectedBody(method, rule, facts.hasBody)
    let principal: Principal | undefined
    let view: GateView | undefined
    if (isPublic) {
      ex.decision = 'public'
    } else if (wouldDeny) {
      reportDenial(state, ex, rule, wouldDeny)
    } else {
      view = new GateView(req, facts, method, target.path, state.now())
      principal = await authenticateOrReport(state, req, facts, view, rule, ex) // 5
      if (principal) {
        ex.identity = principal.identity
        ex.decision = 'allow'
        ex.clientCert = principal.certificate?.source
      }
    }
    const assertion = principal && state.assertion?.sign(principal, method, target.path, rule?.id, state.now()) // 6
    ex.forwardStartNs = process.hrtime.bigint()
    // A scheme's forwardable credentials reach the upstream only when the rule asks (an upstream that reads the token itself).
    const keep = principal !== undefined && rule?.forwardToken === true ? state.schemes.forwardable(principal.method) : undefined
    const body = view?.buffered ?? (facts.hasBody ? 'stream' : undefined)
    const cert = principal !== undefined && rule?.forwardClientCert === true ? view?.channel.clientCert : undefined
    const clientCert = cert?.chained === true ? cert : undefined
    ex.upstreamStatus = await out.forward(state, target, principal, { assertion, keep, body, clientCert })
  } catch (err) {
    const gerr = toGatewayError(err)
    ex.code = gerr.code
    ex.decision = err instanceof ForbiddenError ? 'deny' : CHALLENGE_CODES.has(gerr.code) ? 'challenge' : 'error'
    if (gerr.code === 'internal_error') state.log.error({ err }, 'unexpected error')
    if (gerr.code === 'upstream_unavailable' || gerr.code === 'upstream_timeout') noteUpstreamFailure(state, ex, gerr)
    out.refuse(state, gerr, ex.scheme)
  } finally {
    if (admitted) state.decisions.record(ex.identity ?? ex.claimed, ex.method, ex.path!)
    out.log(state, ex)
  }
}

