// Stage: find the credentials on a request. Reads the raw header list (not
// req.headers: Node keeps only the first Authorization and silently drops
// the rest — REFERENCE.md "duplicate headers"). Several Authorization
// fields → 400 (RFC 9449 §7.1 Figure 19 / PROTOCOL.md §6).

import type { IncomingMessage } from 'node:http'
import { GatewayError } from '../errors.js'
import { parseAuthorization } from '../http/auth-header.js'

/** RFC 9112 §3.2: a request with more than one Host field is refused (400). */
export function checkSingleHost(req: IncomingMessage): void {
  const raw = req.rawHeaders
  let seen = false
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!
    if (name.length !== 4 || name.toLowerCase() !== 'host') continue
    if (seen) throw new GatewayError('bad_request', 'more than one Host header')
    seen = true
  }
}

export interface Credentials { readonly scheme: 'DomainPoP'; readonly token: string }

export function extractCredentials(req: IncomingMessage, maxProofBytes: number): Credentials | undefined {
  const raw = req.rawHeaders
  let value: string | undefined
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!
    if (name.length !== 13 || name.toLowerCase() !== 'authorization') continue
    if (value !== undefined) throw new GatewayError('multiple_credentials', 'more than one Authorization header')
    value = raw[i + 1]!
  }
  if (value === undefined) return undefined
  if (value.length > maxProofBytes + 64) throw new GatewayError('proof_too_large', `Authorization is larger than ${maxProofBytes} bytes`)
  const sp = value.indexOf(' ')
  const scheme = sp < 0 ? value : value.slice(0, sp)
  // Other schemes (Basic from a browser, Bearer) are not credentials here: the caller gets a challenge.
  if (scheme.toLowerCase() !== 'domainpop') return undefined
  const parsed = parseAuthorization(value)
  if (!parsed) throw new GatewayError('malformed_proof', 'Authorization must be "DomainPoP <compact JWS>"')
  return { scheme: 'DomainPoP', token: parsed.credentials }
}
