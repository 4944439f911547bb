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

import { randomBytes, sign } from 'node:crypto'
import { GatewayError } from '../errors.js'
import { ecThumbprint, type AssertionKey } from '../secrets/assertion-keys.js'
import { normalizeAuthority } from '../proofs/http-signature/base.js'
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
  const tail = `;keyid="${keyid}";alg="ecdsa-p256-sha256";expires=`
  const key = { key: signer.privateKey, dsaEncoding: 'ieee-p1363' as const }
  return {
    directory,
    sign(target, headers, body, nowMs) {
      if (body !== undefined) headers.push('Content-Digest', contentDigestHeader(body))
      const created = Math.floor(nowMs / 1000)
      const nonce = randomBytes(16).toString('base64url')
      // Hot path (every forwarded request): the RFC 9421 §2.5 base written
      // directly rather than through the generic builder, which parses and
      // re-serializes structured fields (measured: about half the cost of
      // signing a public request on this machine). signatureBaseFor() is
      // the generic builder's twin; test/unit/proxy/forward-signature.test.ts
      // pins the two to the same bytes.
      const uri = `${target.scheme}://${normalizeAuthority(target.authority, target.scheme)}${target.path}`
      if (UNSAFE.test(uri) || UNSAFE.test(target.method)) {
        throw new GatewayError('bad_request', 'the request cannot be signed for the upstream')
      }
      let ids = '"@method" "@target-uri"'
      let base = `"@method": ${target.method}\n"@target-uri": ${uri}\n`
      const seen: string[] = []
      for (let i = 0; i < headers.length; i += 2) {
        const name = headers[i]!.toLowerCase()
        if (!name.startsWith(prefix) || seen.includes(name)) continue
        seen.push(name)
        const value = headers[i + 1]!.trim()
        // The gateway's own values are printable ASCII (schemes check what they copy); a stray one is refused, never signed.
        if (UNSAFE.test(value)) throw new GatewayError('internal_error', 'an identity header value is not printable ASCII')
        ids += ` "${name}"`
        base += `"${name}": ${value}\n`
      }
      if (body !== undefined) {
        ids += ' "content-digest"'
        base += `"content-digest": ${headers[headers.indexOf('Content-Digest') + 1]}\n`
      }
      const params = `(${ids});created=${created}${tail}${created + FORWARD_SIGNATURE_TTL_SEC};nonce="${nonce}";tag="${FORWARD_SIGNATURE_TAG}"`
      base += `"@signature-params": ${params}`
      const sig = sign('sha256', Buffer.from(base, 'latin1'), key).toString('base64')
      headers.push('Signature-Input', `${FORWARD_SIGNATURE_LABEL}=${params}`, 'Signature', `${FORWARD_SIGNATURE_LABEL}=:${sig}:`)
    },
  }
}

/** Control characters and non-ASCII: what a signature base line must not hold (RFC 9421 §2.5). */
const UNSAFE = /[\x00-\x08\x0a-\x1f\x7f-\uffff]/
