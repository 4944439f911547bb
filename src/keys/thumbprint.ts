// RFC 7638 JWK thumbprints (SHA-256, base64url) of public keys, from the
// members OpenSSL exports. Written here rather than taken from jose: it is
// the only thing the gateway process loaded jose for (its whole module graph,
// ~0.5 MB of RSS and its load time in every gateway; docs/benchmarks.md,
// "Performance III"). The client and the key host still use jose.
// Checked against jose's calculateJwkThumbprint in test/unit/keys/thumbprint.test.ts.

import { createHash, type KeyObject } from 'node:crypto'

/** RFC 7638 §3.2 of an imported key: the members OpenSSL exports, through membersThumbprint. */
export function jwkThumbprint(key: KeyObject): string {
  const jwk = key.export({ format: 'jwk' }) as Record<string, unknown>
  const thumbprint = membersThumbprint(jwk)
  if (thumbprint === undefined) throw new TypeError(`no RFC 7638 thumbprint for kty ${String(jwk.kty)}`)
  return thumbprint
}

/**
 * RFC 7638 §3.2 over the members as a document wrote them, before anything
 * is imported: the key trust's pins are checked with it, so a key the pins
 * do not list never reaches OpenSSL (keys/trust.ts). Undefined when a required
 * member is missing or not a string. A document that spells a key in a
 * non-canonical way gets a different value here than after import; the
 * importer then compares the two and skips the key (fail closed).
 */
export function membersThumbprint(entry: Readonly<Record<string, unknown>>): string | undefined {
  const s = (m: string): string | undefined => (typeof entry[m] === 'string' ? entry[m] as string : undefined)
  let canonical: string
  if (entry.kty === 'EC') {
    const [crv, x, y] = [s('crv'), s('x'), s('y')]
    if (crv === undefined || x === undefined || y === undefined) return undefined
    canonical = JSON.stringify({ crv, kty: 'EC', x, y })
  } else if (entry.kty === 'OKP') {
    const [crv, x] = [s('crv'), s('x')]
    if (crv === undefined || x === undefined) return undefined
    canonical = JSON.stringify({ crv, kty: 'OKP', x })
  } else if (entry.kty === 'RSA') {
    const [e, n] = [s('e'), s('n')]
    if (e === undefined || n === undefined) return undefined
    canonical = JSON.stringify({ e, kty: 'RSA', n })
  } else return undefined
  return createHash('sha256').update(canonical).digest('base64url')
}

/**
 * Which thumbprints an owner (an identity) accepts: a set when its keys are
 * pinned, undefined when any key its domain serves may be used. The key
 * trust answers it (keys/trust.ts); the document readers ask it before they
 * import a key.
 */
export type PinLookup = (owner: string) => ReadonlySet<string> | undefined

/** Whether `entry` may be imported for an owner with these pins (undefined: not pinned). */
export function admitsEntry(entry: Readonly<Record<string, unknown>>, pins: ReadonlySet<string> | undefined): boolean {
  if (pins === undefined) return true
  const t = membersThumbprint(entry)
  return t !== undefined && pins.has(t)
}
