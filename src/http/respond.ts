// The one place where a GatewayError becomes an HTTP response (PROTOCOL.md §6,
// RFC 9457 problem+json, RFC 6750 §3 challenges). Nothing here echoes a
// credential: `detail` is a fixed, sanitized, client-safe string.

import type { ServerResponse } from 'node:http'
import { GatewayError, isGatewayError } from '../errors.js'
import { serializeChallenge } from './auth-header.js'

export const PROBLEM_TYPE_PREFIX = 'urn:popgate:problem:'
export const NONCE_HEADER = 'DomainPoP-Nonce'

export interface Challenger {
  /** `realm` param: the gateway's publicOrigin. */
  readonly realm: string
  /** Space-separated algorithm allowlist for the `algs` param. */
  readonly algs: string
  issueNonce(): string
}

/** Maps anything thrown to a GatewayError: unknown errors become internal_error (and are logged by the caller). */
export function toGatewayError(err: unknown): GatewayError {
  return isGatewayError(err) ? err : new GatewayError('internal_error', 'internal error', { cause: err })
}

/** A whole HTTP/1.1 response as text, for sockets that have no ServerResponse (client errors, refused upgrades). */
export function rawProblem(err: GatewayError, challenger?: Challenger): string {
  const { headers, text } = problemParts(err, challenger)
  let head = `HTTP/1.1 ${err.status} ${err.title}\r\n`
  for (const [k, v] of Object.entries(headers)) head += `${k}: ${v}\r\n`
  return `${head}connection: close\r\n\r\n${text}`
}

export function sendProblem(res: ServerResponse, err: GatewayError, challenger: Challenger | undefined): void {
  if (res.headersSent) {
    // Mid-stream failure (e.g. upstream died while sending the body): the
    // only honest signal left is to cut the connection.
    res.destroy(err)
    return
  }
  const { headers, text } = problemParts(err, challenger)
  res.writeHead(err.status, headers)
  res.end(text)
}

function problemParts(err: GatewayError, challenger: Challenger | undefined): { headers: Record<string, string | number>; text: string } {
  const body: Record<string, unknown> = {
    type: PROBLEM_TYPE_PREFIX + err.code,
    title: err.title,
    status: err.status,
    code: err.code,
    detail: err.detail,
  }
  const headers: Record<string, string | number> = {
    'content-type': 'application/problem+json',
    'cache-control': 'no-store',
  }
  // Every 401 (and the 400/403 that carry an auth error) gets a challenge with a fresh nonce (§6).
  if (challenger && (err.status === 401 || err.authError)) {
    const nonce = challenger.issueNonce()
    const params: Record<string, string> = { realm: challenger.realm, nonce, algs: challenger.algs }
    if (err.authError) {
      params.error = err.authError
      params.error_description = err.detail
    }
    headers['www-authenticate'] = serializeChallenge('DomainPoP', params)
    headers[NONCE_HEADER.toLowerCase()] = nonce
    body.nonce = nonce
  }
  if (err.retryAfterSec !== undefined) headers['retry-after'] = err.retryAfterSec
  else if (err.status === 503) headers['retry-after'] = 1
  const text = JSON.stringify(body)
  headers['content-length'] = Buffer.byteLength(text)
  return { headers, text }
}
