// `popgate fetch`: a curl-like client that signs DomainPoP proofs, or presents
// a DPoP-bound access token with DPoP proofs (--dpop-token, PROTOCOL.md §3).
// --cert presents a client certificate (tls.clientCertificates); with
// --channel-binding every proof carries the RFC 9266 exporter of the TLS 1.3
// connection the request goes on (PROTOCOL.md §5, client/channel-binding.ts).
// --http-signature signs each request with an RFC 9421 HTTP Message Signature instead.
// --issuer asks the identity domain's issuer for a token first (issue 24): a
// `cnf.jwe` token and HS256 proofs with --symmetric (PROTOCOL.md §4), else a
// `cnf.jwk` token binding --key, presented with DPoP proofs (PROTOCOL.md §3).
import { parseArgs } from 'node:util'
import { createDomainPopFetch } from '../client/fetch.js'
import { createDpopFetch } from '../client/dpop.js'
import { createHttpSignatureFetch } from '../client/http-signature.js'
import { loadClientKey, type ClientKey } from '../client/keys.js'
import { readInput, fetchWith, readTlsFiles, unreachable } from './net.js'
import { createChannelBinding, type ChannelBinding } from '../client/channel-binding.js'
import { IssuerError } from '../client/issuer.js'
import { UsageError, CliError, EXIT } from './usage.js'

async function privateKey(file: string): Promise<ClientKey> {
  await readInput(file, '--key') // a missing file is exit 66, said as such
  try { return await loadClientKey(file) } catch (err) {
    throw new CliError(`--key ${file}: not a private JWK (${(err as Error).message.replace(`${file}: `, '')}); give the private.jwk.json that keygen wrote`, EXIT.noInput)
  }
}

const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/

/** `--dpop-token TOKEN`, or `@FILE` to keep the token out of the process list. */
async function accessToken(value: string): Promise<string> {
  const token = value.startsWith('@') ? (await readInput(value.slice(1), '--dpop-token')).toString('utf8').trim() : value
  if (!COMPACT_JWS.test(token)) throw new UsageError(`--dpop-token${value.startsWith('@') ? ` ${value}` : ''}: not a JWT access token (three base64url parts)`)
  return token
}

export async function runFetch(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, options: {
    identity: { type: 'string' }, key: { type: 'string' }, 'key-url': { type: 'string' }, audience: { type: 'string' },
    request: { type: 'string', short: 'X' }, header: { type: 'string', short: 'H', multiple: true }, data: { type: 'string', short: 'd' },
    include: { type: 'boolean', short: 'i' }, session: { type: 'string', default: 'none' }, cacert: { type: 'string' },
    'dpop-token': { type: 'string' }, cert: { type: 'string' }, 'cert-key': { type: 'string' }, 'channel-binding': { type: 'boolean' },
    'http-signature': { type: 'boolean', default: false }, agent: { type: 'string' },
    issuer: { type: 'string' }, 'issuer-credential': { type: 'string' }, symmetric: { type: 'boolean', default: false },
  } })
  const url = positionals[0]
  if (!url) throw new UsageError('fetch needs a URL')
  if (positionals.length > 1) throw new UsageError(`one URL at a time; unexpected "${positionals[1]}"`)
  if (!URL.canParse(url) || !/^https?:$/.test(new URL(url).protocol)) throw new UsageError(`${url}: not an http or https URL`)
  const dpopToken = values['dpop-token']
  const httpSignature = values['http-signature'] === true
  const issuer = values.issuer
  if (issuer !== undefined) {
    if (httpSignature || dpopToken !== undefined || values.identity !== undefined || values['key-url'] !== undefined) throw new UsageError('--issuer replaces --identity, --key-url, --dpop-token and --http-signature (the identity is the issuer\'s host)')
    if (!URL.canParse(issuer) || new URL(issuer).protocol !== 'https:' || new URL(issuer).origin !== issuer.replace(/\/$/, '')) throw new UsageError(`--issuer ${issuer}: not an https origin without a path`)
    if (values['issuer-credential'] === undefined) throw new UsageError('--issuer needs --issuer-credential VALUE|@FILE: what the issuer\'s token endpoint takes from the domain\'s services')
    if (values.symmetric && values.key !== undefined) throw new UsageError('--symmetric takes no --key: the issuer makes the key')
    if (!values.symmetric && !values.key) throw new UsageError('--issuer needs --key (a cnf.jwk token binds it) or --symmetric (a cnf.jwe token)')
    if (values['channel-binding'] || values.session !== 'none') throw new UsageError('--issuer goes without --channel-binding and --session')
    return runIssuerFetch(url, issuer, values)
  } else if (values.symmetric || values['issuer-credential'] !== undefined) {
    throw new UsageError('--symmetric and --issuer-credential go with --issuer')
  }
  if (httpSignature) {
    if (dpopToken !== undefined || values.identity !== undefined || values['key-url'] !== undefined) throw new UsageError('--http-signature replaces --identity, --key-url and --dpop-token (the identity is the --agent URL\'s host)')
    if (!values.key || !values.agent) throw new UsageError('--http-signature needs --key, the private JWK, and --agent, the agent URL whose signatures directory lists its key')
    if (!URL.canParse(values.agent) || new URL(values.agent).protocol !== 'https:') throw new UsageError(`--agent ${values.agent}: not an https URL`)
  } else if (values.agent !== undefined) {
    throw new UsageError('--agent goes with --http-signature')
  } else if (dpopToken !== undefined) {
    if (values.identity !== undefined || values['key-url'] !== undefined) throw new UsageError('--dpop-token replaces --identity and --key-url (the identity is the token\'s issuer)')
    if (!values.key) throw new UsageError('--dpop-token needs --key, the private JWK the token is bound to')
  } else if (!values.identity || !values.key || !values['key-url']) throw new UsageError('fetch needs --identity, --key and --key-url (or --dpop-token and --key)')
  const bind = values['channel-binding'] === true
  if (bind && new URL(url).protocol !== 'https:') throw new UsageError('--channel-binding needs an https URL: the binding is to the TLS connection (PROTOCOL.md §5)')
  if (bind && dpopToken !== undefined) throw new UsageError('--channel-binding works with DomainPoP proofs; the gateway does not check cb on DPoP proofs')
  if (values.session !== 'none' && values.session !== 'ticket') throw new UsageError(`--session ${values.session}: expected ticket or none`)
  const session = values.session as 'ticket' | 'none'
  const headers = headersOf(values)
  const token = dpopToken === undefined ? undefined : await accessToken(dpopToken)
  const key = await privateKey(values.key!)
  const tlsFiles = await readTlsFiles(values.cacert, values.cert, values['cert-key'])
  const binding: ChannelBinding | undefined = bind ? createChannelBinding(new URL(url).origin, tlsFiles) : undefined
  const doFetch = httpSignature
    ? createHttpSignatureFetch({ agent: values.agent!, privateKey: key, fetch: await fetchWith(tlsFiles) })
    : token !== undefined
    ? createDpopFetch({ accessToken: token, privateKey: key, audience: values.audience, fetch: await fetchWith(tlsFiles), session })
    : createDomainPopFetch({
      identity: values.identity!, keyUrl: values['key-url']!, privateKey: key, audience: values.audience, fetch: await fetchWith(tlsFiles), channelBinding: binding, session,
    })
  return send(url, doFetch, values, headers, session, () => binding?.close())
}

interface FetchValues {
  readonly request?: string; readonly data?: string; readonly include?: boolean; readonly header?: string[]
  readonly key?: string; readonly audience?: string; readonly cacert?: string; readonly cert?: string; readonly 'cert-key'?: string
  readonly 'issuer-credential'?: string; readonly symmetric?: boolean
}

function headersOf(values: FetchValues): Headers {
  const headers = new Headers()
  for (const h of values.header ?? []) {
    const i = h.indexOf(':')
    if (i <= 0) throw new UsageError(`-H ${h}: expected "Name: value"`)
    try { headers.append(h.slice(0, i).trim(), h.slice(i + 1).trim()) } catch { throw new UsageError(`-H ${h}: not a valid header`) }
  }
  return headers
}

/** `--issuer`: the token from the domain's issuer first (createDomainPopFetch({ issuer })). */
async function runIssuerFetch(url: string, issuer: string, values: FetchValues): Promise<number> {
  const headers = headersOf(values)
  const given = values['issuer-credential']!
  const credential = given.startsWith('@') ? (await readInput(given.slice(1), '--issuer-credential')).toString('utf8').trim() : given
  const key = values.symmetric ? undefined : await privateKey(values.key!)
  const tlsFiles = await readTlsFiles(values.cacert, values.cert, values['cert-key'])
  const doFetch = createDomainPopFetch({
    issuer: { origin: issuer, credential, keyType: values.symmetric ? 'symmetric' : 'jwk' }, privateKey: key, audience: values.audience, fetch: await fetchWith(tlsFiles),
  })
  return send(url, doFetch, values, headers, 'none', () => undefined)
}

async function send(url: string, doFetch: (u: string, init: RequestInit) => Promise<Response>, values: FetchValues, headers: Headers, session: 'ticket' | 'none', done: () => unknown): Promise<number> {
  const method = values.request ?? (values.data !== undefined ? 'POST' : 'GET')
  let res: Response
  let body: Buffer
  try {
    res = await doFetch(url, { method, headers, body: values.data })
    body = Buffer.from(await res.arrayBuffer())
  } catch (err) {
    if (err instanceof IssuerError) throw new CliError(`popgate fetch: ${err.message}`, EXIT.denied)
    if (err instanceof TypeError && !(err as { cause?: unknown }).cause && !/fetch failed/.test(err.message)) throw new UsageError(`${err.message}`)
    throw unreachable(url, err)
  } finally {
    await done()
  }
  process.exitCode = res.ok ? EXIT.ok : EXIT.denied // what an EPIPE exit (main.ts) reports
  if (values.include) {
    process.stdout.write(`HTTP ${res.status} ${res.statusText}\n`)
    res.headers.forEach((v, k) => process.stdout.write(`${k}: ${v}\n`))
    process.stdout.write('\n')
  }
  process.stdout.write(body)
  // One request per run: say whether the gateway granted a ticket (the field itself is a credential: -i shows it).
  if (session === 'ticket') {
    const granted = /expires_in=(\d+)/.exec(res.headers.get('domainpop-session') ?? '')
    process.stderr.write(granted ? `session ticket granted, expires in ${granted[1]} s\n` : 'no session ticket was granted (sessions.tickets.enabled may be off, or the rule says sessions: false)\n')
  }
  if (res.ok) return EXIT.ok
  // A refusal: the body stays on stdout, as curl leaves it; the problem, as one line, goes to stderr.
  const problem = problemOf(res, body)
  if (problem && body.length > 0 && body[body.length - 1] !== 0x0a) process.stdout.write('\n')
  process.stderr.write(`popgate fetch: HTTP ${res.status}${problem?.code ? ` ${problem.code}` : ''}${problem?.detail ? `: ${problem.detail}` : ` ${res.statusText}`}\n`)
  return EXIT.denied
}

/** The RFC 9457 problem in a refusal, when the body is one; its members are printed only as plain text. */
function problemOf(res: Response, body: Buffer): { code?: string; detail?: string } | undefined {
  if (!/^application\/problem\+json\b/i.test(res.headers.get('content-type') ?? '')) return undefined
  try {
    const p = JSON.parse(body.toString('utf8')) as Record<string, unknown>
    const text = (v: unknown) => (typeof v === 'string' ? v.replace(/[\x00-\x1f\x7f]/g, ' ').slice(0, 300) : undefined)
    return { code: text(p.code), detail: text(p.detail) }
  } catch {
    return undefined
  }
}
