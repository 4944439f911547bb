// tls/h2.ts: an HTTP/2 request as the pipeline expects an HTTP/1.1 one.

import t from 'tap'
import type { Http2ServerRequest } from 'node:http2'
import { adaptH2Request } from '../../../src/tls/h2.js'

const fake = (headers: Record<string, string>, endAfterHeaders: boolean) => {
  const rawHeaders = Object.entries(headers).flat()
  return { headers: { ...headers }, rawHeaders, stream: { endAfterHeaders } } as unknown as Http2ServerRequest
}

t.test('no :authority and no Host: refused, as Node refuses an HTTP/1.1 request without Host', async (t) => {
  t.equal(adaptH2Request(fake({ ':path': '/' }, true))?.code, 'bad_request')
  t.equal(adaptH2Request(fake({ ':path': '/', host: 'gw.test' }, true)), undefined, 'a Host alone is the authority (RFC 9113 §8.3.1)')
})

t.test('a body of unknown length is marked chunked; a known length or no body is left alone', async (t) => {
  const open = fake({ ':authority': 'gw.test' }, false)
  adaptH2Request(open)
  t.strictSame(open.rawHeaders.slice(-2), ['transfer-encoding', 'chunked'])
  t.equal(open.headers['transfer-encoding'], 'chunked')
  const sized = fake({ ':authority': 'gw.test', 'content-length': '5' }, false)
  adaptH2Request(sized)
  t.equal(sized.headers['transfer-encoding'], undefined)
  const ended = fake({ ':authority': 'gw.test' }, true)
  adaptH2Request(ended)
  t.equal(ended.rawHeaders.length, 2, 'END_STREAM on HEADERS: no body')
})
