// The compiled ACL: what src/acl/parse.ts produces from `acl.yaml` and what
// the request pipeline reads on every request. Everything here is validated
// once at load time and frozen; nothing downstream re-checks shape
// (STYLE.md habit 2).

import type { Pos } from '../config/yaml-source.js'
import type { DomainPattern, Identity } from '../identity/domain.js'
import type { IdentityPolicy } from './identities.js'
import type { RuleTrie } from './trie.js'

/** Keys a rule may carry besides one key per declared verb. */
export const RULE_FIELDS = ['id', 'path', 'methods', 'public', 'channelBinding', 'sessions', 'scopes', 'mode', 'bodyOnGet', 'forwardToken', 'require', 'httpSignature', 'clientCertificate', 'forwardClientCert', 'cors'] as const

/**
 * `enforce` refuses what the rule denies; `report` forwards it anyway (without
 * identity headers unless the caller authenticated) and logs it as
 * `would_deny` (docs/acl.md, "Report mode").
 */
export type RuleMode = 'enforce' | 'report'

/** The verbs an ACL gets when it declares none (PROTOCOL.md has no say; the issue does). */
export const DEFAULT_VERBS: ReadonlyMap<string, readonly string[]> = new Map([
  ['read', ['GET', 'HEAD', 'OPTIONS']],
  ['write', ['POST', 'PUT', 'PATCH', 'DELETE']],
])

/** A rule's `httpSignature:` (docs/acl.md). */
export interface HttpSignatureDemand {
  readonly components: readonly string[]
  readonly nonce: 'required' | 'optional'
}

export interface Rule {
  /** 0-based position in `Acl.rules`, the same number problems print as `rules[i]`. */
  readonly index: number
  /** Explicit `id`, or `rule-<index + 1>`. Unique within one ACL. */
  readonly id: string
  /** The path pattern as written: `/reports/**`, `/users/*`, `/healthz`. */
  readonly path: string
  /** Methods this rule matches at all; undefined = every method. */
  readonly methods: ReadonlySet<string> | undefined
  /** Anyone passes, without authentication (never combined with grants). */
  readonly public: boolean
  /** verb → domain patterns allowed to use it. Only declared verbs appear; empty for public rules. */
  readonly grants: ReadonlyMap<string, readonly DomainPattern[]>
  /** PROTOCOL.md §5: `required` refuses proofs without a matching `cb`. */
  readonly channelBinding: 'required' | 'optional'
  /** PROTOCOL.md §4: false = every request must carry its own proof (no ticket, no cookie). */
  readonly sessions: boolean
  /** PROTOCOL.md §3: scopes a token must hold for this rule (schemes whose principals carry scopes: `carriesScopes`). */
  readonly scopes: readonly string[]
  /**
   * Schemes or assurances (`channel-bound`, `certificate-bound`, `session`,
   * `body-signed`) this path accepts: the principal's scheme or one of its
   * assurances must be among them (pipeline/policy.ts). Empty: any.
   */
  readonly require: readonly string[]
  /**
   * `required`: the request must come with a client certificate that chained
   * to the CA (on the socket, or from a trusted hop), whatever its scheme
   * (pipeline/policy.ts; docs/tls.md). `require: [mtls]` asks more: the
   * certificate is the credential.
   */
  readonly clientCertificate: 'required' | 'optional'
  /** Send the client certificate upstream as RFC 9440 `Client-Cert` (authenticated requests that carry one). */
  readonly forwardClientCert: boolean
  /** `report`: a denial is logged and counted, and the request forwarded. Public rules are always `enforce`. */
  readonly mode: RuleMode
  /** A body on GET, HEAD or OPTIONS is forwarded (default false: 400 body_not_allowed; issue 11 finding 3). */
  readonly bodyOnGet: boolean
  /** Forward the scheme's forwardable credential fields (a token and its proof) to the upstream, for an upstream that reads the token itself (default false: removed). */
  readonly forwardToken: boolean
  /**
   * HTTP Message Signatures (schemes/http-signature/): what a signature must
   * also cover on this path (`@method`, `@path`, `@query`, `content-digest`,
   * a field name…) and whether it must carry a nonce. Undefined: the profile's
   * defaults (unsafe methods: @method and @path).
   */
  readonly httpSignature: HttpSignatureDemand | undefined
  /**
   * `cors: { origins: [...] }`: the origins whose pages may read this rule's
   * answers, replacing the global `cors.origins` for it (http/cors.ts; an
   * empty list turns CORS off here). Undefined: the global list.
   */
  readonly cors: ReadonlySet<string> | undefined
  /** Where the rule starts in the ACL file. */
  readonly pos: Pos
}

export interface Acl {
  /** The file name problems and findings print (as given to the loader). */
  readonly file: string
  readonly rules: readonly Rule[]
  /** The top-level `mode`: what a rule without its own `mode` gets. */
  readonly mode: RuleMode
  /**
   * The top-level `unmatched`: `report` forwards a request no rule matches
   * (logged `would_deny`, reason `no_rule`) instead of refusing it. Absent
   * means `enforce`.
   */
  readonly unmatched?: RuleMode
  /** verb → its methods, in declaration order. */
  readonly verbs: ReadonlyMap<string, readonly string[]>
  /** METHOD → verb. A method belongs to at most one verb. */
  readonly verbOf: ReadonlyMap<string, string>
  /** The compiled path matcher: opaque, use `matchRule`. */
  readonly matcher: RuleTrie
  /** `revoke:` — identity → not-before time (ms) for its session tickets and cookies (acl/revoke.ts). */
  readonly revoke: ReadonlyMap<string, number>
  /** `groups:` name → the patterns it stands for (followed through nested groups). */
  readonly groups: ReadonlyMap<string, GroupInfo>
  /** `identities:` identity → its key-trust settings (pinning, new-key policy). */
  readonly identities: ReadonlyMap<Identity, IdentityPolicy>
}

export interface GroupInfo {
  readonly patterns: readonly DomainPattern[]
  readonly pos: Pos
  /** Some rule or group names it (lint reports the others). */
  readonly used: boolean
}

export type DenyReason =
  | 'no_rule'
  | 'method_not_granted'
  | 'identity_not_listed'
  /** The rule requires token scopes and the scheme carries none; a token scheme's scopes are checked by the gate. */
  | 'scope_missing'
  /** The rule is not public and no identity was given: the caller should challenge (401), not forbid. */
  | 'unauthenticated'

export type Decision =
  | { readonly allow: true; readonly rule: Rule; readonly verb: string }
  | { readonly allow: false; readonly rule: Rule | undefined; readonly verb: string | undefined; readonly reason: DenyReason }

/** Why `explain` passed over an earlier rule. */
export type PassReason = 'path' | 'method'

export interface Explanation {
  readonly file: string
  readonly identity: Identity | undefined
  readonly method: string
  readonly path: string
  /** The verb `method` maps to, if any. */
  readonly verb: string | undefined
  /** Every rule before the deciding one (all rules when none decides), with why it did not apply. */
  readonly passed: readonly { readonly rule: Rule; readonly why: PassReason }[]
  readonly decision: Decision
  /** For an allowed, non-public decision: the pattern that let the identity in. */
  readonly pattern: DomainPattern | undefined
}

export type LintKind =
  /** An earlier rule matches every request this one could match: it never decides. */
  | 'shadowed'
  /** The rule can decide, but can never allow anything. */
  | 'unreachable'
  /** Two rules share an id (parse refuses this; lint checks ACLs built in code too). */
  | 'duplicate_id'
  /** A `methods` entry maps to no verb: requests with it are always denied. */
  | 'unmapped_method'
  /** The rule is in report mode: what it denies is forwarded (a note: it does not fail lint). */
  | 'report_mode'
  /** `channelBinding: required`: met only on the gateway's own TLS 1.3 listener (a note; `check` warns when the config has none). */
  | 'channel_binding'
  /** The rule needs or forwards a client certificate: met only where the gateway has a certificate source (a note; `check` warns when the config has none). */
  | 'client_certificate'
  /** `require` names something no principal can hold here (a session with `sessions: false`, a name that is no scheme or assurance). */
  | 'unsatisfiable_require'
  /** A group no rule or group names. */
  | 'unused_group'
  /** An `identities:` entry that no rule's pattern lets in anywhere. */
  | 'unnamed_identity'

export interface LintFinding {
  /** For findings about `groups:` or `identities:`, the entry's key path (`groups.partners`); ruleId is then '' and index -1. */
  readonly where?: string
  readonly ruleId: string
  readonly index: number
  readonly pos: Pos
  readonly kind: LintKind
  readonly message: string
}
