// `popgate keygen`: a key pair for an identity's client, and the exact
// command that publishes its public half on the identity's key host.
import { parseArgs } from 'node:util'
import { resolve } from 'node:path'
import { generateClientKey, saveClientKey, type ClientAlgorithm } from '../client/keys.js'
import { identityProblem } from '../identity/domain.js'
import { UsageError, CliError, EXIT } from './usage.js'

/** The token file name docs/keyhost.md uses; keygen's printed command names it unless --token-file says otherwise. */
export const DEFAULT_TOKEN_FILE = 'publish-token'
const KEY_PATH = '/.well-known/domainpop/keys/'

export function requireIdentity(v: string | undefined): string {
  if (!v) throw new UsageError('--identity DOMAIN is required')
  const why = identityProblem(v)
  if (why) throw new UsageError(`--identity ${v}: ${why}`)
  return v
}

/** An http(s) origin given on the command line (trailing slash allowed). */
export function originOption(v: string, option: string): string {
  let u: URL
  try { u = new URL(v) } catch { throw new UsageError(`${option} ${v}: not a URL; write e.g. https://alice.example`) }
  if ((u.protocol !== 'https:' && u.protocol !== 'http:') || (u.pathname !== '/' && u.pathname !== '') || u.search || u.hash || u.username) {
    throw new UsageError(`${option} ${v}: must be an origin, scheme://host[:port], with no path`)
  }
  return u.origin
}

const shellQuote = (s: string) => (/^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replaceAll("'", "'\\''")}'`)

export async function runKeygen(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: {
    identity: { type: 'string' }, out: { type: 'string' }, alg: { type: 'string', default: 'ES256' },
    keyhost: { type: 'string' }, 'token-file': { type: 'string' },
  } })
  const identity = requireIdentity(values.identity)
  if (!values.out) throw new UsageError('--out DIR is required')
  const alg = values.alg as ClientAlgorithm
  if (!['ES256', 'ES384', 'Ed25519', 'PS256'].includes(alg)) throw new UsageError('--alg must be ES256, ES384, Ed25519 or PS256')
  const keyhost = originOption(values.keyhost ?? `https://${identity}`, '--keyhost')
  const key = await generateClientKey(alg)
  let files
  try { files = await saveClientKey(key, resolve(values.out)) } catch (err) {
    throw new CliError(`cannot write the key files in ${resolve(values.out)} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`, EXIT.cannotCreate)
  }
  // The key URL's host is always the identity (a jku must name iss, PROTOCOL.md §2.1), whatever address
  // publish reaches the key host at; scheme and port are the key host's, as its default --public-origin.
  const reached = new URL(keyhost)
  const keyUrl = `${reached.protocol}//${identity}${reached.port ? `:${reached.port}` : ''}${KEY_PATH}${key.kid}`
  const publish = ['popgate', 'keyhost', 'publish', '--url', keyhost, '--token-file', values['token-file'] ?? DEFAULT_TOKEN_FILE, '--jwk', files.publicFile]
  process.stdout.write([
    `identity:    ${identity}`,
    `alg:         ${alg}`,
    `kid:         ${key.kid}`,
    `private key: ${files.privateFile} (keep it secret)`,
    `public key:  ${files.publicFile}`,
    '',
    `next: publish the public key on ${identity}'s key host (docs/keyhost.md):`,
    `  ${publish.map(shellQuote).join(' ')}`,
    `it prints the key URL, ${keyUrl} unless the key host's --public-origin differs`,
    '',
  ].join('\n'))
  return EXIT.ok
}
