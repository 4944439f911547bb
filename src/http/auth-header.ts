// WWW-Authenticate / Authorization syntax (RFC 9110 §11). The serializer is
// what the gateway sends; the parser is what clients (src/client) use to read
// challenges. A property test checks one against the other.
//
//   challenge  = auth-scheme [ 1*SP ( token68 / #auth-param ) ]
//   auth-param = token BWS "=" BWS ( token / quoted-string )

export interface Challenge {
  /** Scheme as sent (compare case-insensitively). */
  readonly scheme: string
  /** Param names lowercased (RFC 9110 §11.2: case-insensitive). */
  readonly params: Readonly<Record<string, string>>
  readonly token68?: string
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/

/** RFC 9110 §5.6.4 quoted-string: escape `"` and `\`; refuse bytes a header cannot carry. */
export function quote(value: string): string {
  if (/[\x00-\x08\x0a-\x1f\x7f]/.test(value)) throw new TypeError('auth-param value contains control characters')
  return '"' + value.replace(/["\\]/g, (c) => '\\' + c) + '"'
}

export function serializeChallenge(scheme: string, params: Readonly<Record<string, string>>): string {
  if (!TOKEN.test(scheme)) throw new TypeError(`invalid auth-scheme ${JSON.stringify(scheme)}`)
  const parts: string[] = []
  for (const [name, value] of Object.entries(params)) {
    if (!TOKEN.test(name)) throw new TypeError(`invalid auth-param name ${JSON.stringify(name)}`)
    parts.push(`${name}=${quote(value)}`)
  }
  return parts.length === 0 ? scheme : `${scheme} ${parts.join(', ')}`
}

/**
 * Parses one or more WWW-Authenticate field values into challenges. Lenient
 * where RFC 9110 allows (BWS, empty list elements, several fields), strict
 * otherwise: a value it cannot parse throws a TypeError.
 */
export function parseChallenges(fields: string | readonly string[]): Challenge[] {
  const out: Challenge[] = []
  for (const field of typeof fields === 'string' ? [fields] : fields) parseField(field, out)
  return out
}

const TOKEN_CHARS = "[!#$%&'*+\\-.^_`|~0-9A-Za-z]"
const PARAM_AHEAD = new RegExp(`^${TOKEN_CHARS}+[ \\t]*=[ \\t]*(?:"|${TOKEN_CHARS})`)
const TOKEN68_AHEAD = /^[A-Za-z0-9\-._~+/]+=*(?=[ \t]*(?:,|$))/
const TOKEN_AT = new RegExp(`^${TOKEN_CHARS}+`)

function parseField(s: string, out: Challenge[]): void {
  let i = 0
  const n = s.length
  const skipWs = () => { while (i < n && (s[i] === ' ' || s[i] === '\t')) i++ }
  const fail = (what: string): never => { throw new TypeError(`${what} at offset ${i}`) }
  const token = (): string => {
    const m = TOKEN_AT.exec(s.slice(i))
    if (!m) return fail('expected a token')
    i += m[0].length
    return m[0]
  }
  const quoted = (): string => {
    let v = ''
    for (i++; i < n && s[i] !== '"'; i++) {
      if (s[i] === '\\') i++
      if (i < n) v += s[i]
    }
    if (s[i] !== '"') fail('unterminated quoted-string')
    i++
    return v
  }
  const skipCommas = () => { for (skipWs(); s[i] === ','; skipWs()) i++ }

  skipCommas()
  while (i < n) {
    const scheme = token()
    const params: Record<string, string> = Object.create(null) as Record<string, string>
    let token68: string | undefined
    skipWs()
    const t68 = PARAM_AHEAD.test(s.slice(i)) ? null : TOKEN68_AHEAD.exec(s.slice(i))
    if (t68) {
      token68 = t68[0]
      i += t68[0].length
      skipCommas()
    } else {
      // #auth-param, until the next token that is not followed by '=' (a new scheme).
      for (;;) {
        skipCommas()
        if (i >= n || !PARAM_AHEAD.test(s.slice(i))) break
        const name = token().toLowerCase()
        skipWs(); i++; skipWs() // BWS "=" BWS
        const value = s[i] === '"' ? quoted() : token()
        if (Object.hasOwn(params, name)) fail(`duplicate auth-param ${name}`)
        params[name] = value
        skipWs()
        if (i < n && s[i] !== ',') fail('expected ","')
      }
    }
    out.push(token68 === undefined ? { scheme, params } : { scheme, params, token68 })
  }
}

/** `Authorization: <scheme> <token68>`; undefined when the value does not have that shape. */
export function parseAuthorization(value: string): { scheme: string; credentials: string } | undefined {
  const m = /^([!#$%&'*+\-.^_`|~0-9A-Za-z]+) +([A-Za-z0-9\-._~+/]+=*)$/.exec(value)
  return m ? { scheme: m[1]!, credentials: m[2]! } : undefined
}
