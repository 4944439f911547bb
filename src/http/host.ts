// Is a Host (or :authority) field value a valid `host[:port]`? Pure; a
// char-code scan with no allocation on the common path (measured in
// bench: the check runs on every request).
//
// RFC 9110 §7.2: Host = uri-host [ ":" port ]
// RFC 3986 §3.2.2: host = IP-literal / IPv4address / reg-name
//                  reg-name = *( unreserved / pct-encoded / sub-delims )
//          §3.2.3: port = *DIGIT
//
// Deliberately narrower than the RFC in three places, each a character some
// upstream reads differently from the gateway (issue 11 finding 2):
//   - reg-name: unreserved characters only (A-Z a-z 0-9 - . _ ~). No
//     pct-encoding and no sub-delims (! $ & ' ( ) * + , ; =): no DNS name
//     needs them, and `%2F`, `,` or `;` in a Host are attack tools.
//   - IP-literal: an IPv6 address only, without zone id; no IPvFuture.
//   - port: 1-5 digits, at most 65535; an empty port (`gw.test:`) is refused.
// An empty Host, allowed by RFC 9110 for targets without an authority, is
// refused too: every request the gateway serves has one.

import { isIPv6 } from 'node:net'

/** RFC 3986 §3.2.2 caps DNS-style names at 255 characters. */
export const MAX_HOST_NAME_LENGTH = 255

/** 1 for the unreserved characters (RFC 3986 §2.3), by char code; 0 otherwise. */
const UNRESERVED = new Uint8Array(128)
for (const c of 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~') UNRESERVED[c.charCodeAt(0)] = 1

const COLON = 0x3a
const OPEN = 0x5b
const CLOSE = 0x5d

export function isValidHost(value: string): boolean {
  const n = value.length
  if (n === 0) return false
  let i: number
  if (value.charCodeAt(0) === OPEN) {
    const close = value.indexOf(']')
    // Only hex digits, ':' and '.' may sit inside; isIPv6 then checks the shape.
    if (close < 3) return false
    for (let j = 1; j < close; j++) {
      const c = value.charCodeAt(j)
      const hex = (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66)
      if (!hex && c !== COLON && c !== 0x2e) return false
    }
    if (!isIPv6(value.slice(1, close))) return false
    i = close + 1
  } else {
    i = 0
    while (i < n) {
      const c = value.charCodeAt(i)
      if (c === COLON) break
      if (c >= 128 || UNRESERVED[c] === 0) return false
      i++
    }
    if (i === 0 || i > MAX_HOST_NAME_LENGTH) return false
  }
  if (i === n) return true
  if (value.charCodeAt(i) !== COLON) return false
  return isPort(value, i + 1)
}

/** 1-5 ASCII digits from `start` to the end, at most 65535. */
function isPort(value: string, start: number): boolean {
  const digits = value.length - start
  if (digits < 1 || digits > 5) return false
  let port = 0
  for (let j = start; j < value.length; j++) {
    const c = value.charCodeAt(j)
    if (c < 0x30 || c > 0x39) return false
    port = port * 10 + (c - 0x30)
  }
  return port <= 65535
}
