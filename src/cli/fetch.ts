// `popgate fetch`: a curl-like client that signs DomainPoP proofs, or presents
// a DPoP-bound access token with DPoP proofs (--dpop-token, PROTOCOL.md §3).
import { parseArgs } from 'node:util'
import { createDomainPopFetch } from '../client/fetch.js'
import { createDpopFetch } from '../client/dpop.js'
import { loadClientKey, type ClientKey } from '../client/keys.js'
import { readInput, fetchWith, unreachable } from './net.js'
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
    'dpop-token': { type: 'string' },
  } })
  const url = positionals[0]
  if (!url) throw new UsageError('fetch needs a URL')
  if (positionals.length > 1) throw new UsageError(`one URL at a time; unexpected "${positionals[1]}"`)
  if (!URL.canParse(url) || !/^https?:$/.test(new URL(url).protocol)) throw new UsageError(`${url}: not an http or https URL`)
  const dpopToken = values['dpop-token']
  if (dpopToken !== undefined) {
    if (values.identity !== undefined || values['key-url'] !== undefined) throw new UsageError('--dpop-token replaces --identity and --key-url (the identity is the token\'s issuer)')
    if (!values.key) throw new UsageError('--dpop-token needs --key, the private JWK the token is bound to')
  } else if (!values.identity || !values.key || !values['key-url']) throw new UsageError('fetch needs --identity, --key and --key-url (or --dpop-token and --key)')
  if (values.session !== 'none' && values.session !== 'ticket') throw new UsageError(`--session ${values.session}: expected ticket or none`)
  const session = values.session as 'ticket' | 'none'
  const headers = new Headers()
  for (const h of values.header ?? []) {
    const i = h.indexOf(':')
    if (i <= 0) throw new UsageError(`-H ${h}: expected "Name: value"`)
    try { headers.append(h.slice(0, i).trim(), h.slice(i + 1).trim()) } catch { throw new UsageError(`-H ${h}: not a valid header`) }
  }
  const token = dpopToken === undefined ? undefined : await accessToken(dpopToken)
  const key = await privateKey(values.key!)
  const doFetch = token !== undefined
    ? createDpopFetch({ accessToken: token, privateKey: key, audience: values.audience, fetch: await fetchWith(values.cacert), session })
    : createDomainPopFetch({
      identity: values.identity!, keyUrl: values['key-url']!, privateKey: key, audience: values.audience, fetch: await fetchWith(values.cacert), session,
    })
  const method = values.request ?? (values.data !== undefined ? 'POST' : 'GET')
  let res: Response
  let body: Buffer
  try {
    res = await doFetch(url, { method, headers, body: values.data })
    body = Buffer.from(await res.arrayBuffer())
  } catch (err) {
    if (err instanceof TypeError && !(err as { cause?: unknown }).cause && !/fetch failed/.test(err.message)) throw new UsageError(`${err.message}`)
    throw unreachable(url, err)
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
  return res.ok ? EXIT.ok : EXIT.denied
}
