// Clients for the TLS listener tests: HTTPS/1.1 with or without a client
// certificate, and HTTP/2 sessions (node:http2), all trusting the test CA
// and naming `localhost` (the server certificate's SAN).

import https from 'node:https'
import http2 from 'node:http2'
import type { IncomingHttpHeaders } from 'node:http'
import { tlsFixtures, type ClientPair } from './tls-fixtures.js'

export interface TlsResponse { status: number; headers: IncomingHttpHeaders; body: string; code: string | undefined }

const codeOf = (body: string): string | undefined => { try { return (JSON.parse(body) as { code?: string }).code } catch { return undefined } }

/** One HTTPS/1.1 request on a fresh connection. */
export function h1Request(port: number, path: string, opts: { cert?: ClientPair; headers?: Record<string, string>; method?: string; body?: string } = {}): Promise<TlsResponse> {
  return new Promise((resolve, reject) => {
    const req = https.request({
      host: '127.0.0.1', port, path, method: opts.method ?? 'GET', servername: 'localhost', ca: tlsFixtures.caPem, agent: false,
      headers: { host: 'gw.test', ...opts.headers }, cert: opts.cert?.certPem, key: opts.cert?.keyPem,
    }, (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (c: string) => { body += c })
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body, code: codeOf(body) }))
    })
    req.on('error', reject)
    req.end(opts.body)
  })
}

export interface H2Session {
  readonly session: http2.ClientHttp2Session
  /** RFC 9266 exporter of this connection, base64url. */
  readonly cb: string
  request(headers: http2.OutgoingHttpHeaders, body?: string): Promise<TlsResponse>
  close(): void
}

export async function h2Connect(port: number, opts: { cert?: ClientPair } = {}): Promise<H2Session> {
  const session = http2.connect(`https://127.0.0.1:${port}`, { ca: tlsFixtures.caPem, servername: 'localhost', cert: opts.cert?.certPem, key: opts.cert?.keyPem })
  session.on('error', () => {})
  await new Promise<void>((resolve, reject) => { session.once('connect', () => resolve()); session.once('error', reject) })
  const socket = session.socket as unknown as import('node:tls').TLSSocket
  const cb = socket.exportKeyingMaterial(32, 'EXPORTER-Channel-Binding', Buffer.alloc(0)).toString('base64url')
  return {
    session, cb,
    request(headers, body) {
      return new Promise((resolve, reject) => {
        const stream = session.request({ ':authority': 'gw.test', ...headers }, { endStream: body === undefined })
        let status = 0, respHeaders: IncomingHttpHeaders = {}, text = ''
        stream.on('response', (h) => { status = Number(h[':status']); respHeaders = h as IncomingHttpHeaders })
        stream.setEncoding('utf8')
        stream.on('data', (c: string) => { text += c })
        stream.on('end', () => resolve({ status, headers: respHeaders, body: text, code: codeOf(text) }))
        stream.on('error', reject)
        if (body !== undefined) stream.end(body)
      })
    },
    close: () => session.close(),
  }
}

/** An HTTP/2 frame as sent on the wire (RFC 9113 §4.1). */
function frame(type: number, flags: number, streamId: number, payload: Buffer): Buffer {
  const head = Buffer.alloc(9)
  head.writeUIntBE(payload.length, 0, 3)
  head[3] = type
  head[4] = flags
  head.writeUInt32BE(streamId, 5)
  return Buffer.concat([head, payload])
}

/** HPACK (RFC 7541): GET https, `:path` and `:authority` as literals without indexing, by static-table name. */
function getHeaderBlock(path: string, authority: string): Buffer {
  const literal = (nameIndex: number, value: string) => Buffer.concat([Buffer.from([nameIndex, value.length]), Buffer.from(value, 'latin1')])
  return Buffer.concat([Buffer.from([0x82, 0x87]), literal(0x04, path), literal(0x01, authority)])
}

export interface FloodResult { refused: number; responses: number; goaway: boolean }

/**
 * A client that ignores SETTINGS_MAX_CONCURRENT_STREAMS (Node's own client
 * queues streams beyond it, so it cannot flood): `streams` GETs written in one
 * go on one raw TLS connection; counts what comes back within `waitMs`.
 */
export async function rawH2Flood(port: number, streams: number, path: string, waitMs: number): Promise<FloodResult & { close(): void }> {
  const tls = await import('node:tls')
  const socket = tls.connect({ host: '127.0.0.1', port, servername: 'localhost', ca: tlsFixtures.caPem, ALPNProtocols: ['h2'] })
  socket.on('error', () => {})
  await new Promise<void>((resolve, reject) => { socket.once('secureConnect', () => resolve()); socket.once('error', reject) })
  const out: Buffer[] = [Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1'), frame(4, 0, 0, Buffer.alloc(0))]
  for (let i = 0; i < streams; i++) out.push(frame(1, 0x5, 2 * i + 1, getHeaderBlock(path, 'gw.test'))) // END_STREAM | END_HEADERS
  socket.write(Buffer.concat(out))
  const result = { refused: 0, responses: 0, goaway: false }
  let buf = Buffer.alloc(0)
  socket.on('data', (chunk: Buffer) => {
    buf = Buffer.concat([buf, chunk])
    while (buf.length >= 9) {
      const len = buf.readUIntBE(0, 3)
      if (buf.length < 9 + len) break
      const type = buf[3]!, flags = buf[4]!, payload = buf.subarray(9, 9 + len)
      if (type === 4 && (flags & 1) === 0) socket.write(frame(4, 1, 0, Buffer.alloc(0))) // ACK the server's SETTINGS
      if (type === 3 && payload.readUInt32BE(0) === 7) result.refused++ // RST_STREAM REFUSED_STREAM
      if (type === 1) result.responses++
      if (type === 7) result.goaway = true
      buf = buf.subarray(9 + len)
    }
  })
  await new Promise((r) => setTimeout(r, waitMs))
  return { ...result, close: () => socket.destroy() }
}

/**
 * HTTP/1.1 keep-alive GETs written by hand on one TLS socket: every request
 * rides that connection (channel binding, a certificate reload's open
 * connection). Answers must carry Content-Length.
 */
export function keepAliveGet(socket: import('node:tls').TLSSocket): (path: string, authorization?: string) => Promise<{ status: number; body: string }> {
  return (path, authorization) => new Promise((resolve, reject) => {
    let buf = ''
    const onData = (d: Buffer) => {
      buf += d.toString('latin1')
      const end = buf.indexOf('\r\n\r\n')
      if (end < 0) return
      const length = Number(/content-length: *(\d+)/i.exec(buf.slice(0, end))?.[1] ?? 0)
      if (buf.length < end + 4 + length) return
      socket.off('data', onData)
      resolve({ status: Number(buf.slice(9, 12)), body: buf.slice(end + 4, end + 4 + length) })
    }
    socket.on('data', onData)
    socket.once('error', reject)
    socket.write(`GET ${path} HTTP/1.1\r\nHost: gw.test\r\n${authorization ? `Authorization: ${authorization}\r\n` : ''}\r\n`)
  })
}
