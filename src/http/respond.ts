// The one place where a GatewayError becomes an HTTP response (PROTOCOL.md §6,
// RFC 9457 problem+json, RFC 6750 §3 challenges). Nothing here echoes a
// credential: `detail` is a fixed, sanitized, client-safe string.
//
// Challenges (RFC 9110 §11.6.1: one WWW-Authenticate field per scheme):
//   - a 401 carries one challenge per enabled scheme; the scheme whose
//     credentials failed carries the error, the others are bare;
//   - any other status that carries an auth error (400 invalid_request,
//     403 insufficient_scope) carries the failed scheme's challenge only,
//     or every scheme's when the failure belongs to none (two credentials).

import type { ServerResponse } from 'node:http'
import { GatewayError, isGatewayError } from '../errors.js'

export const PROBLEM_TYPE_PREFIX = 'urn:popgate:problem:'

/** One scheme's part of a 401 (or of an error that carries an auth error). */
export interface ChallengeParts {
  /** One WWW-Authenticate field value (RFC 9110 §11.6.1); undefined for a scheme with none (a cookie). */
  readonly field?: string | undefined
  /** Other header fields (flat name, value, … list), e.g. a nonce header. */
  readonly headers?: readonly string[]
  /** Members added to the problem+json body, e.g. `nonce`. */
  readonly body?: Readonly<Record<string, string>>
}

/** What respond needs of a scheme: its name and its challenge. */
export interface Challenger {
  readonly name: string
  challenge(error: GatewayError | undefined): ChallengeParts
}

/** Maps anything thrown to a GatewayError: unknown errors become internal_error (and are logged by the caller). */
export function toGatewayError(err: unknown): GatewayError {
  return isGatewayError(err) ? err : new GatewayError('internal_error', 'internal error', { cause: err })
}

type Headers = Record<string, string | number | string[]>

/** A whole HTTP/1.1 response as text, for sockets that have no ServerResponse (client errors, refused upgrades). */
export function rawProblem(err: GatewayError, challengers?: readonly Challenger[], failed?: string): string {
  const { headers, text } = problemParts(err, challengers, failed)
  let head = `HTTP/1.1 ${err.status} ${err.title}\r\n`
  for (const [k, v] of Object.entries(headers)) {
    for (const one of Array.isArray(v) ? v : [v]) head += `${k}: ${one}\r\n`
  }
  return `${head}connection: close\r\n\r\n${text}`
}

/** `failed`: the name of the scheme whose credentials caused `err`, when one did. */
export function sendProblem(res: ServerResponse, err: GatewayError, challengers: readonly Challenger[] | undefined, failed?: string): void {
  if (res.headersSent) {
    // Mid-stream failure (e.g. upstream died while sending the body): the
    // only honest signal left is to cut the connection.
    res.destroy(err)
    return
  }
  const { headers, text } = problemParts(err, challengers, failed)
  res.writeHead(err.status, headers)
  res.end(text)
}

function problemParts(err: GatewayError, challengers: readonly Challenger[] | undefined, failed: string | undefined): { headers: Headers; text: string } {
  const body: Record<string, unknown> = {
    type: PROBLEM_TYPE_PREFIX + err.code,
    title: err.title,
    status: err.status,
    code: err.code,
    detail: err.detail,
  }
  const headers: Headers = {
    'content-type': 'application/problem+json',
    'cache-control': 'no-store',
  }
  if (challengers && (err.status === 401 || err.authError)) {
    const fields: string[] = []
    for (const c of challengers) {
      const owns = failed === undefined || c.name === failed
      if (!owns && err.status !== 401) continue
      const parts = c.challenge(owns ? err : undefined)
      if (parts.field !== undefined) fields.push(parts.field)
      const extra = parts.headers ?? []
      for (let i = 0; i < extra.length; i += 2) headers[extra[i]!.toLowerCase()] = extra[i + 1]!
      if (parts.body) Object.assign(body, parts.body)
    }
    if (fields.length > 0) headers['www-authenticate'] = fields.length === 1 ? fields[0]! : fields
  }
  if (err.retryAfterSec !== undefined) headers['retry-after'] = err.retryAfterSec
  else if (err.status === 503) headers['retry-after'] = 1
  const text = JSON.stringify(body)
  headers['content-length'] = Buffer.byteLength(text)
  return { headers, text }
}
