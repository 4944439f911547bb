// The one per-request view schemes and grants read (schemes/types.ts
// RequestView, VerifyView), built once by the gate. Every fact is read
// lazily: a header field is looked up in the raw list only when a scheme asks
// for it, the body is buffered only when a scheme's verify asks for it.

import type { IncomingMessage } from 'node:http'
import { GatewayError } from '../errors.js'
import type { ChannelFacts } from '../http/channel.js'
import { requestChannel } from '../tls/front-door.js'
import type { RequestFacts } from '../http/request-facts.js'
import type { ClientCertificate } from '../tls/certificate.js'
import type { AmbientSource } from '../schemes/registry.js'
import type { VerifyView } from '../schemes/types.js'

const EMPTY = new Uint8Array(0)

export class GateView implements VerifyView, AmbientSource {
  #channel: ChannelFacts | undefined
  #body: Promise<Uint8Array> | undefined
  #bodyLimit = 0
  /** The body as buffered by `body()`; the forwarder sends it instead of the stream. Undefined: never asked. */
  buffered: Uint8Array | undefined
  /** The client address; set by the gate once it has read it (pipeline/authenticate.ts step 1). */
  client = ''

  constructor(
    private readonly req: IncomingMessage,
    private readonly facts: RequestFacts,
    readonly method: string,
    readonly path: string,
    readonly nowMs: number,
  ) {}

  get target(): string { return this.req.url ?? '' }
  get authority(): string | undefined { return this.facts.host }
  get channel(): ChannelFacts { return (this.#channel ??= requestChannel(this.req)) } // a trusted hop's forwarded certificate included

  field(name: string): string | undefined {
    name = name.toLowerCase()
    const raw = this.req.rawHeaders
    let value: string | undefined
    for (let i = 0; i < raw.length; i += 2) {
      const n = raw[i]!
      if (n.length !== name.length || n.toLowerCase() !== name) continue
      // RFC 9110 §5.3: lines of one field combine with ", "; Cookie lines with "; " (RFC 6265 §5.4).
      value = value === undefined ? raw[i + 1]! : value + (name === 'cookie' ? '; ' : ', ') + raw[i + 1]!
    }
    return value
  }

  cookie(name: string): string | undefined {
    return cookieValue(this.field('cookie'), name)
  }

  /**
   * The client certificate (chained or not: the scheme decides), or undefined:
   * the socket's, or from a trusted hop its RFC 9440 `Client-Cert` (the
   * front door read it; tls/front-door.ts requestChannel).
   */
  clientCertificate(): ClientCertificate | undefined {
    return this.channel.clientCert
  }

  body(maxBytes: number): Promise<Uint8Array> {
    if (this.#body !== undefined) {
      // Buffered once: a second, smaller bound still holds.
      return this.#body.then((b) => { if (b.length > maxBytes) throw tooLarge(maxBytes); return b })
    }
    this.#bodyLimit = maxBytes
    this.#body = this.facts.hasBody ? readBody(this.req, this.#bodyLimit) : Promise.resolve(EMPTY)
    return this.#body.then((b) => (this.buffered = b))
  }
}

const tooLarge = (max: number) => new GatewayError('body_too_large', `the body is larger than ${max} bytes`)

/** Reads the whole body, refusing one longer than `max` (by Content-Length before reading, or as it arrives). */
export function readBody(req: IncomingMessage, max: number): Promise<Uint8Array> {
  const declared = req.headers['content-length']
  if (declared !== undefined && Number(declared) > max) return Promise.reject(tooLarge(max))
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let total = 0
    const onData = (chunk: Buffer) => {
      total += chunk.length
      if (total > max) {
        cleanup()
        reject(tooLarge(max))
        return
      }
      chunks.push(chunk)
    }
    const onEnd = () => { cleanup(); resolve(Buffer.concat(chunks, total)) }
    const onError = (err: Error) => { cleanup(); reject(new GatewayError('bad_request', 'the request body could not be read', { cause: err })) }
    const onClose = () => { if (!req.complete) { cleanup(); reject(new GatewayError('bad_request', 'the client closed the connection mid-body')) } }
    const cleanup = () => { req.off('data', onData); req.off('end', onEnd); req.off('error', onError); req.off('close', onClose) }
    req.on('data', onData)
    req.on('end', onEnd)
    req.on('error', onError)
    req.on('close', onClose)
  })
}

/** One cookie's value from a Cookie field (RFC 6265 §5.4: `name=value` pairs separated by "; "). */
export function cookieValue(header: string | undefined, name: string): string | undefined {
  if (header === undefined) return undefined
  for (const part of header.split(';')) {
    const eq = part.indexOf('=')
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim()
  }
  return undefined
}
