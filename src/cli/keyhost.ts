// `popgate keyhost`: the reference key host of an identity domain, and
// `popgate keyhost publish`, which POSTs a public JWK to one (docs/keyhost.md).
import http from 'node:http'
import https from 'node:https'
import { parseArgs } from 'node:util'
import { resolve } from 'node:path'
import type { AddressInfo } from 'node:net'
import { createKeyHostHandler, bearerTokenFromFile, DEFAULT_KEY_TTL_MS, SIGNATURES_DIRECTORY_PATH, type KeyHostEvent } from '../keyhost/server.js'
import { createDirKeyStore, createMemoryKeyStore } from '../keyhost/store.js'
import { createIssuer } from '../keyhost/issuer.js'
import { requireIdentity, originOption } from './keys.js'
import { readInput, fetchWith, readTlsFiles, unreachable } from './net.js'
import { UsageError, CliError, EXIT } from './usage.js'

const PREFIX = '/.well-known/domainpop/'
const MIN_TOKEN_CHARS = 16

async function tokenCheck(file: string | undefined): Promise<((req: http.IncomingMessage) => boolean) | undefined> {
  if (!file) return undefined
  const token = (await readInput(file, '--token-file')).toString('utf8').trim()
  if (token.length < MIN_TOKEN_CHARS) throw new CliError(`--token-file ${file}: the token must be at least ${MIN_TOKEN_CHARS} characters; put a long random one in it`, EXIT.noInput)
  return bearerTokenFromFile(file)
}

function listenOn(server: http.Server, host: string, port: number): Promise<AddressInfo> {
  return new Promise((ok, fail) => {
    server.once('error', (err: NodeJS.ErrnoException) => fail(err.code === 'EADDRINUSE'
      ? new CliError(`cannot listen on ${host}:${port}: address already in use; stop the other process or pick another --listen`, EXIT.cannotListen)
      : new CliError(`cannot listen on ${host}:${port} (${err.code ?? err.message})`, EXIT.cannotListen)))
    server.listen(port, host, () => ok(server.address() as AddressInfo))
  })
}

async function serveKeyhost(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: {
    identity: { type: 'string' }, listen: { type: 'string', default: '127.0.0.1:8443' }, store: { type: 'string', default: 'memory' },
    'token-file': { type: 'string' }, cert: { type: 'string' }, key: { type: 'string' }, 'public-origin': { type: 'string' },
    'signatures-directory': { type: 'boolean', default: false },
    issuer: { type: 'boolean', default: false },
  } })
  const identity = requireIdentity(values.identity)
  if (!values.cert !== !values.key) throw new UsageError('--cert and --key go together: give both to serve https, or neither for plain http')
  const m = /^(.*):(\d+)$/.exec(values.listen!)
  if (!m || Number(m[2]) > 65535) throw new UsageError('--listen must be HOST:PORT, e.g. 127.0.0.1:8443')
  const publicOrigin = values['public-origin'] === undefined ? undefined : originOption(values['public-origin'], '--public-origin')
  const tls = values.cert && values.key ? { cert: await readInput(values.cert, '--cert'), key: await readInput(values.key, '--key') } : undefined
  const authorize = await tokenCheck(values['token-file'])
  const store = values.store === 'memory' ? createMemoryKeyStore() : createDirKeyStore(resolve(values.store!))
  let server: http.Server
  try { server = tls ? https.createServer({ cert: tls.cert, key: tls.key }) : http.createServer() } catch (err) {
    throw new CliError(`--cert/--key: not a usable certificate and key (${(err as Error).message})`, EXIT.noInput)
  }
  const addr = await listenOn(server, m[1]!.replace(/^\[|\]$/g, ''), Number(m[2]))
  // Default: what this process actually serves, under the identity's name.
  const scheme = tls ? 'https' : 'http'
  const origin = publicOrigin ?? new URL(`${scheme}://${identity}:${addr.port}`).origin
  // Without a token file nobody may publish: fail closed.
  if (values.issuer && !tls && !publicOrigin) throw new UsageError('--issuer needs https: give --cert and --key, or --public-origin https://… when a TLS proxy fronts this process')
  if (values.issuer && !authorize) throw new UsageError('--issuer needs --token-file: the token endpoint answers only the domain\'s own services')
  const issuer = values.issuer ? createIssuer({ publicOrigin: origin, authorize: authorize!, pathPrefix: PREFIX }) : undefined
  const onEvent = (e: KeyHostEvent): void => {
    const from = e.client ? ` from ${e.client}` : ''
    const line = e.action === 'published' ? `published kid ${e.kid}${from}; expires ${e.expiresAt}`
      : e.action === 'revoked' ? `revoked kid ${e.kid}${from}`
      : `refused ${e.method}${from}: no or wrong publish token`
    process.stdout.write(`${new Date().toISOString()} ${line}\n`)
  }
  server.on('request', createKeyHostHandler({ identity, store, authorize: authorize ?? (() => false), publicOrigin: origin, pathPrefix: PREFIX, onEvent, signaturesDirectory: values['signatures-directory'], issuer }))
  const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address
  process.stdout.write([
    `keyhost for ${identity} on ${scheme}://${host}:${addr.port} (keys published as ${origin}${PREFIX}keys/<kid>)`,
    ...(publicOrigin ? [] : [`key URLs name what this process serves; if gateways reach it another way (a TLS proxy on https://${identity}), set --public-origin`]),
    ...(values['signatures-directory'] ? [`the same keys as an HTTP Message Signatures directory: ${origin}${SIGNATURES_DIRECTORY_PATH}`] : []),
    `store: ${values.store === 'memory' ? 'memory (keys are lost on exit)' : resolve(values.store!)}; published keys expire after ${DEFAULT_KEY_TTL_MS / 86_400_000} days`,
    authorize ? `publish: POST ${origin}${PREFIX}keys with "Authorization: Bearer <token in ${values['token-file']}>"` : 'no --token-file: publishing is disabled',
    ...(issuer ? [`issuer: ${origin} (RFC 8414 metadata at ${origin}/.well-known/oauth-authorization-server; cnf.jwk tokens from POST ${origin}${PREFIX}issuer/token with the same token)`] : []),
    '',
  ].join('\n'))
  const stop = () => { server.close(); server.closeAllConnections(); process.exitCode = 0 }
  process.once('SIGTERM', stop)
  process.once('SIGINT', stop)
  return -1
}

async function publish(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { url: { type: 'string' }, 'token-file': { type: 'string' }, jwk: { type: 'string' }, cacert: { type: 'string' } } })
  if (!values.url || !values['token-file'] || !values.jwk) throw new UsageError('keyhost publish needs --url URL, --token-file FILE and --jwk FILE')
  const base = originOption(values.url, '--url')
  let jwk: Record<string, unknown>
  try { jwk = JSON.parse((await readInput(values.jwk, '--jwk')).toString('utf8')) as Record<string, unknown> } catch (err) {
    if (err instanceof CliError) throw err
    throw new CliError(`--jwk ${values.jwk}: not JSON; give the public.jwk.json that keygen wrote`, EXIT.noInput)
  }
  if (jwk && typeof jwk === 'object' && 'd' in jwk) throw new UsageError(`--jwk ${values.jwk} holds a private key: publish public.jwk.json, never private.jwk.json`)
  const token = (await readInput(values['token-file'], '--token-file')).toString('utf8').trim()
  const doFetch = await fetchWith(await readTlsFiles(values.cacert, undefined, undefined))
  const url = `${base}${PREFIX}keys`
  let res: Response
  try {
    res = await doFetch(url, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(jwk) })
  } catch (err) { throw unreachable(url, err) }
  const body = await res.json().catch(() => ({})) as { keyUrl?: string; kid?: string; expiresAt?: string; error?: string; error_description?: string }
  if (res.status === 401) throw new CliError(`${url}: 401, the key host refused the token: --token-file must hold the token the key host was started with`, EXIT.denied)
  if (res.status !== 201 || typeof body.keyUrl !== 'string') {
    throw new CliError(`${url}: ${res.status} ${body.error_description ?? body.error ?? res.statusText}${res.status === 404 ? ': is this a popgate key host?' : ''}`, EXIT.denied)
  }
  process.stdout.write(body.keyUrl + '\n')
  process.stderr.write(`published kid ${body.kid}; it expires ${body.expiresAt}: publish again before then\n`)
  return EXIT.ok
}

export async function runKeyhost(argv: string[]): Promise<number> {
  return argv[0] === 'publish' ? publish(argv.slice(1)) : serveKeyhost(argv)
}
