// A fetch-compatible function that signs every request with an HTTP Message
// Signature in the Web Bot Auth profile (RFC 9421;
// draft-ietf-webbotauth-httpsig-protocol-01): `Signature-Agent` in the
// dictionary form naming the agent URL (whose directory publishes the key),
// and one signature `sig1` covering @authority, @method, @path, @query, the
// agent member and, when there is a body, Content-Digest (RFC 9530), with
// created, keyid (RFC 7638 thumbprint), alg, expires, a fresh nonce and
// tag="web-bot-auth".

import { randomBytes, type KeyObject } from 'node:crypto'
import { requestView } from '../proofs/http-signature/base.js'
import { algorithmFor } from '../proofs/http-signature/algorithms.js'
import { signMessage } from '../proofs/http-signature/sign.js'
import { contentDigestHeader } from '../proofs/content-digest.js'
import { WEB_BOT_AUTH_TAG } from '../proofs/http-signature/policy.js'
import { lazyClientKey, type ClientKey } from './keys.js'

export interface HttpSignatureFetchOptions {
  /** The agent URL (`https://agent.example`): its host is the identity, its directory holds the key. */
  readonly agent: string
  /** A KeyObject, a loaded ClientKey, or a path to a private JWK file (Ed25519, EC P-256 or RSA). */
  readonly privateKey: KeyObject | ClientKey | string
  /** Seconds a signature is valid (default 60). */
  readonly ttlSec?: number
  /** Dictionary member key of Signature-Agent and the signature label (default `sig1`). */
  readonly label?: string
  /** Underlying fetch (default: globalThis.fetch). */
  readonly fetch?: typeof fetch
  readonly now?: () => number
  /**
   * Cover Signature-Agent as `"signature-agent";key="<label>"` (the draft's
   * form, default) or as the whole field `"signature-agent"` (what verifiers
   * built on http-message-sig 0.2, e.g. the `web-bot-auth` 0.1.3 package,
   * can read; popgate accepts both).
   */
  readonly coverAgentMember?: boolean
}

export type HttpSignatureFetch = (input: string | URL, init?: RequestInit) => Promise<Response>

/** The body as bytes, for its Content-Digest; a stream cannot be digested before it is sent. */
function bodyBytes(body: RequestInit['body']): Uint8Array | undefined {
  if (body == null) return undefined
  if (typeof body === 'string') return Buffer.from(body, 'utf8')
  if (body instanceof URLSearchParams) return Buffer.from(body.toString(), 'utf8')
  if (body instanceof ArrayBuffer) return new Uint8Array(body)
  if (ArrayBuffer.isView(body)) return new Uint8Array(body.buffer, body.byteOffset, body.byteLength)
  throw new TypeError('createHttpSignatureFetch: the body must be a string, URLSearchParams or bytes (its Content-Digest is signed)')
}

export function createHttpSignatureFetch(opts: HttpSignatureFetchOptions): HttpSignatureFetch {
  const baseFetch = opts.fetch ?? globalThis.fetch
  const key = lazyClientKey(opts.privateKey)
  const label = opts.label ?? 'sig1'
  const agent = new URL(opts.agent)
  if (agent.protocol !== 'https:' && agent.protocol !== 'http:') throw new TypeError('createHttpSignatureFetch: agent must be an https URL')
  const agentValue = `${label}=${JSON.stringify(opts.agent)}`
  const now = opts.now ?? Date.now

  return async function httpSignatureFetch(input, init = {}) {
    const url = new URL(String(input))
    const method = (init.method ?? 'GET').toUpperCase()
    const k = await key()
    const alg = algorithmFor(k.privateKey)
    if (alg === undefined || alg === 'hmac-sha256') throw new TypeError('createHttpSignatureFetch: the key must be Ed25519, EC P-256/P-384 or RSA')
    const headers = new Headers(init.headers)
    headers.set('signature-agent', agentValue)
    const body = bodyBytes(init.body)
    const agentId: string | [string, Map<string, string>] = opts.coverAgentMember === false ? 'signature-agent' : ['signature-agent', new Map([['key', label]])]
    const components: Array<string | [string, Map<string, string>]> = ['@authority', '@method', '@path', '@query', agentId]
    if (body !== undefined) {
      headers.set('content-digest', contentDigestHeader(body))
      components.push('content-digest')
    }
    const record: Record<string, string> = {}
    headers.forEach((v, name) => { record[name] = v })
    const created = Math.floor(now() / 1000)
    const signed = signMessage(requestView({ method, url, headers: record }), {
      label, components, alg, key: k.privateKey,
      params: { created, keyid: k.kid, alg: true, expires: created + (opts.ttlSec ?? 60), nonce: randomBytes(32).toString('base64url'), tag: WEB_BOT_AUTH_TAG },
    })
    headers.set('signature-input', signed.signatureInput)
    headers.set('signature', signed.signature)
    return baseFetch(url, { ...init, method, headers, body: init.body })
  }
}
