// The gateway signs what it forwards (identityHeaders.signature): one RFC 9421
// HTTP Message Signature, label `popgate`, over the request as the upstream
// receives it, so an upstream can check the hop with any RFC 9421 library
// instead of trusting headers anyone on its network could set
// (docs/upstream.md).
//
//   covered   "@method" "@target-uri" (as the upstream sees it: the upstream's
//             scheme, the Host sent upstream, the forwarded path), every
//             identity header the gateway set (names under the prefix, in the
//             order sent), and "content-digest" (RFC 9530 sha-256, computed
//             by the gateway over the body it forwards) when there is a body
//   params    created, keyid (the assertion key's RFC 7638 thumbprint),
//             alg="ecdsa-p256-sha256", expires (created + 60 s), nonce, tag="popgate"
//   key       the newest assertion key (secrets/assertion-keys.ts); every key
//             is published at /.well-known/http-message-signatures-directory
//             under publicOrigin, beside the assertion JWKS
//
// Client-sent Signature, Signature-Input and Content-Digest never reach the
// upstream when this is on (proxy/headers.ts): the only signature there is ours.

import { randomBytes } from 'node:crypto'
import { ecThumbprint, type AssertionKey } from '../secrets/assertion-keys.js'
import { signMessage } from '../proofs/http-signature/sign.js'
import { fieldsFromRaw } from '../proofs/http-signature/base.js'
import { contentDigestHeader } from '../proofs/content-digest.js'

export const FORWARD_SIGNATURE_LABEL = 'popgate'
export const FORWARD_SIGNATURE_TAG = 'popgate'
export const FORWARD_SIGNATURE_TTL_SEC = 60
/** Fields the gateway writes itself when it signs; the client's copies are dropped. */
export const FORWARD_SIGNATURE_FIELDS = ['signature', 'signature-input', 'content-digest'] as const

export interface ForwardTarget {
  readonly method: string
  /** `http` or `https`: the upstream's scheme. */
  readonly scheme: string
  /** The Host sent upstream. */
  readonly authority: string
  /** The path and query sent upstream. */
  readonly path: string
}

export interface ForwardSigner {
  /** Appends Content-Digest (with a body), Signature-Input and Signature to the flat upstream header list. */
  sign(target: ForwardTarget, headers: string[], body: Uint8Array | undefined, nowMs: number): void
  /** The signatures directory: every assertion key, public half only, keyed by thumbprint. */
  readonly directory: string
}

export function createForwardSigner(keys: readonly AssertionKey[], identityPrefix: string): ForwardSigner {
  const signer = keys[0]
  if (!signer) throw new Error('createForwardSigner: at least one key is required')
  const prefix = identityPrefix.toLowerCase().replaceAll('_', '-')
  const keyid = ecThumbprint(signer.publicJwk.x, signer.publicJwk.y)
  const directory = JSON.stringify({
    keys: keys.map((k) => ({ kty: 'EC', crv: 'P-256', x: k.publicJwk.x, y: k.publicJwk.y, kid: ecThumbprint(k.publicJwk.x, k.publicJwk.y), alg: 'ES256', use: 'sig' })),
  })
  return {
    directory,
    sign(target, headers, body, nowMs) {
      if (body !== undefined) headers.push('Content-Digest', contentDigestHeader(body))
      const components: string[] = ['@method', '@target-uri']
      for (let i = 0; i < headers.length; i += 2) {
        const name = headers[i]!.toLowerCase()
        if (name.startsWith(prefix) && !components.includes(name)) components.push(name)
      }
      if (body !== undefined) components.push('content-digest')
      const created = Math.floor(nowMs / 1000)
      const signed = signMessage({
        method: target.method, scheme: target.scheme, authority: target.authority, requestTarget: target.path, fieldValues: fieldsFromRaw(headers),
      }, {
        label: FORWARD_SIGNATURE_LABEL, components, alg: 'ecdsa-p256-sha256', key: signer.privateKey,
        params: { created, keyid, alg: true, expires: created + FORWARD_SIGNATURE_TTL_SEC, nonce: randomBytes(16).toString('base64url'), tag: FORWARD_SIGNATURE_TAG },
      })
      headers.push('Signature-Input', signed.signatureInput, 'Signature', signed.signature)
    },
  }
}
