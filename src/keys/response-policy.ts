// What a response head must look like before we read its body (PROTOCOL.md
// §2.4). Pure; used by the fetcher before reading the body and again by the
// document cache for injected fetchers, so both paths obey one policy. The
// media types a call takes come from its MediaProfile; the rest is the same
// for every document.

import { GatewayError } from '../errors.js'
import type { MediaProfile, ResponseHeaders } from './types.js'

/** A key set: RFC 7517 §8.5.1 registers application/jwk-set+json; plain JSON is common in the wild. */
export const JWK_SET_PROFILE: MediaProfile = Object.freeze({
  accept: 'application/jwk-set+json, application/json',
  mediaTypes: new Set(['application/jwk-set+json', 'application/json']),
})

/** A JSON document: RFC 8414 §3.2 metadata, RFC 7662 §2.2 introspection responses. */
export const JSON_PROFILE: MediaProfile = Object.freeze({
  accept: 'application/json',
  mediaTypes: new Set(['application/json']),
})

/** Throws the §2.4 error for a response head that is not a usable document of `profile`'s kind. */
export function checkResponseHead(status: number, headers: ResponseHeaders, maxBytes: number, profile: MediaProfile = JWK_SET_PROFILE): void {
  // No redirects: a redirect would let the document live off the identity's
  // host or outside the path prefix (PROTOCOL.md §2.4).
  if (status >= 300 && status < 400) throw new GatewayError('key_fetch_redirect', `key host answered ${status}; redirects are not followed`)
  // RFC 5861 §4: 500, 502, 503 and 504 are errors (a verified key may be served stale), any other status an answer.
  if (status >= 500) throw new GatewayError('key_fetch_status', `key host answered ${status}, expected 200`, { outage: true })
  if (status !== 200 && !(profile.any2xx === true && status >= 200 && status < 300)) throw new GatewayError('key_fetch_status', `key host answered ${status}, expected 200`)

  const length = single(headers['content-length'])
  if (length !== undefined) {
    if (!/^[0-9]{1,15}$/.test(length)) throw new GatewayError('key_fetch_failed', 'key host sent an invalid Content-Length')
    if (Number(length) > maxBytes) throw new GatewayError('key_fetch_too_large', `key document is larger than ${maxBytes} bytes`)
  }

  // A profile without media types reads no body (a webhook's answer).
  if (profile.mediaTypes.size === 0) return
  const type = headers['content-type']
  if (typeof type !== 'string') throw new GatewayError('key_fetch_content_type', `key document must have one Content-Type: ${allowed(profile)}`)
  const media = type.split(';', 1)[0]!.trim().toLowerCase()
  if (!profile.mediaTypes.has(media)) throw new GatewayError('key_fetch_content_type', `key document Content-Type must be ${allowed(profile)}`)

  // We send no Accept-Encoding, so anything but identity is a misbehaving host.
  const encoding = single(headers['content-encoding'])
  if (encoding !== undefined && encoding.trim().toLowerCase() !== 'identity') {
    throw new GatewayError('key_fetch_content_type', 'key document must not be content-encoded')
  }
}

const allowed = (profile: MediaProfile): string => [...profile.mediaTypes].join(' or ')

function single(value: string | string[] | undefined): string | undefined {
  if (Array.isArray(value)) {
    // Repeated identical values are harmless (RFC 9110 §8.6 allows it for Content-Length); differing ones are not.
    if (value.length === 0) return undefined
    if (value.some((v) => v !== value[0])) return '!' // forces the caller's format check to fail
    return value[0]
  }
  return value
}
