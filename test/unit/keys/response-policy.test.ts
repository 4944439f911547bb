// The response head policy (keys/response-policy.ts): what a response must
// look like before its body is read. Pure.

import t from 'tap'
import { checkResponseHead, JSON_PROFILE } from '../../../src/keys/response-policy.js'
import { GatewayError } from '../../../src/errors.js'

t.test('response head policy', async (t) => {
  const ok = { 'content-type': 'application/jwk-set+json' }
  const codeOf = (status: number, headers: Record<string, string | string[]>): string => {
    try {
      checkResponseHead(status, headers, 1000)
      return 'ok'
    } catch (err) {
      return err instanceof GatewayError ? err.code : 'not a GatewayError'
    }
  }
  t.equal(codeOf(200, ok), 'ok')
  t.equal(codeOf(200, { 'content-type': 'application/json; charset=utf-8' }), 'ok')
  t.equal(codeOf(200, { 'content-type': 'Application/JWK-Set+JSON' }), 'ok', 'media types are case-insensitive')
  for (const s of [301, 302, 303, 307, 308, 304]) t.equal(codeOf(s, { ...ok, location: '/x' }), 'key_fetch_redirect', `${s}`)
  for (const s of [201, 204, 206, 400, 404, 500, 503]) t.equal(codeOf(s, ok), 'key_fetch_status', `${s}`)
  t.equal(codeOf(200, {}), 'key_fetch_content_type', 'missing')
  for (const ct of ['text/html', 'text/plain', 'application/jwk+json', 'application/jsonx', 'application/json-seq', 'application/jose+json']) {
    t.equal(codeOf(200, { 'content-type': ct }), 'key_fetch_content_type', ct)
  }
  t.equal(codeOf(200, { 'content-type': ['application/json', 'text/html'] }), 'key_fetch_content_type', 'two content types')
  t.equal(codeOf(200, { ...ok, 'content-encoding': 'gzip' }), 'key_fetch_content_type', 'encoded')
  t.equal(codeOf(200, { ...ok, 'content-length': '1001' }), 'key_fetch_too_large', 'Content-Length over the cap')
  t.equal(codeOf(200, { ...ok, 'content-length': '1000' }), 'ok', 'exactly the cap')
  t.equal(codeOf(200, { ...ok, 'content-length': '99999999999999999999' }), 'key_fetch_failed', 'absurd Content-Length')
  t.equal(codeOf(200, { ...ok, 'content-length': ['10', '20'] }), 'key_fetch_failed', 'conflicting Content-Length')
})

t.test('the media types taken come from the call\'s profile', async (t) => {
  const codeOf = (type: string): string => {
    try {
      checkResponseHead(200, { 'content-type': type }, 1000, JSON_PROFILE)
      return 'ok'
    } catch (err) {
      return err instanceof GatewayError ? `${err.code}: ${err.detail}` : 'not a GatewayError'
    }
  }
  t.equal(codeOf('application/json; charset=utf-8'), 'ok', 'RFC 8414 metadata is application/json')
  t.equal(codeOf('application/jwk-set+json'), 'key_fetch_content_type: key document Content-Type must be application/json', 'a key set is not metadata')
})
