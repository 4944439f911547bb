// base64url (RFC 4648 §5, no padding) and UTF-8, for JWS in the browser.
// No Node imports: this folder compiles with lib dom only (tsconfig.json).

const enc = new TextEncoder()
const dec = new TextDecoder()

export const utf8 = (s: string): Uint8Array<ArrayBuffer> => enc.encode(s) as Uint8Array<ArrayBuffer>

export function b64url(bytes: ArrayBuffer | Uint8Array): string {
  const b = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes)
  let bin = ''
  for (let i = 0; i < b.length; i++) bin += String.fromCharCode(b[i]!)
  return btoa(bin).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')
}

export function fromB64url(s: string): Uint8Array {
  if (!/^[A-Za-z0-9_-]*$/.test(s)) throw new Error('not base64url')
  const bin = atob(s.replace(/-/g, '+').replace(/_/g, '/') + '='.repeat((4 - (s.length % 4)) % 4))
  const out = new Uint8Array(bin.length)
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i)
  return out
}

export const b64urlJson = (v: unknown): string => b64url(utf8(JSON.stringify(v)))

export const textOf = (bytes: Uint8Array): string => dec.decode(bytes)

/** 16 random bytes, base64url: a `jti`. */
export const randomId = (): string => b64url(crypto.getRandomValues(new Uint8Array(16)))
