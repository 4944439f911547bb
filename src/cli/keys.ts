import { parseArgs } from 'node:util'
import { resolve } from 'node:path'
import { readFileSync } from 'node:fs'
import { generateClientKey, saveClientKey, type ClientAlgorithm } from '../client/keys.js'
import { identityProblem } from '../identity/domain.js'
import { createKeyHostServer, bearerTokenFromFile } from '../keyhost/server.js'
import { createDirKeyStore, createMemoryKeyStore } from '../keyhost/store.js'
import { UsageError } from './usage.js'

function requireIdentity(v: string | undefined): string {
  if (!v) throw new UsageError('--identity DOMAIN is required')
  const why = identityProblem(v)
  if (why) throw new UsageError(`--identity ${v}: ${why}`)
  return v
}

export async function runKeygen(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { identity: { type: 'string' }, out: { type: 'string' }, alg: { type: 'string', default: 'ES256' } } })
  const identity = requireIdentity(values.identity)
  if (!values.out) throw new UsageError('--out DIR is required')
  const alg = values.alg as ClientAlgorithm
  if (!['ES256', 'ES384', 'Ed25519', 'PS256'].includes(alg)) throw new UsageError('--alg must be ES256, ES384, Ed25519 or PS256')
  const key = await generateClientKey(alg)
  const files = await saveClientKey(key, resolve(values.out))
  process.stdout.write([
    `identity:    ${identity}`,
    `alg:         ${alg}`,
    `kid:         ${key.kid}`,
    `private key: ${files.privateFile} (keep it secret)`,
    `public key:  ${files.publicFile}`,
    `publish it at https://${identity}/.well-known/domainpop/keys/${key.kid}`,
    '',
  ].join('\n'))
  return 0
}

export async function runKeyhost(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: {
    identity: { type: 'string' }, listen: { type: 'string', default: '127.0.0.1:8443' }, store: { type: 'string', default: 'memory' },
    'token-file': { type: 'string' }, cert: { type: 'string' }, key: { type: 'string' }, 'public-origin': { type: 'string' },
  } })
  const identity = requireIdentity(values.identity)
  const m = /^(.*):(\d+)$/.exec(values.listen!)
  if (!m) throw new UsageError('--listen must be HOST:PORT')
  const tls = values.cert && values.key ? { cert: readFileSync(values.cert), key: readFileSync(values.key) } : undefined
  const store = values.store === 'memory' ? createMemoryKeyStore() : createDirKeyStore(resolve(values.store!))
  // Without a token file nobody may publish: fail closed.
  const authorize = values['token-file'] ? bearerTokenFromFile(values['token-file']) : () => false
  const publicOrigin = values['public-origin'] ?? `https://${identity}`
  const server = createKeyHostServer({ identity, store, authorize, publicOrigin }, tls)
  await new Promise<void>((r) => server.listen(Number(m[2]), m[1]!.replace(/^\[|\]$/g, ''), r))
  const addr = server.address() as import('node:net').AddressInfo
  process.stdout.write(`keyhost for ${identity} on ${tls ? 'https' : 'http'}://${addr.address}:${addr.port} (keys published as ${publicOrigin}/.well-known/domainpop/keys/<kid>)\n`)
  if (!values['token-file']) process.stdout.write('no --token-file: publishing is disabled\n')
  return -1
}
