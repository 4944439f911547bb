// A RequestView (schemes/types.ts) for unit tests of schemes: the facts a
// test names, any header field from `headers`, and a body when given.

import { GatewayError } from '../../src/errors.js'
import type { ChannelFacts } from '../../src/http/channel.js'
import type { VerifyView } from '../../src/schemes/types.js'

export const PLAIN_CHANNEL: ChannelFacts = { tlsVersion: undefined, exporter: undefined, clientCertSha256: undefined }

export function fakeView(over: { method?: string; path?: string; target?: string; authority?: string; client?: string; nowMs: number; channel?: ChannelFacts; headers?: Record<string, string>; body?: Uint8Array }): VerifyView {
  const headers = new Map(Object.entries(over.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v]))
  const path = over.path ?? '/'
  return {
    method: over.method ?? 'GET',
    path,
    target: over.target ?? path,
    authority: over.authority,
    client: over.client ?? '127.0.0.1',
    nowMs: over.nowMs,
    channel: over.channel ?? PLAIN_CHANNEL,
    field: (name) => headers.get(name),
    cookie: (name) => {
      for (const part of (headers.get('cookie') ?? '').split(';')) {
        const eq = part.indexOf('=')
        if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim()
      }
      return undefined
    },
    async body(maxBytes) {
      const b = over.body ?? new Uint8Array()
      if (b.length > maxBytes) throw new GatewayError('body_too_large', `the body is larger than ${maxBytes} bytes`)
      return b
    },
  }
}
