// One request's HTTP Message Signature in the Web Bot Auth profile, in the two
// steps the gate runs (docs/architecture.md): read (no I/O: the fields, the
// profile's checks, the agent — whose host is the identity the ACL judges)
// and verify (the agent's directory key, the signature over the §2.5 base,
// the body against its Content-Digest, the nonce single use). A credential
// scheme wraps these; they know nothing of the pipeline.

import type { KeyObject } from 'node:crypto'
import { GatewayError } from '../../errors.js'
import type { Identity } from '../../identity/domain.js'
import { checkContentDigest } from '../content-digest.js'
import type { MessageView } from './base.js'
import type { HttpSignatureAlgorithm } from './algorithms.js'
import { parseSignatures } from './input.js'
import { checkSignature, demandedComponents, verifyEntry, type CheckedSignature } from './policy.js'
import { parseSignatureAgent, selectAgent, type SignatureAgent } from './agent.js'
import { serializeInnerList, type Item, type Parameters } from './structured.js'

export interface HttpSignatureSettings {
  /** The gateway's public authority (publicOrigin's host[:port]). */
  readonly authority: string
  readonly clockSkewSec: number
  readonly maxValiditySec: number
  /** `web-bot-auth`, or undefined to accept any tag. */
  readonly tag: string | undefined
  readonly algorithms: ReadonlySet<HttpSignatureAlgorithm>
  /** Agent hosts that may use http (tests). */
  readonly allowHttp: readonly string[]
}

/** What a route demands beyond the profile (a rule's `httpSignature`). */
export interface RouteDemand {
  readonly components: readonly string[]
  readonly nonce: 'required' | 'optional'
}

export const NO_DEMAND: RouteDemand = Object.freeze({ components: Object.freeze([]), nonce: 'optional' })

export interface HttpSignatureClaim {
  readonly identity: Identity
  readonly agent: SignatureAgent
  readonly checked: CheckedSignature
}

/** Read step: no I/O; throws signature_* / signature_agent_invalid. */
export function readHttpSignature(m: MessageView, settings: HttpSignatureSettings, demand: RouteDemand, nowSec: number): HttpSignatureClaim {
  const agentValues = m.fieldValues('signature-agent')
  if (agentValues === undefined) throw new GatewayError('signature_agent_invalid', 'Signature-Agent is missing: it names the signer')
  const entries = parseSignatures(m.fieldValues('signature-input'), m.fieldValues('signature'))
  const checked = checkSignature(entries, m, {
    authority: settings.authority, nowSec, clockSkewSec: settings.clockSkewSec, maxValiditySec: settings.maxValiditySec,
    tag: settings.tag, algorithms: settings.algorithms, components: demand.components, nonce: demand.nonce, hasAgent: true,
  })
  const agent = selectAgent(parseSignatureAgent(agentValues, settings.allowHttp), checked.agentKey)
  return { identity: agent.identity, agent, checked }
}

export interface HttpSignatureDeps {
  /** The key `keyid` of the directory at `url`, vouched for by `identity` (keys/signature-directory.ts). */
  readonly getKey: (url: URL, identity: string, keyid: string) => Promise<{ readonly keyid: string; readonly keyObject: KeyObject }>
  readonly firstUse: (key: string, ttlMs: number) => Promise<boolean>
  readonly algorithms: ReadonlySet<HttpSignatureAlgorithm>
  readonly clockSkewSec: number
  /** The request body, read whole and bounded (throws body_too_large past it); undefined when there is none. */
  readonly body: () => Promise<Uint8Array | undefined>
}

export interface VerifiedHttpSignature {
  /** The key's RFC 7638 thumbprint (= keyid). */
  readonly thumbprint: string
  readonly alg: HttpSignatureAlgorithm
}

/** Verify step: key, signature, Content-Digest, nonce. */
export async function verifyHttpSignature(claim: HttpSignatureClaim, m: MessageView, deps: HttpSignatureDeps, nowSec: number): Promise<VerifiedHttpSignature> {
  const { entry } = claim.checked
  const key = await deps.getKey(claim.agent.keysUrl, claim.identity, entry.params.keyid!)
  const alg = await verifyEntry(m, entry, key.keyObject, deps.algorithms)
  // RFC 9530: a Content-Digest that is present is checked against the body, covered or not, before anything is forwarded.
  const digest = m.fieldValues('content-digest')
  if (digest !== undefined) {
    const body = await deps.body()
    checkContentDigest(digest.join(', '), body ?? new Uint8Array())
  }
  // Single use, after the signature verified (garbage cannot burn someone's nonce), for as long as the signature lives.
  const nonce = entry.params.nonce
  if (nonce !== undefined) {
    const ttlMs = Math.max(1, entry.params.expires! - nowSec + deps.clockSkewSec + 1) * 1000
    if (!(await deps.firstUse(`${claim.identity}\n${nonce}`, ttlMs))) throw new GatewayError('signature_replayed', 'this nonce was already used')
  }
  return { thumbprint: key.keyid, alg }
}

/**
 * RFC 9421 §5.1 Accept-Signature for a 401 or 403: what a signature for this
 * request must cover and carry, under the label `sig1`.
 */
export function acceptSignature(method: string, demand: RouteDemand, tag: string | undefined): string {
  const names = ['@authority', ...demandedComponents(method, demand.components)]
  const items: Item[] = [...new Set(names)].map((n) => [n, new Map()] as Item)
  items.push(['signature-agent', new Map([['key', 'sig1']])])
  const params: Parameters = new Map()
  params.set('created', true)
  params.set('expires', true)
  if (demand.nonce === 'required') params.set('nonce', true)
  if (tag !== undefined) params.set('tag', tag)
  return `sig1=${serializeInnerList([items, params])}`
}
