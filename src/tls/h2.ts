// An HTTP/2 request made to look, to the pipeline, like the HTTP/1.1 request
// it stands for. node:http2's compatibility objects already carry `method`,
// `url` (`:path`), `rawHeaders`, `headers` and a `socket` that forwards to
// the connection's TLSSocket (exporter, peer certificate); two things differ:
//
//   - the authority is `:authority`, not Host (RFC 9113 §8.3.1). The head
//     reader (http/request-facts.ts) already validates `:authority` exactly
//     as Host, and counts a second one (Host and :authority) as two Hosts;
//     a request with neither is refused here, as Node refuses an HTTP/1.1
//     request without Host (`requireHostHeader`);
//   - a body needs no Content-Length (RFC 9113 §8.1: DATA frames until
//     END_STREAM). When the HEADERS frame did not end the stream and no
//     Content-Length was sent, the request carries a body of unknown length,
//     which HTTP/1.1 frames as chunked (RFC 9112 §7.1): a
//     `transfer-encoding: chunked` entry is added, so the body rules
//     (`body_not_allowed`) and the forwarder see the body, and the upstream
//     gets it chunked (the field itself is hop-by-hop and never forwarded).
//
// Pseudo-header fields never reach the upstream (proxy/headers.ts).

import type { Http2ServerRequest } from 'node:http2'
import { GatewayError } from '../errors.js'

/** Adjusts `req` in place; returns the error to answer with instead of running the pipeline, if any. */
export function adaptH2Request(req: Http2ServerRequest): GatewayError | undefined {
  const headers = req.headers
  if (headers[':authority'] === undefined && headers.host === undefined) return new GatewayError('bad_request', 'an HTTP/2 request needs :authority')
  if (!req.stream.endAfterHeaders && headers['content-length'] === undefined) {
    req.rawHeaders.push('transfer-encoding', 'chunked')
    headers['transfer-encoding'] = 'chunked'
  }
  return undefined
}
