// Reading the gateway's answers: the DomainPoP challenge (RFC 9110 §11.6.1
// auth-params, PROTOCOL.md §1), a fresh `DomainPoP-Nonce`, and the
// `DomainPoP-Session` field (an auth-param list, PROTOCOL.md §4). The page
// can read these cross-origin because the gateway lists them in
// Access-Control-Expose-Headers.

export interface Challenge {
  readonly scheme: string
  readonly params: Readonly<Record<string, string>>
}

const TOKEN = "[!#$%&'*+.^_`|~0-9A-Za-z-]+"
const PARAM = new RegExp(`^\\s*(${TOKEN})\\s*=\\s*(?:"((?:[^"\\\\]|\\\\.)*)"|(${TOKEN}))\\s*(?:,|$)`)
const SCHEME = new RegExp(`^\\s*,?\\s*(${TOKEN})(?:\\s+|$)`)

/** Every challenge of a WWW-Authenticate value (several fields joined with ", "); token68 forms are skipped. */
export function parseChallenges(value: string): Challenge[] {
  const out: Challenge[] = []
  let rest = value
  while (rest.trim() !== '') {
    const s = SCHEME.exec(rest)
    if (!s) break
    rest = rest.slice(s[0].length)
    const params: Record<string, string> = {}
    for (let m = PARAM.exec(rest); m; m = PARAM.exec(rest)) {
      params[m[1]!.toLowerCase()] = m[2] !== undefined ? m[2].replace(/\\(.)/g, '$1') : m[3]!
      rest = rest.slice(m[0].length)
    }
    out.push({ scheme: s[1]!, params })
  }
  return out
}

/** The DomainPoP challenge of a response, if any. */
export function domainPopChallenge(res: Response): Challenge | undefined {
  const www = res.headers.get('www-authenticate')
  return www === null ? undefined : parseChallenges(www).find((c) => c.scheme.toLowerCase() === 'domainpop')
}

/** The nonce a response offers: DomainPoP-Nonce, else the DomainPoP challenge's. */
export function nonceOf(res: Response): string | undefined {
  return res.headers.get('domainpop-nonce') ?? domainPopChallenge(res)?.params.nonce
}

/** `ticket="…", epk="<base64url(JSON)>", expires_in=N` → its parts, or undefined. */
export function parseSessionField(value: string | null): { ticket: string; epk: string; expiresInSec: number } | undefined {
  if (value === null) return undefined
  const params = parseChallenges(`DomainPoP-Session ${value}`)[0]?.params ?? {}
  const { ticket, epk, expires_in: exp } = params
  if (!ticket || !epk || !exp || !/^\d{1,9}$/.test(exp)) return undefined
  return { ticket, epk, expiresInSec: Number(exp) }
}
