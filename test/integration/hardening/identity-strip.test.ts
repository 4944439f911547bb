// Issue 11 finding 5: identity headers of other systems (auth proxies, TLS
// terminators, cloud front doors) and URL/method rewriting headers never
// reach the upstream from a client: each name of the documented default list
// is removed, in any case and with `_` for `-`; a configured extra one too.
// The table below is written out by hand, on purpose: it is the documented
// list (docs/configuration.md, identityHeaders.strip), and the last test
// checks that src/proxy/identity-strip.ts strips no less.

import t from 'tap'
import { rawRequest, startTestGateway, startUpstream } from '../../helpers/harness.js'
import { DEFAULT_STRIP, UNTRUSTED_FORWARDING } from '../../../src/proxy/identity-strip.js'

/** One sample name per default entry; for a prefix (`X-Auth-Request-*`), two names under it. */
export const STRIPPED_BY_DEFAULT: readonly string[] = [
  // generic auth-proxy conventions (Apache REMOTE_USER, Authelia, Caddy/Traefik forward auth, Grafana, SiteMinder)
  'X-Remote-User', 'Remote-User', 'Remote-Groups', 'Remote-Name', 'Remote-Email', 'X-Remote-Group', 'X-Remote-Groups',
  'X-User', 'X-Email', 'X-Userinfo', 'X-WEBAUTH-USER', 'X-WebAuth-Email', 'SM_USER', 'SM-Universalid',
  // oauth2-proxy
  'X-Forwarded-User', 'X-Forwarded-Email', 'X-Forwarded-Preferred-Username', 'X-Forwarded-Groups', 'X-Forwarded-Access-Token',
  'X-Auth-Request-User', 'X-Auth-Request-Email', 'X-Auth-Request-Anything', 'Gap-Auth', 'X-Id-Token',
  // Pomerium, Vouch, Tailscale, Kong, Keycloak Gatekeeper, mod_auth_openidc
  'X-Pomerium-Jwt-Assertion', 'X-Pomerium-Claim-Email', 'X-Vouch-User', 'X-Vouch-Idp-Claims-Groups', 'Tailscale-User-Login', 'Tailscale-User-Name',
  'X-Consumer-Username', 'X-Consumer-Id', 'X-Authenticated-Userid', 'X-Authenticated-Scope', 'X-Credential-Identifier', 'X-Anonymous-Consumer',
  // more identity-like names (issue 19)
  'X-Authenticated-User', 'X-Authenticated-Groups', 'X-Credential-Username', 'X-Auth-User', 'X-Remote-Userid', 'X-Proxy-User',
  'X-Forwarded-Login', 'X-Webproxy-User', 'X-Authorized-User',
  'X-Auth-Userid', 'X-Auth-Username', 'X-Auth-Email', 'X-Auth-Roles', 'X-Auth-Groups', 'X-Auth-Subject',
  'OIDC_CLAIM_sub', 'OIDC-Claim-Email', 'OIDC_access_token', 'OIDC-Id-Token',
  // client certificates from TLS terminators (RFC 9440, Apache mod_ssl, nginx, HAProxy, Envoy XFCC, Traefik, IIS/ARR, ALB, CloudFront)
  'Client-Cert', 'Client-Cert-Chain', 'X-Client-Cert', 'X-Client-Cert-Chain', 'X-SSL-Client-Cert', 'X-SSL-Client-S-DN', 'X-SSL-Client-Verify',
  'SSL_CLIENT_CERT', 'Ssl-Client-Verify', 'Ssl-Client-Subject-Dn', 'X-SSL-Cert', 'X-Forwarded-Client-Cert', 'X-Forwarded-Tls-Client-Cert',
  'X-Forwarded-Tls-Client-Cert-Info', 'X-ARR-ClientCert', 'X-Client-Verify', 'X-Client-DN',
  'X-Amzn-Mtls-Clientcert', 'X-Amzn-Mtls-Clientcert-Subject', 'CloudFront-Viewer-Cert-Pem', 'CloudFront-Viewer-Cert-Subject',
  // cloud identity front doors
  'X-Amzn-Oidc-Data', 'X-Amzn-Oidc-Identity', 'X-Amzn-Oidc-Accesstoken', 'Cf-Access-Jwt-Assertion', 'Cf-Access-Authenticated-User-Email',
  'X-Goog-Authenticated-User-Email', 'X-Goog-Authenticated-User-Id', 'X-Goog-Iap-Jwt-Assertion',
  'X-MS-CLIENT-PRINCIPAL', 'X-MS-CLIENT-PRINCIPAL-NAME', 'X-MS-CLIENT-PRINCIPAL-ID', 'X-MS-CLIENT-PRINCIPAL-IDP', 'X-MS-TOKEN-AAD-ACCESS-TOKEN',
  // URL and method rewriting that some frameworks obey
  'X-Original-URL', 'X-Rewrite-URL', 'X-Original-URI', 'X-Original-Method', 'X-Forwarded-Uri', 'X-Forwarded-Method', 'X-Envoy-Original-Path',
  'X-HTTP-Method-Override', 'X-HTTP-Method', 'X-Method-Override',
]

/**
 * Issue 19: what a front proxy says about the scheme, the URL, the host and
 * the client address. Dropped from a peer not in trustedProxies (Rack and
 * Rails believe the scheme ones, Client-IP feeds remote_ip), kept from a
 * trusted one. Written out by hand like the table above (docs/configuration.md).
 */
export const UNTRUSTED_ONLY: readonly string[] = [
  // scheme
  'X-Forwarded-Ssl', 'X-Forwarded-Scheme', 'X-Forwarded-Protocol', 'X-Url-Scheme', 'X-Scheme', 'Front-End-Https', 'X-Original-Proto', 'X-ARR-SSL',
  // URL
  'X-Forwarded-Prefix', 'X-Original-Prefix', 'X-Forwarded-Path', 'X-Script-Name',
  // host and port
  'X-Forwarded-Port', 'X-Forwarded-Server', 'X-Original-Host', 'X-Host', 'X-HTTP-Host-Override',
  // client address
  'Forwarded', 'X-Real-IP', 'Client-IP', 'X-Client-IP', 'True-Client-IP', 'CF-Connecting-IP', 'Fastly-Client-IP', 'X-Cluster-Client-IP',
  'X-Forwarded', 'Forwarded-For', 'X-Original-For', 'X-Originating-IP', 'X-Remote-IP', 'X-Remote-Addr', 'X-ProxyUser-IP',
  'X-Envoy-External-Address', 'X-Azure-ClientIP', 'X-Azure-SocketIP', 'X-Appengine-User-IP', 'X-Forwarded-By',
]

/** Look-alikes that are not in the list and must still pass. */
const KEPT = ['X-Auth-Token', 'X-Api-Key', 'X-Request-Id', 'X-Client-Version', 'User-Agent', 'X-Userid-Hint', 'Remote', 'X-Forwarded-Usr']

const spellings = (name: string): string[] => [name, name.toLowerCase(), name.toUpperCase().replaceAll('-', '_')]
const key = (name: string) => name.toLowerCase().replaceAll('_', '-')

t.test('every header of the default strip list is removed, in any spelling', async (t) => {
  const up = await startUpstream()
  const gw = await startTestGateway({ upstream: up.url })
  t.teardown(async () => { await gw.close(); await up.close() })
  // Several requests: one request with everything would pass limits.maxHeaderCount.
  for (const name of STRIPPED_BY_DEFAULT) {
    const headers: [string, string][] = [...spellings(name).map((n): [string, string] => [n, 'admin.example']), ['X-Marker', name]]
    const res = await rawRequest(gw.url, { path: '/public/x', headers })
    t.equal(res.status, 200, name)
    const seen = up.seen.at(-1)!
    const names = seen.rawHeaders.filter((_, i) => i % 2 === 0).map(key)
    t.notOk(names.includes(key(name)), `${name} removed (${spellings(name).join(', ')})`)
    t.equal(seen.headers['x-marker'], name, 'the request itself went through')
  }
  const res = await rawRequest(gw.url, { path: '/public/x', headers: KEPT.map((n): [string, string] => [n, 'v']) })
  t.equal(res.status, 200)
  for (const name of KEPT) t.equal(up.seen.at(-1)!.headers[name.toLowerCase()], 'v', `${name} is not an identity header: kept`)
})

t.test('identityHeaders.strip extends the default: exact names and prefixes ending in *', async (t) => {
  const up = await startUpstream()
  const gw = await startTestGateway({ upstream: up.url, extraConfig: 'identityHeaders:\n  strip: [X-Legacy-User, "X-Corp-Sso-*"]' })
  t.teardown(async () => { await gw.close(); await up.close() })
  const sent: [string, string][] = [['X-Legacy-User', 'a'], ['x_legacy_user', 'a'], ['X-Corp-Sso-Name', 'a'], ['X-CORP-SSO-ROLES', 'a'], ['X-Remote-User', 'a'], ['X-Corp-Other', 'kept']]
  t.equal((await rawRequest(gw.url, { path: '/public/x', headers: sent })).status, 200)
  const names = up.seen[0]!.rawHeaders.filter((_, i) => i % 2 === 0).map(key)
  for (const [n] of sent.slice(0, -1)) t.notOk(names.includes(key(n)), `${n} removed`)
  t.equal(up.seen[0]!.headers['x-corp-other'], 'kept', 'a name outside the configured prefix passes')
})

t.test('the table covers every default entry of src/proxy/identity-strip.ts', async (t) => {
  for (const entry of DEFAULT_STRIP) {
    const prefix = entry.endsWith('*') ? key(entry.slice(0, -1)) : undefined
    const covered = STRIPPED_BY_DEFAULT.some((n) => (prefix === undefined ? key(n) === key(entry) : key(n).startsWith(prefix)))
    t.ok(covered, `${entry} has a row above`)
  }
})

t.test('forwarding metadata (scheme, URL, host, client address) is dropped from an untrusted peer in both spellings, kept from a trusted one', async (t) => {
  const up = await startUpstream()
  const open = await startTestGateway({ upstream: up.url })
  const behind = await startTestGateway({ upstream: up.url, extraConfig: 'trustedProxies: [127.0.0.1]' })
  t.teardown(async () => { await open.close(); await behind.close(); await up.close() })
  const underscore = (n: string) => n.replaceAll('-', '_')
  for (const name of UNTRUSTED_ONLY) {
    for (const spelled of [name, underscore(name)]) {
      const headers: [string, string][] = [[spelled, 'https'], ['X-Marker', spelled]]
      t.equal((await rawRequest(open.url, { path: '/public/x', headers })).status, 200, spelled)
      const names = up.seen.at(-1)!.rawHeaders.filter((_, i) => i % 2 === 0).map(key)
      t.notOk(names.includes(key(name)), `${spelled} dropped from an untrusted peer`)
      t.equal(up.seen.at(-1)!.headers['x-marker'], spelled, 'the request itself went through')
    }
    t.equal((await rawRequest(behind.url, { path: '/public/x', headers: [[name, 'https']] })).status, 200)
    t.equal(up.seen.at(-1)!.headers[name.toLowerCase()], 'https', `${name} kept from a trusted proxy`)
  }
  for (const entry of UNTRUSTED_FORWARDING) t.ok(UNTRUSTED_ONLY.some((n) => key(n) === entry), `${entry} has a row above`)
})
