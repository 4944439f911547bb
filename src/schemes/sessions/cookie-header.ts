// The session cookie on the wire: the Set-Cookie value the gateway sends,
// finding its own cookie in a request's `Cookie` field, and removing it
// before the request is forwarded (the upstream never sees the credential;
// the other cookies pass). RFC 6265 §4.1 (Set-Cookie), §4.2 (Cookie),
// draft-ietf-httpbis-rfc6265bis §4.1.3.2 (the `__Host-` prefix: Secure,
// Path=/, no Domain, so no other host can set or shadow it). Pure.

import { GatewayError } from '../../errors.js'

/** `__Host-popgate=<value>; Path=/; Secure; HttpOnly; SameSite=Lax; Max-Age=<ttl>`. */
export function setCookieValue(name: string, value: string, maxAgeSec: number): string {
  return `${name}=${value}; Path=/; Secure; HttpOnly; SameSite=Lax; Max-Age=${Math.max(0, Math.floor(maxAgeSec))}`
}

/** The same attributes with `Max-Age=0`: the browser drops the cookie (logout, and before a new one is set). */
export const clearCookieValue = (name: string): string => setCookieValue(name, '', 0)

/** The values of `name` in a Cookie field (several `Cookie` fields already joined with "; ", RFC 9113 §8.2.3). */
export function cookieValues(cookieField: string | undefined, name: string): string[] {
  if (cookieField === undefined || !cookieField.includes(name)) return []
  const out: string[] = []
  for (const pair of cookieField.split(';')) {
    const p = pair.trim()
    const eq = p.indexOf('=')
    if (eq > 0 && p.slice(0, eq).trimEnd() === name) out.push(p.slice(eq + 1).trim())
  }
  return out
}

/** The session cookie, if the request carries one; two of them are refused (one is a plant). */
export function sessionCookie(cookieField: string | undefined, name: string): string | undefined {
  const v = cookieValues(cookieField, name)
  if (v.length > 1) throw new GatewayError('cookie_malformed', 'the request carries more than one session cookie')
  return v[0] === '' ? undefined : v[0]
}

/** The Cookie field without the session cookie; undefined when nothing else is left. */
export function withoutCookie(cookieField: string, name: string): string | undefined {
  if (!cookieField.includes(name)) return cookieField
  const kept = cookieField.split(';').map((p) => p.trim()).filter((p) => {
    if (p === '') return false
    const eq = p.indexOf('=')
    return (eq < 0 ? p : p.slice(0, eq).trimEnd()) !== name
  })
  return kept.length > 0 ? kept.join('; ') : undefined
}
