// Which request headers reach the upstream (PROTOCOL.md §7). Compiled once per
// config into a HeaderPlan; applied per request to req.rawHeaders.
//
// Order matters (oauth2-proxy's lesson): client-sent identity headers are
// removed *before* the gateway adds its own.

import type { BlockList } from 'node:net'
import type { IncomingMessage } from 'node:http'
import type { Config } from '../config/types.js'
import { compileTrustedProxies, isTrustedPeer } from '../http/client-address.js'
import { compileStripList, hasStrippedPrefix, UNTRUSTED_FORWARDING, type StripList } from './identity-strip.js'
import { FORWARD_SIGNATURE_FIELDS } from './forward-signature.js'
import type { ClientCertificate } from '../tls/certificate.js'

/** RFC 9110 §7.6.1 hop-by-hop fields, plus legacy ones proxies also drop. */
export const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'trailer', 'upgrade', 'proxy-authorization', 'proxy-authenticate',
  // RFC 9113 §3.2.1 (RFC 7540): connection-specific; an HTTP/2 response carrying it would make Node warn on every request.
  'http2-settings'])

/** What the identity headers say: the parts of a Principal (schemes/types.ts) the upstream sees. */
export interface IdentityHeaders {
  readonly identity: string
  /** The scheme's name (`domainpop`, …). */
  readonly method: string
  readonly thumbprint: string
  readonly channelBound?: boolean
  /** The client certificate it proved (mtls) or its token is bound to (RFC 8705): X-PoP-Subject is its subject when no token names one. */
  readonly certificate?: ClientCertificate | undefined
  /** Token facts (DPoP): X-PoP-Subject, X-PoP-Client-Id, X-PoP-Scope when present. */
  readonly token?: { readonly sub?: string; readonly clientId?: string; readonly scopes?: readonly string[] } | undefined
}


export interface HeaderPlan {
  /** Lowercased prefix with `_` treated as `-`, e.g. `x-pop-`. */
  readonly prefixKey: string
  readonly names: {
    readonly identity: string; readonly method: string; readonly thumbprint: string; readonly channelBound: string; readonly assertion: string
    readonly subject: string; readonly clientId: string; readonly scope: string
  }
  /** Names never forwarded, lowercased with `_` as `-`: credentials, and the strip list's exact names (one Set lookup per header). */
  readonly drop: ReadonlySet<string>
  /** Cookies schemes own (a credential): removed from Cookie, the other cookies pass; undefined when none. */
  readonly ownedCookies: ReadonlySet<string> | undefined
  /** Identity headers of other systems and URL/method rewriting headers (proxy/identity-strip.ts). */
  readonly strip: StripList
  readonly trusted: BlockList | undefined
  /** Host (with port) of publicOrigin: X-Forwarded-Host for untrusted peers. */
  readonly publicHost: string
  /** The Host sent upstream (`upstreamHost`); undefined: the client's, already validated (http/host.ts). */
  readonly upstreamHost: string | undefined
}

/**
 * `credentialFields`: lowercased fields credentials travel in (the enabled
 * schemes' and the modules' `credentialFields`), so never forwarded;
 * `ownedCookies`: cookie names schemes own.
 */
export function compileHeaderPlan(cfg: Pick<Config, 'identityHeaders' | 'trustedProxies' | 'publicOrigin' | 'upstream' | 'upstreamHost'>, credentialFields: Iterable<string> = [], ownedCookies: ReadonlySet<string> = new Set()): HeaderPlan {
  const prefix = cfg.identityHeaders.prefix
  // `expect`: Node answers 100-continue itself; undici refuses to send it.
  // (URL and method overrides are in the strip list, proxy/identity-strip.ts.)
  const drop = new Set(['expect'])
  if (!cfg.identityHeaders.forwardAuthorization) drop.add('authorization')
  // The gateway's own signature is the only one the upstream sees (proxy/forward-signature.ts).
  if (cfg.identityHeaders.signature) for (const f of FORWARD_SIGNATURE_FIELDS) drop.add(f)
  for (const f of credentialFields) drop.add(headerKey(f))
  const strip = compileStripList(cfg.identityHeaders.strip)
  for (const name of strip.names) drop.add(name)
  const host = cfg.upstreamHost
  return {
    prefixKey: headerKey(prefix),
    names: { identity: prefix + 'Identity', method: prefix + 'Auth-Method', thumbprint: prefix + 'Key-Thumbprint', channelBound: prefix + 'Channel-Bound', assertion: prefix + 'Assertion',
      subject: prefix + 'Subject', clientId: prefix + 'Client-Id', scope: prefix + 'Scope' },
    drop,
    ownedCookies: ownedCookies.size > 0 ? ownedCookies : undefined,
    strip,
    trusted: compileTrustedProxies(cfg.trustedProxies),
    publicHost: new URL(cfg.publicOrigin).host,
    upstreamHost: host === 'client' ? undefined : host === 'upstream' ? cfg.upstream.host : host.literal,
  }
}

const CLOSE_ONLY: ReadonlySet<string> = new Set(['close'])

/**
 * RFC 9110 §7.6.1: the field names a Connection header lists are hop-by-hop
 * too. The usual values cost no Set: `keep-alive` names a field HOP_BY_HOP
 * already drops, and `close` gets one shared Set.
 */
export function connectionTokens(value: string | readonly string[] | undefined): ReadonlySet<string> | undefined {
  if (value === undefined) return undefined
  const lower = String(value).toLowerCase()
  if (lower === 'keep-alive' || lower === '') return undefined
  if (lower === 'close') return CLOSE_ONLY
  return new Set(lower.split(',').map((t) => t.trim()))
}

/** Is this lowercased field hop-by-hop: always (HOP_BY_HOP), or because the message's Connection header lists it? */
export function isHopByHop(lowerName: string, listed: ReadonlySet<string> | undefined): boolean {
  return HOP_BY_HOP.has(lowerName) || listed?.has(lowerName) === true
}

/**
 * Does the lowercased header name start with the identity prefix, `_` read
 * as `-` (so `X_PoP_Identity` is caught too)? The same test as
 * `headerKey(name).startsWith(prefixKey)`, without building a string per header.
 */
export function underIdentityPrefix(lowerName: string, prefixKey: string): boolean {
  if (lowerName.length < prefixKey.length) return false
  for (let i = 0; i < prefixKey.length; i++) {
    const c = lowerName.charCodeAt(i)
    if ((c === 0x5f ? 0x2d : c) !== prefixKey.charCodeAt(i)) return false
  }
  return true
}

/** A Cookie field value without the named cookies (RFC 6265 §5.4 `name=value; …`); '' when none is left. */
export function withoutCookies(value: string, names: ReadonlySet<string>): string {
  const kept: string[] = []
  for (const part of value.split(';')) {
    const eq = part.indexOf('=')
    const name = (eq < 0 ? part : part.slice(0, eq)).trim()
    if (name === '' || names.has(name)) continue
    kept.push(part.trim())
  }
  return kept.join('; ')
}

/** Case-insensitive, `_` as `-`: how identity-prefix matching sees a header name. */
export const headerKey = (name: string): string => name.toLowerCase().replaceAll('_', '-')

/**
 * Builds the flat [name, value, …] list sent upstream. Drops hop-by-hop
 * fields (and those named in Connection), every header under the identity
 * prefix, credentials, other systems' identity headers (the strip list), and
 * untrusted X-Forwarded-*; then appends Host when `upstreamHost` replaces
 * the client's, X-Forwarded-For/Proto/Host and, when authenticated, the
 * identity headers (and the signed assertion, proxy/assertion.ts, when one
 * is given). Names are matched case-insensitively with `_` read as `-`
 * (CGI-style upstreams see `X_Forwarded_Host` as `X-Forwarded-Host`); the
 * common name without `_` costs no copy.
 */
export function upstreamHeaders(req: IncomingMessage, plan: HeaderPlan, identity: IdentityHeaders | undefined, opts: { upgrade?: boolean; assertion?: string; keep?: ReadonlySet<string> | undefined; requestId?: string; clientCert?: ClientCertificate | undefined } = {}): string[] {
  const raw = req.rawHeaders
  const trustedPeer = isTrustedPeer(plan.trusted, req.socket.remoteAddress)
  const listed = connectionTokens(req.headers.connection)

  const out: string[] = []
  let xff: string | undefined, xfp: string | undefined, xfh: string | undefined
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!
    // HTTP/2 pseudo-header fields (RFC 9113 §8.3) are not HTTP/1.1 fields; `:authority` is the Host (§8.3.1).
    if (name.charCodeAt(0) === 0x3a) {
      if (name === ':authority' && plan.upstreamHost === undefined) out.push('Host', raw[i + 1]!)
      continue
    }
    const lower = name.toLowerCase()
    const key = lower.indexOf('_') === -1 ? lower : lower.replaceAll('_', '-')
    if (isHopByHop(key, listed)) continue
    // `keep`: the scheme's forwardable credential fields, when the rule says forwardToken (the upstream reads the token itself).
    if (plan.drop.has(key) && opts.keep?.has(key) !== true) continue
    if (underIdentityPrefix(key, plan.prefixKey)) continue
    if (hasStrippedPrefix(key, plan.strip)) continue
    if (key === 'host' && plan.upstreamHost !== undefined) continue
    if (key === 'x-forwarded-for') { if (trustedPeer) xff = xff ? `${xff}, ${raw[i + 1]}` : raw[i + 1]; continue }
    if (key === 'x-forwarded-proto') { if (trustedPeer) xfp ??= raw[i + 1]; continue }
    if (key === 'x-forwarded-host') { if (trustedPeer) xfh ??= raw[i + 1]; continue }
    if (!trustedPeer && UNTRUSTED_FORWARDING.has(key)) continue
    if (key === 'x-request-id' && opts.requestId !== undefined) continue // ours replaces it (the same value when it was valid)
    if (key === 'cookie' && plan.ownedCookies !== undefined) {
      const rest = withoutCookies(raw[i + 1]!, plan.ownedCookies)
      if (rest !== '') out.push(name, rest)
      continue
    }
    out.push(name, raw[i + 1]!)
  }
  if (opts.requestId !== undefined) out.push('X-Request-Id', opts.requestId)
  if (plan.upstreamHost !== undefined) out.push('Host', plan.upstreamHost)
  if (opts.upgrade) out.push('Connection', 'Upgrade', 'Upgrade', req.headers.upgrade ?? 'websocket')
  const peer = req.socket.remoteAddress ?? ''
  out.push('X-Forwarded-For', xff ? `${xff}, ${peer}` : peer)
  out.push('X-Forwarded-Proto', xfp ?? ((req.socket as { encrypted?: boolean }).encrypted ? 'https' : 'http'))
  // The client's Host is not trusted to name the site: the configured origin is.
  out.push('X-Forwarded-Host', xfh ?? plan.publicHost)
  if (identity) {
    out.push(plan.names.identity, identity.identity, plan.names.method, identity.method, plan.names.thumbprint, identity.thumbprint)
    if (identity.channelBound) out.push(plan.names.channelBound, 'true')
    const token = identity.token
    if (token !== undefined) {
      // The scheme accepted only printable ASCII for these (proofs/access-token.ts).
      if (token.sub !== undefined) out.push(plan.names.subject, token.sub)
      if (token.clientId !== undefined) out.push(plan.names.clientId, token.clientId)
      if (token.scopes !== undefined && token.scopes.length > 0) out.push(plan.names.scope, token.scopes.join(' '))
    }
    // The certificate's subject (its x5t#S256 is the thumbprint above), unless a token named the subject.
    if (identity.certificate !== undefined && token?.sub === undefined) out.push(plan.names.subject, headerSafeSubject(identity.certificate.subject))
    // RFC 9440 §2.2: the certificate as a byte sequence, when the rule asks; any client-sent copy was dropped above (the strip list).
    if (opts.clientCert !== undefined) out.push('Client-Cert', `:${opts.clientCert.der.toString('base64')}:`)
    if (opts.assertion !== undefined) out.push(plan.names.assertion, opts.assertion)
  }
  return out
}

/** A distinguished name as a header value: printable ASCII (others become `?`), at most 1024 characters. */
export function headerSafeSubject(dn: string): string {
  return dn.replace(/[^\x20-\x7e]/g, '?').slice(0, 1024)
}
