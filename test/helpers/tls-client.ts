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
