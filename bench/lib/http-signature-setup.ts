// The HTTP Message Signatures (RFC 9421, Web Bot Auth profile) bench case's
// signer: the same fields popgate's client writes (src/client/http-signature.ts:
// Signature-Agent in the dictionary form, one signature `sig1` over
// @authority, @method, @path, @query and the agent member, with created,
// keyid, alg, expires, a nonce and tag="web-bot-auth"), one line per request
// with its own nonce, signed in the proof workers before each round.

import { requestView } from '../../src/proofs/http-signature/base.js'
import { algorithmFor } from '../../src/proofs/http-signature/algorithms.js'
import { signMessage } from '../../src/proofs/http-signature/sign.js'
import { WEB_BOT_AUTH_TAG } from '../../src/proofs/http-signature/policy.js'
import type { ClientKey } from '../../src/client/keys.js'
import { HEADER_VALUE_SEPARATOR } from '../load/header-line.js'

export const SIGNATURE_LABEL = 'sig1'

export interface HttpSignatureBenchInput {
  /** The agent URL (its host is the identity; its directory holds the key). */
  readonly agent: string
  /** What @authority, @path and @query are signed over: the gateway's public origin + the path. */
  readonly url: string
  readonly method: string
  readonly ttlSec: number
}

/** `Signature-Agent`'s value: sent unchanged with every request. */
export const signatureAgentValue = (agent: string): string => `${SIGNATURE_LABEL}=${JSON.stringify(agent)}`

const COMPONENTS: Array<string | [string, Map<string, string>]> = ['@authority', '@method', '@path', '@query', ['signature-agent', new Map([['key', SIGNATURE_LABEL]])]]

/** One request's `Signature-Input` and `Signature`, tab-separated, with `nonce` single use. */
export function signHttpSignatureFields(key: ClientKey, input: HttpSignatureBenchInput, nonce: string): string {
  const alg = algorithmFor(key.privateKey)
  if (alg === undefined || alg === 'hmac-sha256') throw new TypeError('the bench agent key must be asymmetric')
  const created = Math.floor(Date.now() / 1000)
  const signed = signMessage(requestView({ method: input.method, url: input.url, headers: { 'signature-agent': signatureAgentValue(input.agent) } }), {
    label: SIGNATURE_LABEL, components: COMPONENTS, alg, key: key.privateKey,
    params: { created, keyid: key.kid, alg: true, expires: created + input.ttlSec, nonce, tag: WEB_BOT_AUTH_TAG },
  })
  return signed.signatureInput + HEADER_VALUE_SEPARATOR + signed.signature
}
