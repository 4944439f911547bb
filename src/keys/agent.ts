// The undici Agent that key fetches go through, and its connector: the one
// place where the gateway opens outbound sockets (PROTOCOL.md §2.4).
//
// The connector resolves the host itself — the operator's static `resolve`
// map first (like curl --resolve), else DNS — and classifies every candidate
// address before any socket exists. A blocked candidate refuses the whole
// connection (a name that mixes public and private answers is a rebinding
// attempt, not a host to try around). The socket is then handed exactly the
// vetted addresses through a fixed `lookup`, so nothing is resolved twice, and
// once TCP connects `socket.remoteAddress` is checked again, before the socket
// is handed to undici (so before any request byte is sent): defense in depth
// against any path that bypassed the lookup.

import { lookup as dnsLookup, type LookupAddress } from 'node:dns'
import { isIP, connect as netConnect, type Socket } from 'node:net'
import { connect as tlsConnect, rootCertificates, type ConnectionOptions } from 'node:tls'
import { readFileSync } from 'node:fs'
import { Agent, type buildConnector } from 'undici'
import { GatewayError } from '../errors.js'
import { addressBlockReason } from './address-policy.js'
import type { KeysConfig } from './types.js'

/** What `openSocket` is given: a host, a port and a lookup that only ever returns vetted addresses. */
export interface OpenSocketOptions {
  readonly secure: boolean
  readonly host: string
  readonly port: number
  readonly servername: string | undefined
  readonly ca: readonly string[] | undefined
  readonly lookup: (hostname: string, options: { all?: boolean; family?: number | string }, callback: (...args: never[]) => void) => void
}

export interface SafeConnectOptions {
  readonly allowPrivateAddresses: boolean
  readonly resolve: Readonly<Record<string, string>>
  /** Trusted roots; undefined means Node's default bundle. */
  readonly ca: readonly string[] | undefined
  readonly connectTimeoutMs: number
  /** Test seam: DNS resolution (default: dns.lookup with all: true). */
  readonly lookupHost?: (hostname: string) => Promise<readonly LookupAddress[]>
  /** Test seam: open the socket (default: tls.connect / net.connect). */
  readonly openSocket?: (options: OpenSocketOptions) => Socket
}

/** Thrown (wrapped by undici as-is) when a connection would reach a blocked address. */
export function blockedAddressError(stage: 'before connecting' | 'after connecting', address: string, reason: string): GatewayError {
  const verb = stage === 'before connecting' ? 'resolves to' : 'connected to'
  // The address goes in the cause (for logs), not in the client-visible detail:
  // it may come from the operator's private resolve map.
  return new GatewayError('key_fetch_blocked_address', `key host ${verb} a blocked address: ${reason} (refused ${stage})`, {
    cause: new Error(`blocked address ${address} (${reason}) ${stage}`),
  })
}

export function createSafeConnect(opts: SafeConnectOptions): buildConnector.connector {
  const lookupHost = opts.lookupHost ?? defaultLookupHost
  const openSocket = opts.openSocket ?? defaultOpenSocket
  const blockReason = (address: string): string | undefined => (opts.allowPrivateAddresses ? undefined : addressBlockReason(address))

  return (target, callback) => {
    let settled = false
    let socket: Socket | undefined
    let timer: NodeJS.Timeout | undefined
    const finish = (err: Error | null, ok?: Socket): void => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      if (err) {
        socket?.destroy()
        callback(err, null)
      } else {
        callback(null, ok!)
      }
    }
    const secure = target.protocol === 'https:'
    const hostname = target.hostname.startsWith('[') ? target.hostname.slice(1, -1) : target.hostname
    const port = Number(target.port) || (secure ? 443 : 80)

    resolveCandidates(hostname, opts.resolve, lookupHost).then((addresses) => {
      if (settled) return
      if (addresses.length === 0) throw new GatewayError('key_fetch_failed', 'key host has no address')
      for (const a of addresses) {
        const why = blockReason(a.address)
        if (why !== undefined) throw blockedAddressError('before connecting', a.address, why)
      }
      const s = openSocket({
        secure,
        host: hostname,
        port,
        // SNI carries names only (RFC 6066 §3), never IP literals.
        servername: secure && isIP(hostname) === 0 ? (target.servername ?? hostname) : undefined,
        ca: opts.ca,
        lookup: fixedLookup(addresses),
      })
      socket = s
      timer = setTimeout(() => finish(new GatewayError('key_fetch_timeout', `could not connect to the key host within ${opts.connectTimeoutMs} ms`)), opts.connectTimeoutMs)
      s.once('error', (err) => finish(err))
      s.once('connect', () => {
        const remote = s.remoteAddress
        const why = remote === undefined ? 'unknown remote address' : blockReason(remote)
        if (why !== undefined) return finish(blockedAddressError('after connecting', remote ?? '?', why))
        if (!secure) finish(null, s)
      })
      if (secure) s.once('secureConnect', () => finish(null, s))
    }).catch((err: Error) => finish(err))
  }
}

/** The key fetcher's Agent. `caFile` is read once, here, and added to Node's default roots. */
export function createKeyAgent(cfg: KeysConfig, seams?: Pick<SafeConnectOptions, 'lookupHost' | 'openSocket'>): Agent {
  let ca: string[] | undefined
  if (cfg.caFile !== undefined) {
    try {
      ca = [...rootCertificates, readFileSync(cfg.caFile, 'utf8')]
    } catch (err) {
      throw new GatewayError('internal_error', 'keys.caFile could not be read', { cause: err })
    }
  }
  return new Agent({
    connect: createSafeConnect({
      allowPrivateAddresses: cfg.allowPrivateAddresses,
      resolve: cfg.resolve,
      ca,
      connectTimeoutMs: cfg.timeoutMs,
      ...seams,
    }),
    // The fetcher's own deadline covers the whole exchange; these are backstops.
    headersTimeout: cfg.timeoutMs,
    bodyTimeout: cfg.timeoutMs,
    maxHeaderSize: 16 * 1024,
    keepAliveTimeout: 4_000,
    keepAliveMaxTimeout: 10_000,
    pipelining: 1,
    allowH2: false,
  })
}

async function resolveCandidates(hostname: string, resolve: Readonly<Record<string, string>>, lookupHost: (h: string) => Promise<readonly LookupAddress[]>): Promise<readonly LookupAddress[]> {
  const family = isIP(hostname)
  if (family !== 0) return [{ address: hostname, family }]
  const mapped = Object.hasOwn(resolve, hostname) ? resolve[hostname] : undefined
  if (mapped !== undefined) {
    const mappedFamily = isIP(mapped)
    if (mappedFamily === 0) throw new GatewayError('key_fetch_failed', 'keys.resolve maps the key host to something that is not an IP address')
    return [{ address: mapped, family: mappedFamily }]
  }
  try {
    return await lookupHost(hostname)
  } catch (err) {
    throw new GatewayError('key_fetch_failed', `key host name does not resolve (${safeCode(err)})`, { cause: err, outage: true })
  }
}

function defaultLookupHost(hostname: string): Promise<readonly LookupAddress[]> {
  return new Promise((resolve, reject) => {
    dnsLookup(hostname, { all: true, verbatim: true }, (err, addresses) => (err ? reject(err) : resolve(addresses)))
  })
}

/**
 * A `lookup` for net.connect that answers from the vetted list. Handles both
 * callback forms: `all: true` (Node 20's autoSelectFamily / happy eyeballs)
 * wants an array; otherwise (address, family).
 */
function fixedLookup(addresses: readonly LookupAddress[]): OpenSocketOptions['lookup'] {
  return (_hostname, options, callback) => {
    const cb = callback as unknown as (err: Error | null, a?: unknown, f?: number) => void
    const wanted = options.family === 4 || options.family === 'IPv4' ? 4 : options.family === 6 || options.family === 'IPv6' ? 6 : 0
    const list = wanted === 0 ? addresses : addresses.filter((a) => a.family === wanted)
    if (list.length === 0) {
      const err = Object.assign(new Error('no vetted address of the requested family'), { code: 'ENOTFOUND' })
      return process.nextTick(cb, err)
    }
    if (options.all) process.nextTick(cb, null, list.map((a) => ({ address: a.address, family: a.family })))
    else process.nextTick(cb, null, list[0]!.address, list[0]!.family)
  }
}

function defaultOpenSocket(o: OpenSocketOptions): Socket {
  const base = { host: o.host, port: o.port, lookup: o.lookup as never }
  if (!o.secure) return netConnect(base)
  const tlsOptions: ConnectionOptions = {
    ...base,
    servername: o.servername,
    ALPNProtocols: ['http/1.1'],
    ...(o.ca ? { ca: [...o.ca] } : {}),
  }
  return tlsConnect(tlsOptions)
}

/** An error code safe to show a client: letters, digits and underscores only. */
export function safeCode(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code
  return typeof code === 'string' && /^[A-Z0-9_]{1,64}$/.test(code) ? code : 'error'
}
