// Outbound HTTP for the CLI (fetch, keyhost publish): an optional private CA
// (--cacert), and a failed request turned into one line that names the cause
// and what to do (undici says only "fetch failed" and keeps the reason in
// `cause`).

import { readFile } from 'node:fs/promises'
import { CliError, EXIT } from './usage.js'

/** Reads an input file or fails with exit 66 and the option that named it. */
export async function readInput(file: string, option: string): Promise<Buffer> {
  try { return await readFile(file) } catch (err) {
    throw new CliError(`cannot read ${option} ${file} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`, EXIT.noInput)
  }
}

/** globalThis.fetch, or one that trusts only the CA certificates in `cacert` (like curl --cacert). */
export async function fetchWith(cacert: string | undefined): Promise<typeof fetch> {
  if (!cacert) return globalThis.fetch
  const ca = await readInput(cacert, '--cacert')
  if (!ca.toString('latin1').includes('-----BEGIN CERTIFICATE-----')) throw new CliError(`--cacert ${cacert}: not a PEM certificate file`, EXIT.noInput)
  const { Agent, fetch: undiciFetch } = await import('undici') // only when asked: keeps every other command's start light
  const dispatcher = new Agent({ connect: { ca } })
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
