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
//   more identity-like names (issue 19): X-Authenticated-* (Kong's
//     X-Authenticated-Userid|Scope, X-Authenticated-User of WSO2 and several
//     API gateways, X-Authenticated-Groups), X-Credential-* (Kong
//     X-Credential-Identifier|Username), X-Auth-User (Django RemoteUser
//     examples, Nextcloud/Seafile proxy auth), X-Remote-Userid, X-Proxy-User,
//     X-Forwarded-Login, X-Webproxy-User, X-Authorized-User
//
// UNTRUSTED_FORWARDING (below) is the other half: what a front proxy sets
// about the connection and the URL, believed from peers in trustedProxies
// only. Who believes them:
//   scheme: Rack (Rack::Request#scheme) X-Forwarded-Scheme, X-Forwarded-Ssl,
//     X-Url-Scheme; Rails/Rack, OWA and ISA Front-End-Https; nginx configs
//     X-Scheme; Werkzeug/Django SECURE_PROXY_SSL_HEADER setups
//     X-Forwarded-Protocol; ASP.NET Core X-Original-Proto; IIS ARR X-ARR-SSL
//   URL: Spring/ASP.NET/Werkzeug X-Forwarded-Prefix, ASP.NET Core
//     X-Original-Prefix, X-Forwarded-Path (Kong, Zuul), X-Script-Name
//     (Werkzeug, gunicorn setups)
//   host: X-Original-Host (ASP.NET Core, Azure Front Door), X-Host,
//     X-HTTP-Host-Override, X-Forwarded-Server (Apache mod_proxy)
//   client address: RFC 7239 Forwarded; Rails remote_ip Client-IP;
//     X-Real-IP (nginx); X-Cluster-Client-IP (Rackspace, Riverbed);
//     X-Forwarded and Forwarded-For (Symfony, Laravel TrustProxies, older
//     proxies); X-Client-IP, True-Client-IP (Akamai, Cloudflare),
//     CF-Connecting-IP, Fastly-Client-IP, X-Original-For (ASP.NET Core),
//     X-Originating-IP, X-Remote-IP, X-Remote-Addr, X-ProxyUser-IP (Google),
//     X-Envoy-External-Address, X-Azure-ClientIP, X-Azure-SocketIP,
//     X-Appengine-User-IP, X-Forwarded-By (Tomcat RemoteIpValve)
// (X-Forwarded-For, -Proto and -Host are rebuilt by proxy/headers.ts.)

/** The built-in list; `identityHeaders.strip` adds to it (never replaces it). */
export const DEFAULT_STRIP: readonly string[] = Object.freeze([
  'X-Remote-User', 'Remote-User', 'Remote-Groups', 'Remote-Name', 'Remote-Email', 'X-Remote-Group', 'X-Remote-Groups',
  'X-User', 'X-Email', 'X-Userinfo', 'X-WEBAUTH-*', 'SM-User', 'SM-Universalid',
  'X-Forwarded-User', 'X-Forwarded-Email', 'X-Forwarded-Preferred-Username', 'X-Forwarded-Groups', 'X-Forwarded-Access-Token',
  'X-Auth-Request-*', 'GAP-Auth', 'X-Id-Token',
  'X-Pomerium-*', 'X-Vouch-*', 'Tailscale-User-*',
  'X-Consumer-*', 'X-Authenticated-*', 'X-Credential-*', 'X-Anonymous-Consumer',
  'X-Auth-User', 'X-Remote-Userid', 'X-Proxy-User', 'X-Forwarded-Login', 'X-Webproxy-User', 'X-Authorized-User',
  'X-Auth-Userid', 'X-Auth-Username', 'X-Auth-Email', 'X-Auth-Roles', 'X-Auth-Groups', 'X-Auth-Subject',
  'OIDC-Claim-*', 'OIDC-Access-Token', 'OIDC-Id-Token',
  'Client-Cert', 'Client-Cert-Chain', 'X-Client-Cert', 'X-Client-Cert-*', 'X-SSL-Client-*', 'X-SSL-Cert', 'Ssl-Client-*',
  'X-Forwarded-Client-Cert', 'X-Forwarded-Tls-Client-Cert*', 'X-ARR-ClientCert', 'X-Client-Verify', 'X-Client-DN',
  'X-Amzn-Mtls-*', 'CloudFront-Viewer-Cert-*',
  'X-Amzn-Oidc-*', 'Cf-Access-*', 'X-Goog-Authenticated-User-*', 'X-Goog-Iap-Jwt-Assertion', 'X-MS-CLIENT-PRINCIPAL*', 'X-MS-TOKEN-*',
  'X-Original-URL', 'X-Rewrite-URL', 'X-Original-URI', 'X-Original-Method', 'X-Forwarded-Uri', 'X-Forwarded-Method', 'X-Envoy-Original-Path',
  'X-HTTP-Method-Override', 'X-HTTP-Method', 'X-Method-Override',
])

/**
 * Forwarding metadata about the connection and the URL: believed only from
 * peers in trustedProxies, dropped from every other peer (matched like the
 * strip list: lowercased, `_` as `-`). X-Forwarded-For/-Proto/-Host are not
 * here: proxy/headers.ts rebuilds them.
 */
export const UNTRUSTED_FORWARDING: ReadonlySet<string> = new Set([
  // scheme
  'x-forwarded-ssl', 'x-forwarded-scheme', 'x-forwarded-protocol', 'x-url-scheme', 'x-scheme', 'front-end-https', 'x-original-proto', 'x-arr-ssl',
  // URL
  'x-forwarded-prefix', 'x-original-prefix', 'x-forwarded-path', 'x-script-name',
  // host and port
  'x-forwarded-port', 'x-forwarded-server', 'x-original-host', 'x-host', 'x-http-host-override',
  // client address
  'forwarded', 'x-real-ip', 'client-ip', 'x-client-ip', 'true-client-ip', 'cf-connecting-ip', 'fastly-client-ip', 'x-cluster-client-ip',
  'x-forwarded', 'forwarded-for', 'x-original-for', 'x-originating-ip', 'x-remote-ip', 'x-remote-addr', 'x-proxyuser-ip',
  'x-envoy-external-address', 'x-azure-clientip', 'x-azure-socketip', 'x-appengine-user-ip', 'x-forwarded-by',
])

export interface StripList {
  /** Exact names, lowercased, `_` as `-`. */
  readonly names: ReadonlySet<string>
  /** Prefixes of 3 characters or more, in buckets by their first and third character (`bucketOf`). */
  readonly buckets: readonly (readonly string[] | undefined)[]
  /** Prefixes shorter than 3 characters (only ever configured ones), scanned one by one. */
  readonly shortPrefixes: readonly string[]
}

/** Lowercased, `_` as `-`: how the strip list (and the identity prefix) sees a header name. */
export const stripKey = (name: string): string => name.toLowerCase().replaceAll('_', '-')

/**
 * An array index from the first and third characters: no substring, no hash.
 * The third, not the second: most listed prefixes start `x-`.
 */
const bucketOf = (s: string): number => (s.charCodeAt(0) & 127) * 128 + (s.charCodeAt(2) & 127)

/** The default list plus `extra` (entries as validated by the config loader). */
export function compileStripList(extra: readonly string[] = []): StripList {
  const names = new Set<string>()
  const buckets: string[][] = []
  const shortPrefixes: string[] = []
  for (const entry of [...DEFAULT_STRIP, ...extra]) {
    if (!entry.endsWith('*')) { names.add(stripKey(entry)); continue }
    const prefix = stripKey(entry.slice(0, -1))
    const bucket = prefix.length < 3 ? shortPrefixes : (buckets[bucketOf(prefix)] ??= [])
    if (!bucket.includes(prefix)) bucket.push(prefix)
  }
  return { names, buckets: Array.from({ length: 128 * 128 }, (_, i) => buckets[i]), shortPrefixes }
}

/**
 * Does `key` (a header name already lowercased, `_` as `-`) start with a
 * listed prefix? One array read by its first and third characters; most
 * names find no bucket. Measured: this plus the
 * exact names merged into the HeaderPlan's drop Set cost ~0.15 µs a
 * request over the old header filter (8 ordinary headers, Node 20, in-process loop).
 */
export function hasStrippedPrefix(key: string, list: StripList): boolean {
  if (key.length >= 3) {
    const bucket = list.buckets[bucketOf(key)]
    if (bucket !== undefined) for (let i = 0; i < bucket.length; i++) if (key.startsWith(bucket[i]!)) return true
  }
  const short = list.shortPrefixes
  for (let i = 0; i < short.length; i++) if (key.startsWith(short[i]!)) return true
  return false
}

/** Exact name or prefix; `key` lowercased with `_` as `-`. */
export function isStripped(key: string, list: StripList): boolean {
  return list.names.has(key) || hasStrippedPrefix(key, list)
}
