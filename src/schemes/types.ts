// The seam every credential scheme plugs into (docs/architecture.md).
//
// A scheme is one module with three parts:
//   parse     — no I/O: the credential fields → a claim naming the identity
//   verify    — with the collaborators the scheme was built with (keys,
//               replay store, clock): the claim → a Principal
//   challenge — what a 401 (or an auth error) tells a client about this scheme
// The gate (pipeline/authenticate.ts) runs every scheme in the protocol's
// order: limits → parse → ACL → verify → the rule's policy. A scheme never
// authorizes and never reads the ACL: by the time `verify` runs, the ACL has
// already said yes to the identity `parse` returned (PROTOCOL.md §2.3).

import type { GatewayError } from '../errors.js'
import type { Identity } from '../identity/domain.js'
import type { ChannelFacts } from '../http/channel.js'
import type { Rule } from '../acl/index.js'

/** The request's credential fields that belong to one scheme. */
export interface Credentials {
  /** The Authorization value, when its auth-scheme is this scheme's. */
  readonly authorization: string | undefined
  /** Other fields the scheme owns (lowercased name → value), when present. */
  readonly fields: ReadonlyMap<string, string> | undefined
}

/** Per-request facts a scheme may check a credential against. */
export interface RequestContext {
  readonly method: string
  /** The normalized path the ACL matched (http/target.ts). */
  readonly path: string
  readonly nowMs: number
  readonly channel: ChannelFacts
  /** The client address (http/client-address.ts): what a key fetch the request causes is charged to, with the identity. */
  readonly client?: string
}

/** What `parse` yields: at least the identity the credential claims. */
export interface Claim { readonly identity: Identity }

/** Who the request is from, once a scheme has verified it. Forwarded as identity headers (proxy/headers.ts). */
export interface Principal {
  readonly identity: string
  /** The scheme's name: `X-PoP-Auth-Method`. */
  readonly method: string
  /** RFC 7638 SHA-256 thumbprint of the key that proved possession. */
  readonly thumbprint: string
  /** The key confirmation the credential was bound to (RFC 7800 §3.1, RFC 9449 §6, RFC 8705 §3.1). */
  readonly confirmation: { readonly jkt?: string; readonly 'x5t#S256'?: string }
  /** Bound to this TLS connection (RFC 9266). */
  readonly channelBound: boolean
  /** Token facts, for schemes that carry a token. */
  readonly token: { readonly sub?: string; readonly clientId?: string; readonly scopes?: readonly string[] } | undefined
  /** Header fields the response must carry (flat name, value, … list): a fresh nonce, a ticket, a Set-Cookie. */
  readonly responseHeaders: readonly string[] | undefined
}

/** One scheme's part of a 401 (or of an error that carries an auth error). */
export interface ChallengeParts {
  /** One WWW-Authenticate field value (RFC 9110 §11.6.1). */
  readonly field: string
  /** Other header fields (flat name, value, … list), e.g. a nonce header. */
  readonly headers?: readonly string[]
  /** Members added to the problem+json body, e.g. `nonce`. */
  readonly body?: Readonly<Record<string, string>>
}

export interface Scheme<C extends Claim = Claim> {
  /** Lowercase word: the auth method in identity headers, logs and metrics. */
  readonly name: string
  /** The Authorization auth-scheme this scheme owns (compared case-insensitively), if any. */
  readonly authScheme: string | undefined
  /**
   * Other Authorization auth-schemes routed to this scheme, so it can refuse
   * them with its own error (DPoP owns `Bearer` to refuse a bound token
   * presented as Bearer, RFC 9449 §7.2). `credentials.authorization` carries them.
   */
  readonly alsoAuthSchemes?: readonly string[]
  /** Principals of this scheme carry token scopes: the ACL leaves a rule's `scopes` to the gate's policy step. */
  readonly carriesScopes?: boolean
  /** Other request fields it owns, lowercased (e.g. `dpop`). Credentials of two schemes in one request → 400. */
  readonly fields: readonly string[]
  /** No I/O. Throws a GatewayError when the credential is malformed or fails a static check. */
  parse(credentials: Credentials, ctx: RequestContext): C
  /** The claim → a principal; I/O only through what the scheme was built with. */
  verify(claim: C, ctx: RequestContext, rule: Rule): Promise<Principal>
  /** This scheme's challenge; `error` is set when the response reports one of its failures (or a failure of no scheme). */
  challenge(error: GatewayError | undefined): ChallengeParts
}
