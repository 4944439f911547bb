// Signature-Agent (draft-ietf-webbotauth-httpsig-protocol-01 §4): who signed,
// as an https URL whose host is the signer's identity. Pure.
//
// - Current form: a Dictionary, `sig1="https://agent.example"`; the member's
//   `type` parameter says what the URL is: `directory` (default; the key
//   directory is at /.well-known/http-message-signatures-directory on that
//   origin unless the URL names a path) or `jwks_uri` (the URL is the key
//   set). A member with any other type is ignored (the draft: "MUST ignore";
//   never guessed from the path).
// - Earlier form: one bare String, `"https://agent.example"`, read as a
//   one-member dictionary without a key.
//
// The covered component picks the member: `"signature-agent";key="sig1"`
// names one; a plain `"signature-agent"` covers the whole field, which then
// must name exactly one agent.

import { GatewayError } from '../../errors.js'
import { isIdentity, type Identity } from '../../identity/domain.js'
import { isInnerList, parseField, stringParam, type Item } from './structured.js'

export const SIGNATURES_DIRECTORY_PATH = '/.well-known/http-message-signatures-directory'

export type AgentType = 'directory' | 'jwks_uri'

export interface SignatureAgent {
  /** The dictionary member key; undefined for the earlier bare-string form. */
  readonly key: string | undefined
  readonly url: URL
  readonly type: AgentType
  /** The URL's host: the ACL identity. */
  readonly identity: Identity
  /** Where its keys are: the directory, or the jwks_uri itself. */
  readonly keysUrl: URL
}

const bad = (why: string): never => { throw new GatewayError('signature_agent_invalid', `Signature-Agent ${why}`) }

export const MAX_AGENT_URL_CHARS = 2048

/** One agent URL → its identity and key URL. https only, no userinfo, query or fragment; the host is an identity. */
export function readAgentUrl(raw: string, type: AgentType, allowHttp: readonly string[] = []): SignatureAgent & { key: undefined } {
  if (raw.length > MAX_AGENT_URL_CHARS) bad(`URL is longer than ${MAX_AGENT_URL_CHARS} characters`)
  if (!/^[\x21-\x7e]+$/.test(raw) || raw.includes('\\')) bad('URL must be printable ASCII')
  let url: URL
  try {
    url = new URL(raw)
  } catch {
    return bad('is not a URL')
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && allowHttp.includes(url.hostname))) bad('URL must use https')
  if (url.username !== '' || url.password !== '' || url.search !== '' || url.hash !== '') bad('URL must not carry userinfo, a query or a fragment')
  if (!isIdentity(url.hostname)) bad('URL host is not a DNS name popgate accepts as an identity')
  const hasPath = url.pathname !== '/' && url.pathname !== ''
  if (type === 'jwks_uri' && !hasPath) bad('jwks_uri must name the key set\'s path')
  const keysUrl = type === 'directory' && !hasPath ? new URL(SIGNATURES_DIRECTORY_PATH, url.origin) : url
  return { key: undefined, url, type, identity: url.hostname as Identity, keysUrl }
}

function memberAgent(key: string | undefined, member: Item, allowHttp: readonly string[]): SignatureAgent | undefined {
  const [value, params] = member
  if (typeof value !== 'string') bad('members must be strings')
  const type = params.has('type') ? stringParam(params, 'type') ?? '' : 'directory'
  // draft §4: an unknown type MUST be ignored.
  if (type !== 'directory' && type !== 'jwks_uri') return undefined
  return { ...readAgentUrl(value as string, type, allowHttp), key }
}

/** Every usable agent of the field (`values`: its field lines). */
export function parseSignatureAgent(values: readonly string[], allowHttp: readonly string[] = []): SignatureAgent[] {
  const combined = values.map((v) => v.trim()).join(', ')
  if (combined.startsWith('"')) {
    // The earlier form: one sf-string.
    const item = parseField(combined, 'item', 'signature_agent_invalid', 'Signature-Agent')
    const agent = memberAgent(undefined, item, allowHttp)
    return agent === undefined ? [] : [agent]
  }
  const dict = parseField(combined, 'dictionary', 'signature_agent_invalid', 'Signature-Agent')
  const out: SignatureAgent[] = []
  for (const [key, member] of dict) {
    if (isInnerList(member)) bad('members must be strings')
    const agent = memberAgent(key, member as Item, allowHttp)
    if (agent !== undefined) out.push(agent)
  }
  return out
}

/**
 * The agent a signature's covered `signature-agent` component names.
 * `memberKey`: the component's `key` parameter, or undefined when it
 * covers the whole field.
 */
export function selectAgent(agents: readonly SignatureAgent[], memberKey: string | undefined): SignatureAgent {
  if (memberKey !== undefined) {
    const found = agents.find((a) => a.key === memberKey)
    return found ?? bad('has no usable member named by the signature')
  }
  if (agents.length !== 1) bad(agents.length === 0 ? 'names no usable agent' : 'names several agents; the signature must cover one with key=')
  return agents[0]!
}
