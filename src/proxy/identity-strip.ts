// Identity headers of other systems, never forwarded from a client (issue 11
// finding 5). An upstream that used to sit behind an auth proxy, a TLS
// terminator or a cloud front door may still trust these; the gateway is now
// the only one who says who the caller is (its own identity headers,
// proxy/headers.ts). Compiled once per config into a StripList; matching is
// case-insensitive with `_` read as `-`, like the identity prefix (CGI-style
// upstreams turn both into `_`). An entry ending in `*` is a prefix.
//
// Who reads what (the default list; docs/configuration.md repeats it):
//   generic auth-proxy conventions: Apache REMOTE_USER as X-Remote-User,
//     Authelia / Caddy forward_auth Remote-User|Groups|Name|Email, nginx
//     auth_request examples X-User / X-Email, Grafana X-WEBAUTH-USER,
//     SiteMinder SM_USER (Spring's RequestHeaderAuthenticationFilter default)
//   oauth2-proxy: X-Forwarded-User|Email|Preferred-Username|Groups|Access-Token,
//     X-Auth-Request-*, GAP-Auth; lua-resty-openidc / Kong OIDC X-Userinfo, X-Id-Token
//   Pomerium X-Pomerium-*, Vouch X-Vouch-*, Tailscale serve Tailscale-User-*,
//     Kong X-Consumer-*, X-Authenticated-Userid|Scope, X-Credential-Identifier,
//     X-Anonymous-Consumer; Keycloak Gatekeeper X-Auth-Userid|Username|Email|
//     Roles|Groups|Subject; Apache mod_auth_openidc OIDC_CLAIM_*, OIDC_access_token, OIDC_id_token
//   client certificates: RFC 9440 Client-Cert(-Chain) (Cloudflare), Apache
//     mod_ssl / nginx / HAProxy conventions X-SSL-Client-*, X-SSL-Cert,
//     X-Client-Cert(-*), X-Client-Verify, X-Client-DN, ingress-nginx
//     Ssl-Client-*, Envoy X-Forwarded-Client-Cert (XFCC), Traefik
//     X-Forwarded-Tls-Client-Cert(-Info), IIS/ARR and Azure App Service
//     X-ARR-ClientCert, AWS ALB X-Amzn-Mtls-*, CloudFront CloudFront-Viewer-Cert-*
//   cloud front doors: AWS ALB X-Amzn-Oidc-*, Cloudflare Access Cf-Access-*,
//     GCP IAP X-Goog-Authenticated-User-* and X-Goog-Iap-Jwt-Assertion,
//     Azure App Service X-MS-CLIENT-PRINCIPAL* and X-MS-TOKEN-*
//   URL and method rewriting some frameworks obey: X-Original-URL,
//     X-Rewrite-URL (IIS, Symfony, Laminas), X-Original-URI / -Method (nginx
//     auth_request), X-Forwarded-Uri / -Method (Traefik forward auth,
//     Authelia), X-Envoy-Original-Path, X-HTTP-Method-Override, X-HTTP-Method,
//     X-Method-Override (Express method-override, Rails, Symfony, ASP.NET)

/** The built-in list; `identityHeaders.strip` adds to it (never replaces it). */
export const DEFAULT_STRIP: readonly string[] = Object.freeze([
  'X-Remote-User', 'Remote-User', 'Remote-Groups', 'Remote-Name', 'Remote-Email', 'X-Remote-Group', 'X-Remote-Groups',
  'X-User', 'X-Email', 'X-Userinfo', 'X-WEBAUTH-*', 'SM-User', 'SM-Universalid',
  'X-Forwarded-User', 'X-Forwarded-Email', 'X-Forwarded-Preferred-Username', 'X-Forwarded-Groups', 'X-Forwarded-Access-Token',
  'X-Auth-Request-*', 'GAP-Auth', 'X-Id-Token',
  'X-Pomerium-*', 'X-Vouch-*', 'Tailscale-User-*',
  'X-Consumer-*', 'X-Authenticated-Userid', 'X-Authenticated-Scope', 'X-Credential-Identifier', 'X-Anonymous-Consumer',
  'X-Auth-Userid', 'X-Auth-Username', 'X-Auth-Email', 'X-Auth-Roles', 'X-Auth-Groups', 'X-Auth-Subject',
  'OIDC-Claim-*', 'OIDC-Access-Token', 'OIDC-Id-Token',
  'Client-Cert', 'Client-Cert-Chain', 'X-Client-Cert', 'X-Client-Cert-*', 'X-SSL-Client-*', 'X-SSL-Cert', 'Ssl-Client-*',
  'X-Forwarded-Client-Cert', 'X-Forwarded-Tls-Client-Cert*', 'X-ARR-ClientCert', 'X-Client-Verify', 'X-Client-DN',
  'X-Amzn-Mtls-*', 'CloudFront-Viewer-Cert-*',
  'X-Amzn-Oidc-*', 'Cf-Access-*', 'X-Goog-Authenticated-User-*', 'X-Goog-Iap-Jwt-Assertion', 'X-MS-CLIENT-PRINCIPAL*', 'X-MS-TOKEN-*',
  'X-Original-URL', 'X-Rewrite-URL', 'X-Original-URI', 'X-Original-Method', 'X-Forwarded-Uri', 'X-Forwarded-Method', 'X-Envoy-Original-Path',
  'X-HTTP-Method-Override', 'X-HTTP-Method', 'X-Method-Override',
])

export interface StripList {
  /** Exact names, lowercased, `_` as `-`. */
  readonly names: ReadonlySet<string>
  /** Prefixes of 4 characters or more, bucketed by their first four (`head4`), lowercased, `_` as `-`. */
  readonly prefixes: ReadonlyMap<number, readonly string[]>
  /** Prefixes shorter than 4 characters (only ever configured ones), scanned one by one. */
  readonly shortPrefixes: readonly string[]
}

/** Lowercased, `_` as `-`: how the strip list (and the identity prefix) sees a header name. */
export const stripKey = (name: string): string => name.toLowerCase().replaceAll('_', '-')

/** The first four char codes as one number: a Map key that costs no substring. */
const head4 = (s: string): number => ((s.charCodeAt(0) * 128 + s.charCodeAt(1)) * 128 + s.charCodeAt(2)) * 128 + s.charCodeAt(3)

/** The default list plus `extra` (entries as validated by the config loader). */
export function compileStripList(extra: readonly string[] = []): StripList {
  const names = new Set<string>()
  const prefixes = new Map<number, string[]>()
  const shortPrefixes: string[] = []
  for (const entry of [...DEFAULT_STRIP, ...extra]) {
    if (!entry.endsWith('*')) { names.add(stripKey(entry)); continue }
    const prefix = stripKey(entry.slice(0, -1))
    if (prefix.length < 4) { if (!shortPrefixes.includes(prefix)) shortPrefixes.push(prefix); continue }
    const bucket = prefixes.get(head4(prefix)) ?? []
    if (!bucket.includes(prefix)) bucket.push(prefix)
    prefixes.set(head4(prefix), bucket)
  }
  return { names, prefixes, shortPrefixes }
}

/**
 * `key` is a header name already lowercased with `_` as `-`. One Set lookup
 * and one Map lookup by the first four characters (no substring, no
 * allocation); most names find no bucket at all.
 */
export function isStripped(key: string, list: StripList): boolean {
  if (list.names.has(key)) return true
  if (key.length >= 4) {
    const bucket = list.prefixes.get(head4(key))
    if (bucket !== undefined) for (let i = 0; i < bucket.length; i++) if (key.startsWith(bucket[i]!)) return true
  }
  const short = list.shortPrefixes
  for (let i = 0; i < short.length; i++) if (key.startsWith(short[i]!)) return true
  return false
}
