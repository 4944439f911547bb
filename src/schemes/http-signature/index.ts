// HTTP Message Signatures (RFC 9421) in the Web Bot Auth profile
// (draft-ietf-webbotauth-httpsig-protocol-01) as a credential scheme.
//
//   fields    Signature-Input, Signature, Signature-Agent (owned: never forwarded)
//   parse     no I/O: the structured fields, the profile's checks (covered
//             @authority or @target-uri and the agent, our authority, the
//             created/expires window, the tag, @method and @path on unsafe
//             methods), the agent URL → identity = its host, so the ACL
//             decides before anything is fetched
//   verify    the rule's demands (httpSignature: components, nonce), the
//             agent's directory key by (directory URL, keyid), the signature
//             over the §2.5 base, the body against Content-Digest (read
//             bounded, before forwarding), the nonce single use
//   challenge no WWW-Authenticate scheme exists for RFC 9421: an
//             Accept-Signature field (§5.1) saying what is wanted
// Principal: method `http-signature`, thumbprint = keyid (the key's RFC 7638
// thumbprint), `body-signed` when Content-Digest was covered and checked.

import { GatewayError } from '../../errors.js'
import type { Rule } from '../../acl/index.js'
import type { MessageView } from '../../proofs/http-signature/base.js'
import type { HttpSignatureAlgorithm } from '../../proofs/http-signature/algorithms.js'
import { checkRouteDemand } from '../../proofs/http-signature/policy.js'
import {
  acceptSignature, NO_DEMAND, readHttpSignature, verifyHttpSignature, type HttpSignatureClaim, type HttpSignatureSettings, type RouteDemand,
} from '../../proofs/http-signature/request.js'
import type { SignatureDirectoryReader } from '../../keys/signature-directory.js'
import type { SchemeReplay } from '../module.js'
import type { KeyTrust } from '../../keys/trust.js'
import type { Assurance, Credentials, RequestView, Scheme } from '../types.js'

export const HTTP_SIGNATURE_SCHEME = 'http-signature'
export const SIGNATURE_FIELDS = ['signature-input', 'signature', 'signature-agent'] as const

export interface HttpSignatureSchemeDeps {
  readonly settings: HttpSignatureSettings
  /** The gateway's public scheme (`https`): what @scheme and @target-uri say. */
  readonly publicScheme: string
  readonly maxBodyBytes: number
  readonly directory: Pick<SignatureDirectoryReader, 'getKey'>
  /** The control point for keys learnt from a domain (keys/trust.ts): keyid (a thumbprint) against the pins before the fetch; records and newKeys after. */
  readonly keyTrust: KeyTrust
  readonly replay: SchemeReplay
}

interface Claim extends HttpSignatureClaim {
  readonly view: MessageView
  readonly nowSec: number
}

/** The request as RFC 9421 sees it: what was received, with the gateway's public scheme. */
function messageView(req: RequestView, credentials: Credentials, publicScheme: string): MessageView {
  return {
    method: req.method,
    scheme: publicScheme,
    authority: req.authority ?? '',
    requestTarget: req.target,
    fieldValues: (name) => {
      const v = credentials.fields?.get(name) ?? req.field(name)
      return v === undefined ? undefined : [v]
    },
  }
}

const ruleDemand = (rule: Rule): RouteDemand => rule.httpSignature ?? NO_DEMAND

export function createHttpSignatureScheme(deps: HttpSignatureSchemeDeps): Scheme<Claim> {
  const { settings } = deps
  const accept = acceptSignature('GET', NO_DEMAND, settings.tag)
  return {
    name: HTTP_SIGNATURE_SCHEME,
    authScheme: undefined,
    fields: [...SIGNATURE_FIELDS],
    parse(credentials, req) {
      const view = messageView(req, credentials, deps.publicScheme)
      const nowSec = Math.floor(req.nowMs / 1000)
      return { ...readHttpSignature(view, settings, NO_DEMAND, nowSec), view, nowSec }
    },
    async verify(claim, req, rule) {
      checkRouteDemand(claim.checked.entry, req.method, ruleDemand(rule))
      const verified = await verifyHttpSignature(claim, claim.view, {
        getKey: (url, identity, keyid) => {
          deps.keyTrust.checkPin(identity, keyid, HTTP_SIGNATURE_SCHEME)
          return deps.directory.getKey(url, identity, keyid, req.client)
        },
        firstUse: (key, ttlMs) => deps.replay.firstUse(key, ttlMs),
        algorithms: settings.algorithms,
        clockSkewSec: settings.clockSkewSec,
        body: async () => {
          const body = await req.body(deps.maxBodyBytes)
          return body.length === 0 ? undefined : body
        },
      }, claim.nowSec)
      await deps.keyTrust.admit({ identity: claim.identity, thumbprint: verified.thumbprint, alg: verified.alg, scheme: HTTP_SIGNATURE_SCHEME, url: claim.agent.keysUrl.href })
      const bodySigned = claim.checked.entry.components.some(([n]) => n === 'content-digest')
      return {
        identity: claim.identity,
        method: HTTP_SIGNATURE_SCHEME,
        thumbprint: verified.thumbprint,
        confirmation: { jkt: verified.thumbprint },
        channelBound: false,
        assurances: bodySigned ? new Set<Assurance>(['body-signed']) : undefined,
        token: undefined,
        responseHeaders: undefined,
      }
    },
    challenge(error: GatewayError | undefined) {
      // RFC 9421 §5.1: no WWW-Authenticate scheme; the wanted signature instead.
      void error
      return { headers: ['Accept-Signature', accept] }
    },
  }
}

export type { HttpSignatureAlgorithm }
