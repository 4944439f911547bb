// The client side of RFC 9266 channel binding (PROTOCOL.md §5): one TLS 1.3
// connection to the gateway, opened by us, whose `EXPORTER-Channel-Binding`
// value goes into every proof sent on it as `cb`. An undici Client (one
// connection, no pipelining) whose `connect` hands over the socket we
// opened, so the proof can be signed *before* the request is dispatched
// and still name the connection it will travel on.
//
// Only where the gateway itself terminates TLS 1.3: behind a load balancer
// the exporter belongs to the balancer's connection and nothing matches
// (docs/tls.md). Browsers expose no exporter.
//
// Undici quirk (undici 7): a connector that calls back synchronously with a
// socket that is already connected leaves the first request unsent until
// the next one; calling back on the next turn does not.

import tls from 'node:tls'
import { isIP } from 'node:net'
import { Client, type Dispatcher } from 'undici'

const LABEL = 'EXPORTER-Channel-Binding'

export interface ChannelBindingOptions {
  /** CA certificates (PEM) to trust instead of the system store. */
  readonly ca?: string | Buffer
  /** A client certificate chain and its key (PEM), for gateways that ask (tls.clientCertificates). */
  readonly cert?: string | Buffer
  readonly key?: string | Buffer
  /** SNI and certificate name; default: the origin's host name. */
  readonly servername?: string
}

export interface ChannelBinding {
  /** The undici dispatcher every bound request must use. */
  readonly dispatcher: Dispatcher
  /**
   * base64url of the exporter of the connection the next request will use,
   * opening that connection when there is none (a TLS 1.3 handshake).
   * Rejects when the server negotiated anything older than TLS 1.3.
   */
  exporter(): Promise<string>
  close(): Promise<void>
}

export function createChannelBinding(origin: string, opts: ChannelBindingOptions = {}): ChannelBinding {
  const url = new URL(origin)
  if (url.protocol !== 'https:') throw new Error(`${origin}: channel binding needs an https origin`)
  const host = url.hostname.replace(/^\[|\]$/g, '')
  const port = Number(url.port || 443)
  /** The connection the next request goes on: opened by exporter(), handed to undici by connect. */
  let pending: Promise<{ socket: tls.TLSSocket; cb: string }> | undefined
  let current: { socket: tls.TLSSocket; cb: string } | undefined

  const open = (): Promise<{ socket: tls.TLSSocket; cb: string }> => new Promise((resolve, reject) => {
    const socket = tls.connect({
      host, port, servername: opts.servername ?? (isIP(host) === 0 ? host : undefined), // SNI never names an address (RFC 6066 §3)
      ca: opts.ca, cert: opts.cert, key: opts.key, minVersion: 'TLSv1.3', ALPNProtocols: ['http/1.1'],
    })
    socket.once('secureConnect', () => {
      socket.off('error', reject)
      // RFC 9266 §3: TLS 1.3 only (minVersion above makes anything else fail the handshake).
      const cb = socket.exportKeyingMaterial(32, LABEL, Buffer.alloc(0)).toString('base64url')
      const conn = { socket, cb }
      socket.once('close', () => { if (current === conn) current = undefined })
      resolve(conn)
    })
    socket.once('error', reject)
  })

  const next = (): Promise<{ socket: tls.TLSSocket; cb: string }> => {
    if (current !== undefined && !current.socket.destroyed) return Promise.resolve(current)
    pending ??= open().finally(() => { pending = undefined })
    return pending.then((conn) => { current = conn; return conn })
  }

  const dispatcher = new Client(url.origin, {
    pipelining: 1,
    connect: (_options, callback) => {
      next().then(
        (conn) => setImmediate(() => callback(null, conn.socket)),
        (err: Error) => setImmediate(() => callback(err, null)),
      )
    },
  })

  return {
    dispatcher,
    exporter: async () => (await next()).cb,
    close: () => dispatcher.close(),
  }
}
