// The exchanges the public listeners are carrying, for the graceful drain
// (server.ts): plain requests until their response closes, upgraded sockets
// (WebSockets) until they close.
//
// drain(): stop accepting (server.close(), which also closes idle keep-alive
// connections), answer what is in flight with `Connection: close`, close
// each keep-alive connection as it turns idle, and wait until nothing is in
// flight or the timeout passes; then cut whatever is left.
//
// Node does not do the keep-alive part itself: after server.close() a
// response still in flight goes out with `Connection: keep-alive` and its
// socket then sits idle until keepAliveTimeout.
//
// Per request: one Set add and one 'close' listener (a shared function, no
// closure), measured with the public-route bench (docs/benchmarks.md).

import type { ServerResponse } from 'node:http'
import type { Duplex } from 'node:stream'

/** Responses the drain cut (still open when its timeout passed): their access line says so. */
const cut = new WeakSet<ServerResponse>()
export const cutByDrain = (res: ServerResponse): boolean => cut.has(res)

/** A listener as the drain sees it: an http.Server, or the TLS listener (tls/listener.ts, which also ends HTTP/2 sessions). */
export interface Server {
  close(cb?: (err?: Error) => void): unknown
  closeAllConnections(): void
  closeIdleConnections(): void
}

export interface DrainResult {
  /** Requests and WebSockets still open when the timeout passed, and cut. */
  readonly cut: number
}

export class InFlight {
  private readonly responses = new Set<ServerResponse>()
  private readonly sockets = new Set<Duplex>()
  private servers: readonly Server[] = []
  private draining = false
  private onEmpty: (() => void) | undefined
  private sweepQueued = false
  private readonly responseClosed: (this: ServerResponse) => void
  private readonly socketClosed: (this: Duplex) => void

  constructor() {
    const self = this
    this.responseClosed = function () { self.responses.delete(this); self.settled() }
    this.socketClosed = function () { self.sockets.delete(this); self.settled() }
  }

  get isDraining(): boolean { return this.draining }
  get size(): number { return this.responses.size + this.sockets.size }

  trackResponse(res: ServerResponse): void {
    this.responses.add(res)
    res.on('close', this.responseClosed)
    // A request that arrives on an open keep-alive connection during the drain is served, then the connection closes.
    if (this.draining) res.shouldKeepAlive = false
  }

  trackSocket(socket: Duplex): void {
    this.sockets.add(socket)
    socket.on('close', this.socketClosed)
  }

  /** Resolves when every tracked exchange has ended, or after `timeoutMs` with the rest cut; the servers are closed either way. */
  async drain(servers: readonly Server[], timeoutMs: number): Promise<DrainResult> {
    this.draining = true
    this.servers = servers
    const closed = servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve())))
    for (const res of this.responses) if (!res.headersSent) res.shouldKeepAlive = false
    const finished = this.size === 0 || await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => { this.onEmpty = undefined; resolve(false) }, timeoutMs)
      this.onEmpty = () => { clearTimeout(timer); resolve(true) }
    })
    const cutCount = finished ? 0 : this.size
    for (const res of this.responses) if (!res.writableEnded) cut.add(res)
    for (const s of servers) s.closeAllConnections()
    for (const socket of this.sockets) socket.destroy()
    await Promise.all(closed)
    return { cut: cutCount }
  }

  private settled(): void {
    if (!this.draining) return
    // The connection turns idle only after Node's own 'finish' handling: sweep on the next turn.
    if (!this.sweepQueued) {
      this.sweepQueued = true
      setImmediate(() => {
        this.sweepQueued = false
        for (const s of this.servers) s.closeIdleConnections()
      })
    }
    if (this.size === 0) this.onEmpty?.()
  }
}
