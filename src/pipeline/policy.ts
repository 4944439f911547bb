// The rule's policy (PROTOCOL.md §2.3, the gate's step after verify): one
// generic check of what the principal has proven against what the rule asks.
//   channelBinding: required → the `channel-bound` assurance (PROTOCOL.md §5;
//                              its own codes, proofs/channel-binding.ts)
//   sessions: false          → never the `session` assurance (PROTOCOL.md §4)
//   clientCertificate: required → the request came with a client certificate
//                              that chained to the CA, socket or trusted hop,
//                              whatever the scheme (docs/tls.md)
//   require: [a, b, …]       → the principal's scheme or one of its
//                              assurances is among them (any one suffices)
//   scopes                   → every one among the token's (RFC 6750 §3.1)
// Pure.

import type { Rule } from '../acl/index.js'
import { GatewayError, InsufficientScopeError } from '../errors.js'
import { requireChannelBinding } from '../proofs/channel-binding.js'
import type { Assurance, Principal } from '../schemes/types.js'
import type { ClientCertificate } from '../tls/certificate.js'

/** Whether the principal holds `assurance` (its scheme's name counts as one). */
export function holds(p: Principal, assurance: string): boolean {
  if (assurance === p.method) return true
  if (assurance === 'channel-bound') return p.channelBound
  return p.assurances?.has(assurance as Assurance) === true
}

/** What the principal has proven, for logs and `acl explain`: its scheme, then its assurances. */
export function assurancesOf(p: Principal): string[] {
  const out = [p.method]
  if (p.channelBound) out.push('channel-bound')
  for (const a of p.assurances ?? []) if (a !== 'channel-bound') out.push(a)
  return out
}

/** What the request's channel offers the policy: the RFC 9266 exporter, the client certificate. */
export interface PolicyChannel { readonly exporter: Buffer | undefined; readonly clientCert: ClientCertificate | undefined }

export function checkPolicy(rule: Rule, p: Principal, channel: PolicyChannel): void {
  if (rule.channelBinding === 'required') requireChannelBinding(p.channelBound, channel.exporter)
  if (rule.clientCertificate === 'required') {
    const cert = channel.clientCert
    if (cert === undefined) throw new GatewayError('client_certificate_required', 'this path requires a client certificate')
    if (!cert.chained) throw new GatewayError('client_certificate_invalid', `the client certificate was not accepted (${cert.reason ?? 'not verified'})`)
  }
  if (!rule.sessions && holds(p, 'session')) throw new GatewayError('credentials_not_accepted', 'this path requires a proof on every request, not a session')
  if (rule.require.length > 0 && !rule.require.some((r) => holds(p, r))) {
    throw new GatewayError('credentials_not_accepted', `this path accepts only: ${rule.require.join(', ')}`)
  }
  if (rule.scopes.length > 0) requireScopes(rule.scopes, p.token?.scopes)
}

/** RFC 6750 §3.1: every scope the rule names must be among the token's; the challenge names them all (§3 `scope`). */
export function requireScopes(required: readonly string[], held: readonly string[] | undefined): void {
  if (held === undefined || !required.every((s) => held.includes(s))) throw new InsufficientScopeError(required.join(' '))
}
