// The seam every credential scheme plugs into (docs/architecture.md, "Adding
// a credential scheme"). What a scheme *is* per request lives here; how its
// folder is configured, built and closed is schemes/module.ts.
//
// A scheme is one module with three parts:
//   parse     — no I/O: the credential → a claim naming the identity
//   verify    — with the collaborators the scheme was built with (keys,
//               replay store, clock): the claim → a Principal
//   challenge — what a 401 (or an auth error) tells a client about this scheme
// The gate (pipeline/authenticate.ts) runs every scheme in the protocol's
// order: limits → parse → ACL → verify → the rule's policy → grants. A scheme
// never authorizes and never reads the ACL: by the time `verify` runs, the ACL
// has already said yes to the identity `parse` returned (PROTOCOL.md §2.3),
// and the gate refuses a Principal whose identity is not that one.

import type { GatewayError } from '../errors.js'
import type { Identity } from '../identity/domain.js'
import type { ChannelFacts } from '../http/channel.js'
import type { ChallengeParts } from '../http/respond.js'
import type { Rule } from '../acl/index.js'
import type { ClientCertificate } from '../tls/certificate.js'

export type { ChallengeParts }

/** The request's credential for one scheme: what selection found (schemes/registry.ts). */
export interface Credentials {
  /** The Authorization value, when its auth-scheme is this scheme's. */
  readonly authorization: string | undefined
  /** Other fields the scheme owns (lowercased name → value), when present. */
  readonly fields: ReadonlyMap<string, string> | undefined
  /** The value of the cookie the scheme owns (`ambient.cookie`), when it was selected by that cookie. */
  readonly cookie?: string | undefined
  /**
   * The client certificate, when the scheme takes one (`ambient.clientCertificate`)
   * and was selected by it: the socket's, or a trusted hop's RFC 9440
   * `Client-Cert` (tls/front-door.ts requestChannel), chained or not (the scheme decides).
   */
  readonly clientCertificate?: ClientCertificate | undefined
}

/**
 * The one per-request view a scheme (and a grant) reads, built once by the
 * gate. Nothing is read from the socket or buffered unless asked.
 */
export interface RequestView {
  readonly method: string
  /** The normalized path the ACL matched (http/target.ts). */
  readonly path: string
  /** The request target as received (origin-form, with the query): RFC 9421 `@path`/`@query`. */
  readonly target: string
  /** The one Host (or `:authority`), already validated as host[:port] (http/host.ts); undefined for HTTP/1.0 without one. */
  readonly authority: string | undefined
  /** The gate's clock, read once when the gate began. */
  readonly nowMs: number
  readonly channel: ChannelFacts
  /**
   * Any request field by lowercase name, read lazily from the raw header
   * list; several lines are combined as RFC 9110 §5.3 says (`, `; `; ` for
   * Cookie, RFC 6265 §5.4). Undefined when absent. A credential field a
   * scheme owns is checked once by selection: sent twice it is
   * `multiple_credentials` before any scheme runs.
   */
  field(name: string): string | undefined
  /** One cookie by name from the Cookie field(s) (RFC 6265 §5.4), or undefined. */
  cookie(name: string): string | undefined
  /** The client address (http/client-address.ts): what a key fetch the request causes is charged to, with the identity (issue 19). */
  readonly client: string
}

/** What `verify` (and only verify: after the ACL said yes) may also read. */
export interface VerifyView extends RequestView {
  /**
   * The request body, buffered once and at most `maxBytes` (more: 413
   * `body_too_large`, before anything is forwarded); the forwarder then sends
   * this buffer instead of the stream. Empty when the request has none.
   */
  body(maxBytes: number): Promise<Uint8Array>
}

/** What `parse` yields: at least the identity the credential claims. */
export interface Claim { readonly identity: Identity }

/**
 * What a Principal has proven beyond its identity, for the rule's policy
 * (`require:`, `channelBinding`, `sessions`). The scheme's own name is an
 * assurance too (the gate adds it).
 */
export type Assurance = 'channel-bound' | 'certificate-bound' | 'session' | 'body-signed'
export const ASSURANCES: readonly Assurance[] = ['channel-bound', 'certificate-bound', 'session', 'body-signed']

/** Who the request is from, once a scheme has verified it. Forwarded as identity headers (proxy/headers.ts). */
export interface Principal {
  /** Must equal the claim's identity (the one the ACL authorized); the gate refuses any other (401 identity_mismatch). */
  readonly identity: string
  /** The scheme's name: `X-PoP-Auth-Method`. */
  readonly method: string
  /** The key confirmation value (`X-PoP-Key-Thumbprint`): an RFC 7638 thumbprint, or `x5t#S256` for a certificate. */
  readonly thumbprint: string
  /**
   * The key confirmation the credential was bound to (RFC 7800 §3.1, RFC 9449
   * §6, RFC 8705 §3.1); written as the assertion's `cnf` (empty: `jkt` = thumbprint).
   */
  readonly confirmation: { readonly jkt?: string; readonly 'x5t#S256'?: string }
  /** Bound to this TLS connection (RFC 9266): the `channel-bound` assurance. */
  readonly channelBound: boolean
  /** Other assurances (certificate-bound, session, body-signed); `channel-bound` comes from `channelBound`. */
  readonly assurances?: ReadonlySet<Assurance>
  /**
   * The client certificate the principal proved possession of (the mtls
   * scheme), or that its token is bound to (RFC 8705 §3): its x5t#S256,
   * subject and the path it came by (`socket` or `header`).
   */
  readonly certificate?: ClientCertificate
  /** Token facts, for schemes that carry a token. */
  readonly token: { readonly sub?: string; readonly clientId?: string; readonly scopes?: readonly string[] } | undefined
  /** Header fields the response must carry (flat name, value, … list): a fresh nonce. Also on a WebSocket 101. */
  readonly responseHeaders: readonly string[] | undefined
  /** The credential asked for a session (a ticket or a cookie) for a grant to mint (PROTOCOL.md §4). */
  readonly sessionRequest?: SessionRequest
}

/**
 * What a proof that asked for a session carries for the grant (PROTOCOL.md §4):
 * `epk` and the HKDF inputs (the proof's nonce, aud and kid), and the `cb` it
 * was verified with (the ticket is then bound to it).
 */
export interface SessionRequest {
  readonly kind: 'ticket' | 'cookie'
  readonly epk?: unknown
  readonly nonce?: string
  readonly aud?: string
  readonly kid?: string
  readonly cb?: string
}

export interface Scheme<C extends Claim = Claim> {
  /** Lowercase word: the auth method in identity headers, logs, metrics and a rule's `require:`. */
  readonly name: string
  /** The Authorization auth-scheme this scheme owns (compared case-insensitively), if any. */
  readonly authScheme: string | undefined
  /**
   * Other Authorization auth-schemes routed to this scheme, so it can refuse
   * them with its own error (DPoP owns `Bearer` to refuse a bound token
   * presented as Bearer, RFC 9449 §7.2). `credentials.authorization` carries them.
   */
  readonly alsoAuthSchemes?: readonly string[]
  /**
   * Set when this scheme shares its auth-scheme with another and tells its
   * credentials apart by form (schemes/registry.ts): the Authorization
   * credentials (after the auth-scheme) go to the scheme whose `byForm` says
   * yes, else to the one sharing it without `byForm`. Schemes sharing an
   * auth-scheme share its owned fields too. (PROTOCOL.md §4: an issuer's JWS
   * and a gateway's ticket both come as `DomainPoP-Session`.) Cheap: it runs
   * on every request of that auth-scheme.
   */
  readonly byForm?: (credentials: string) => boolean
  /** Principals of this scheme carry token scopes: the ACL leaves a rule's `scopes` to the gate's policy step. */
  readonly carriesScopes?: boolean
  /** Other request fields it owns, lowercased (e.g. `dpop`). Credentials of two schemes in one request → 400. Never forwarded. */
  readonly fields: readonly string[]
  /**
   * Credentials found without a field of their own: a named cookie (only
   * that cookie is removed before forwarding; other cookies pass) or the TLS
   * client certificate. An explicit credential (Authorization or an owned
   * field) of any scheme wins over an ambient one.
   */
  readonly ambient?: { readonly cookie?: string; readonly clientCertificate?: true }
  /**
   * Credential fields (lowercase; may include `authorization`) a rule's
   * `forwardToken: true` passes on to the upstream, for an upstream that
   * reads the token itself. Undefined: `forwardToken` passes nothing.
   */
  readonly forwardable?: readonly string[]
  /** No I/O. Throws a GatewayError when the credential is malformed or fails a static check. */
  parse(credentials: Credentials, req: RequestView): C
  /** The claim → a principal; I/O only through what the scheme was built with. */
  verify(claim: C, req: VerifyView, rule: Rule): Promise<Principal>
  /** This scheme's challenge; `error` is set when the response reports one of its failures (or a failure of no scheme). */
  challenge(error: GatewayError | undefined): ChallengeParts
}

/**
 * A step after *any* scheme's success (its verify, then the rule's policy): may add
 * response fields, e.g. a session ticket or a `Set-Cookie` minted after a
 * DomainPoP success. They reach the client on plain responses and on
 * WebSocket 101s alike. Throwing a GatewayError refuses the request.
 */
export interface Grant {
  readonly name: string
  /** Flat [name, value, …] list of response fields, or undefined for none. */
  issue(principal: Principal, req: RequestView, rule: Rule): readonly string[] | undefined | Promise<readonly string[] | undefined>
}
