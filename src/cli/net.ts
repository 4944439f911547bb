// Outbound HTTP for the CLI (fetch, keyhost publish): an optional private CA
// (--cacert), and a failed request turned into one line that names the cause
// and what to do (undici says only "fetch failed" and keeps the reason in
// `cause`).

import { readFile } from 'node:fs/promises'
import { CliError, EXIT, UsageError } from './usage.js'

/** Reads an input file or fails with exit 66 and the option that named it. */
export async function readInput(file: string, option: string): Promise<Buffer> {
  try { return await readFile(file) } catch (err) {
    throw new CliError(`cannot read ${option} ${file} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`, EXIT.noInput)
  }
}

/** A PEM file that must hold `marker` (a certificate, a private key), or exit 66 naming the option. */
export async function readPem(file: string, option: string, marker: RegExp, what: string): Promise<Buffer> {
  const pem = await readInput(file, option)
  if (!marker.test(pem.toString('latin1'))) throw new CliError(`${option} ${file}: not a PEM ${what} file`, EXIT.noInput)
  return pem
}

const PEM_CERT = /-----BEGIN CERTIFICATE-----/
const PEM_KEY = /-----BEGIN (?:[A-Z]+ )?PRIVATE KEY-----/

/** TLS material for an https request: --cacert, and a client certificate (--cert, with its key inside or in --cert-key). */
export interface TlsFiles { readonly ca?: Buffer; readonly cert?: Buffer; readonly key?: Buffer }

export async function readTlsFiles(cacert: string | undefined, cert: string | undefined, certKey: string | undefined): Promise<TlsFiles> {
  const ca = cacert === undefined ? undefined : await readPem(cacert, '--cacert', PEM_CERT, 'certificate')
  if (cert === undefined) {
    if (certKey !== undefined) throw new UsageError('--cert-key needs --cert (the client certificate it belongs to)')
    return { ca }
  }
  const chain = await readPem(cert, '--cert', PEM_CERT, 'certificate')
  // Like curl, --cert may hold the key too; otherwise --cert-key names it.
  const key = certKey !== undefined ? await readPem(certKey, '--cert-key', PEM_KEY, 'private key')
    : PEM_KEY.test(chain.toString('latin1')) ? chain : undefined
  if (key === undefined) throw new UsageError(`--cert ${cert} holds no private key; give it with --cert-key FILE`)
  return { ca, cert: chain, key }
}

/** globalThis.fetch, or one that trusts only the CA certificates in `ca` (like curl --cacert) and presents a client certificate. */
export async function fetchWith(files: TlsFiles): Promise<typeof fetch> {
  if (files.ca === undefined && files.cert === undefined) return globalThis.fetch
  const { Agent, fetch: undiciFetch } = await import('undici') // only when asked: keeps every other command's start light
  const dispatcher = new Agent({ connect: { ca: files.ca, cert: files.cert, key: files.key } })
  return ((input: string | URL, init?: RequestInit) => undiciFetch(input, { ...(init as object), dispatcher } as Parameters<typeof undiciFetch>[1])) as unknown as typeof fetch
}

const UNTRUSTED = new Set(['DEPTH_ZERO_SELF_SIGNED_CERT', 'SELF_SIGNED_CERT_IN_CHAIN', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'UNABLE_TO_GET_ISSUER_CERT', 'CERT_UNTRUSTED'])

/** The innermost error with a `code`, following `cause` (undici nests the socket error). */
function rootCause(err: unknown): { code?: string; message: string } {
  let found: { code?: string; message: string } = { message: (err as Error)?.message ?? String(err) }
  let e: unknown = err
  for (let depth = 0; e && depth < 5; depth++, e = (e as { cause?: unknown }).cause) {
    const code = (e as { code?: unknown }).code
    if (typeof code === 'string' || depth === 0) found = { code: typeof code === 'string' ? code : undefined, message: (e as Error).message ?? String(e) }
    if (e instanceof AggregateError && e.errors.length > 0) e = { cause: e.errors[0] }
  }
  return found
}

/** A request that never got an answer → one line with the cause, exit 69. */
export function unreachable(url: string, err: unknown): CliError {
  const u = new URL(url)
  const { code, message } = rootCause(err)
  const why = code === 'ECONNREFUSED' ? `nothing listens at ${u.host}: is the server running, on that port?`
    : code === 'ENOTFOUND' || code === 'EAI_AGAIN' ? `cannot resolve ${u.hostname} (${code})`
    : code && UNTRUSTED.has(code) ? `the server's certificate is not trusted (${code}); pass --cacert FILE with the CA that signed it, or set NODE_EXTRA_CA_CERTS`
    : code === 'CERT_HAS_EXPIRED' ? 'the server\'s certificate has expired (CERT_HAS_EXPIRED)'
    : code === 'ERR_TLS_CERT_ALTNAME_INVALID' ? `the server's certificate does not name ${u.hostname} (ERR_TLS_CERT_ALTNAME_INVALID)`
    : code === 'EPROTO' || /wrong version number/i.test(message) ? `TLS handshake failed (${code ?? 'EPROTO'}): does ${u.host} speak ${u.protocol === 'https:' ? 'https, or only http' : 'http'}?`
    : code?.includes('TIMEOUT') ? `no answer from ${u.host} in time (${code})`
    : `${message}${code ? ` (${code})` : ''}`
  return new CliError(`${u.origin}: ${why}`, EXIT.unavailable)
}
