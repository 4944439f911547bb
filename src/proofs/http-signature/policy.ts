// What a verifier demands of a signature before and after it looks at a key
// (RFC 9421 §3.2, §7; draft-ietf-webbotauth-httpsig-protocol-01 §4, §5).
// Pure: a clock value is passed in.
//
// checkSignature (no key, no I/O):
//   - one signature per message when the profile allows one (signature_multiple)
//   - covered: @authority or @target-uri, and signature-agent when the
//     message names an agent; what the rule demands; on unsafe methods
//     @method and @path (@target-uri and @request-target hold the path too)
//     (signature_component_missing)
//   - the covered authority is the gateway's public one (signature_authority_mismatch)
//   - created and expires present, created not in the future, expires not
//     past, the window no longer than maxValiditySec (signature_expired)
//   - tag when the profile names one (signature_tag_invalid)
//   - alg, when given, one the gateway accepts (signature_alg_unsupported)
//   - keyid present (signature_malformed); nonce when demanded (signature_nonce_required)
// verifyEntry (with the key): the §2.5 base, the algorithm the key implies
// (alg must agree), the signature (signature_invalid).

import type { KeyObject } from 'node:crypto'
import { GatewayError } from '../../errors.js'
import { normalizeAuthority, signatureBase, type MessageView } from './base.js'
import { algorithmFor, isHttpSignatureAlgorithm, verifyBase, type HttpSignatureAlgorithm } from './algorithms.js'
import { stringParam } from './structured.js'
import type { SignatureEntry } from './input.js'

export const WEB_BOT_AUTH_TAG = 'web-bot-auth'

export interface SignaturePolicy {
  /** The gateway's public authority, host[:port] as publicOrigin names it. */
  readonly authority: string
  readonly nowSec: number
  readonly clockSkewSec: number
  /** Longest expires − created accepted (the draft RECOMMENDS ≤ 24 h). */
  readonly maxValiditySec: number
  /** `web-bot-auth`, or undefined when any tag (or none) is accepted. */
  readonly tag: string | undefined
  readonly algorithms: ReadonlySet<HttpSignatureAlgorithm>
  /** Components the route demands beyond the profile's, by name (`@method`, `content-digest`, …). */
  readonly components: readonly string[]
  readonly nonce: 'required' | 'optional'
  /** Whether the message has a Signature-Agent field (then it must be covered). */
  readonly hasAgent: boolean
}

/** RFC 9110 §9.2.1. */
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE'])
export const MAX_NONCE_CHARS = 256

export interface CheckedSignature {
  readonly entry: SignatureEntry
  /** The covered signature-agent member's key; undefined when the whole field is covered (or none is). */
  readonly agentKey: string | undefined
  readonly agentCovered: boolean
}

/** The component names a route (or the method) adds to the profile's. */
export function demandedComponents(method: string, extra: readonly string[]): string[] {
  const out = new Set(extra)
  // Without @method and @path the signature is a bearer token for the whole authority until it expires.
  if (!SAFE_METHODS.has(method)) { out.add('@method'); out.add('@path') }
  return [...out]
}

export function checkSignature(entries: readonly SignatureEntry[], m: MessageView, policy: SignaturePolicy): CheckedSignature {
  const missing = (why: string): never => { throw new GatewayError('signature_component_missing', why) }
  if (entries.length !== 1) throw new GatewayError('signature_multiple', 'exactly one signature is accepted per request')
  const entry = entries[0]!
  const names = new Set(entry.components.map(([n]) => n as string))
  const p = entry.params

  // draft §4.2: "@authority" or "@target-uri" MUST be covered.
  if (!names.has('@authority') && !names.has('@target-uri')) missing('the signature must cover @authority or @target-uri')
  const agentIds = entry.components.filter(([n]) => n === 'signature-agent')
  if (policy.hasAgent && agentIds.length === 0) missing('the signature must cover signature-agent')
  if (agentIds.length > 1) missing('the signature must cover one signature-agent member')
  checkRouteDemand(entry, m.method ?? '', policy)

  // The covered authority must be ours: a signature for another site is not one for us.
  const ours = normalizeAuthority(policy.authority, m.scheme)
  if (normalizeAuthority(m.authority ?? '', m.scheme) !== ours) throw new GatewayError('signature_authority_mismatch', 'the signed authority is not this gateway\'s')

  // RFC 9421 §3.2.1 and the draft §4.3: created and expires, inside the window.
  const expired = (why: string): never => { throw new GatewayError('signature_expired', why) }
  if (p.created === undefined || p.expires === undefined) expired('created and expires are required')
  if (p.created! > policy.nowSec + policy.clockSkewSec) expired('created is in the future')
  if (p.expires! < policy.nowSec - policy.clockSkewSec) expired('the signature has expired')
  if (p.expires! <= p.created!) expired('expires is not after created')
  if (p.expires! - p.created! > policy.maxValiditySec) expired(`the signature is valid for longer than ${policy.maxValiditySec} s`)

  if (policy.tag !== undefined && p.tag !== policy.tag) throw new GatewayError('signature_tag_invalid', `tag must be "${policy.tag}"`)
  if (p.alg !== undefined && !(isHttpSignatureAlgorithm(p.alg) && policy.algorithms.has(p.alg))) {
    throw new GatewayError('signature_alg_unsupported', `alg must be one of ${[...policy.algorithms].join(', ')}`)
  }
  if (p.keyid === undefined || p.keyid.length === 0 || p.keyid.length > 256) throw new GatewayError('signature_malformed', 'keyid is required (the key\'s RFC 7638 thumbprint)')
  if (p.nonce !== undefined && (p.nonce.length === 0 || p.nonce.length > MAX_NONCE_CHARS)) throw new GatewayError('signature_malformed', `nonce must be 1-${MAX_NONCE_CHARS} characters`)

  const agentId = agentIds[0]
  return { entry, agentKey: agentId === undefined ? undefined : stringParam(agentId[1], 'key'), agentCovered: agentId !== undefined }
}

/**
 * What the method and the route demand (a rule's `httpSignature`): the
 * components covered (unsafe methods: @method and @path, which @target-uri
 * and @request-target also hold) and a nonce. Pure; the scheme runs it again
 * in verify, where the rule is known.
 */
export function checkRouteDemand(entry: SignatureEntry, method: string, demand: { readonly components: readonly string[]; readonly nonce: 'required' | 'optional' }): void {
  const names = new Set(entry.components.map(([n]) => n as string))
  for (const want of demandedComponents(method, demand.components)) {
    const covered = names.has(want) || (want === '@path' && (names.has('@target-uri') || names.has('@request-target')))
    if (!covered) throw new GatewayError('signature_component_missing', `this route requires the signature to cover ${want}`)
  }
  if (entry.params.nonce === undefined && demand.nonce === 'required') throw new GatewayError('signature_nonce_required', 'this route requires a nonce')
}

/** RFC 9421 §3.2 steps 5–8 with the resolved key; throws signature_alg_unsupported / signature_invalid. */
export async function verifyEntry(m: MessageView, entry: SignatureEntry, key: KeyObject, algorithms: ReadonlySet<HttpSignatureAlgorithm>): Promise<HttpSignatureAlgorithm> {
  const implied = algorithmFor(key)
  // §3.2 step 6 / §7.3.6: the key decides the algorithm; a named alg must agree with it.
  if (implied === undefined || !algorithms.has(implied)) throw new GatewayError('signature_alg_unsupported', 'the key\'s algorithm is not accepted')
  const named = entry.params.alg
  const rsaV15 = named === 'rsa-v1_5-sha256' && implied === 'rsa-pss-sha512' && algorithms.has('rsa-v1_5-sha256')
  if (named !== undefined && named !== implied && !rsaV15) throw new GatewayError('signature_alg_unsupported', 'alg does not fit the key')
  const alg: HttpSignatureAlgorithm = rsaV15 ? 'rsa-v1_5-sha256' : implied
  const base = signatureBase(m, entry.components, entry.rawParams)
  if (!(await verifyBase(alg, key, base, entry.signature))) throw new GatewayError('signature_invalid', 'the signature does not verify')
  return alg
}
