// Is a proof's `jku` a URL the gateway may fetch for this identity?
// PROTOCOL.md §2.1 and §2.4. Pure.
//
// The checks run on the raw string, not only on the parsed URL: the WHATWG
// parser lowercases hosts, drops trailing dots' meaning, resolves `.`/`..` and
// `%2e` segments, turns `\` into `/` and strips tabs and newlines. Each of
// those would let two different strings name "the same" key URL, or let a
// URL that looks like it is under the prefix escape it. So the raw text must
// already be in the form the parser would produce, and anything else is
// rejected rather than cleaned up.

import { GatewayError } from '../errors.js'
import { isIdentity, type Identity } from '../identity/domain.js'
import type { KeysConfig } from './types.js'

export const MAX_KEY_URL_CHARS = 2048

/** scheme "://" authority path [? query] [# fragment]; scheme must be lowercase. */
const RAW_URL = /^(https?):\/\/([^/?#]*)([^?#]*)(\?[^#]*)?(#.*)?$/
/** RFC 3986 pchar without pct-encoded, plus '/': no '%' means no %2F, %5C, %2E, %00. */
const PATH_CHARS = /^[A-Za-z0-9\-._~!$&'()*+,;=:@/]*$/
const PORT = /^[1-9][0-9]{0,4}$/
const DEFAULT_PORT = { https: 443, http: 80 } as const

export function checkKeyUrl(jku: string, identity: Identity, cfg: KeysConfig): URL {
  const fail = (why: string): never => { throw new GatewayError('proof_jku_invalid', `jku ${why}`) }
  if (typeof jku !== 'string') fail('must be a string')
  if (jku.length > MAX_KEY_URL_CHARS) fail(`is longer than ${MAX_KEY_URL_CHARS} characters`)
  if (!isIdentity(identity)) fail('belongs to an invalid identity')
  // Printable ASCII only: the URL parser silently strips tabs/newlines and trims C0/space.
  if (!/^[\x21-\x7e]+$/.test(jku)) fail('must be printable ASCII without spaces')
  if (jku.includes('\\')) fail('must not contain a backslash')

  const m = RAW_URL.exec(jku)
  if (!m) fail('must start with https://')
  const [, scheme, authority, rawPath, query, fragment] = m as unknown as [string, 'https' | 'http', string, string, string?, string?]

  if (scheme === 'http' && !cfg.allowHttp.includes(identity)) fail('must use https')
  if (authority.includes('@')) fail('must not contain userinfo')
  if (fragment !== undefined) fail('must not have a fragment')
  if (query !== undefined) fail('must not have a query')

  // Host: byte-for-byte the identity. No case folding, no trailing dot, no IP literal.
  const colon = authority.indexOf(':')
  const rawHost = colon === -1 ? authority : authority.slice(0, colon)
  if (rawHost !== identity) fail('host must equal the identity exactly')
  let port: number = DEFAULT_PORT[scheme]
  if (colon !== -1) {
    const rawPort = authority.slice(colon + 1)
    if (!PORT.test(rawPort) || Number(rawPort) > 65535) fail('has an invalid port')
    port = Number(rawPort)
  }
  if (port !== DEFAULT_PORT[scheme] && cfg.allowPorts !== 'any' && !cfg.allowPorts.includes(port)) fail(`port ${port} is not allowed`)

  if (!PATH_CHARS.test(rawPath)) fail('path must not contain percent-encoding or unusual characters')
  if (rawPath.split('/').some((seg) => seg === '.' || seg === '..')) fail('path must not contain dot segments')
  // '..;' is a dot segment to Tomcat-style key hosts: /.well-known/domainpop/..;/uploads/k would escape the prefix.
  if (rawPath.includes(';')) fail('path must not contain ";" (path parameters)')
  if (!rawPath.startsWith(cfg.pathPrefix)) fail(`path must start with ${cfg.pathPrefix}`)

  let url: URL
  try {
    url = new URL(jku)
  } catch {
    return fail('is not a valid URL')
  }
  // Belt and braces: the parser must agree with what we read from the raw text.
  if (url.hostname !== identity || url.pathname !== rawPath || url.username !== '' || url.password !== '' || url.search !== '' || url.hash !== '') {
    fail('is not in canonical form')
  }
  return url
}
