// RFC 7638 JWK thumbprints (SHA-256, base64url) of public keys, from the
// members OpenSSL exports. Written here rather than taken from jose: it is
// the only thing the gateway process loaded jose for (its whole module graph,
// ~0.5 MB of RSS and its load time in every gateway; docs/benchmarks.md,
// "Performance III"). The client and the key host still use jose.
// Checked against jose's calculateJwkThumbprint in test/unit/keys/thumbprint.test.ts.

import { createHash, type KeyObject } from 'node:crypto'

/** RFC 7638 §3.2: the required members only, in lexicographic order, no whitespace. */
export function jwkThumbprint(key: KeyObject): string {
  const jwk = key.export({ format: 'jwk' }) as Record<string, string | undefined>
  let canonical: string
  if (jwk.kty === 'EC') canonical = JSON.stringify({ crv: jwk.crv, kty: 'EC', x: jwk.x, y: jwk.y })
  else if (jwk.kty === 'OKP') canonical = JSON.stringify({ crv: jwk.crv, kty: 'OKP', x: jwk.x })
  else if (jwk.kty === 'RSA') canonical = JSON.stringify({ e: jwk.e, kty: 'RSA', n: jwk.n })
  else throw new TypeError(`no RFC 7638 thumbprint for kty ${String(jwk.kty)}`)
  return createHash('sha256').update(canonical).digest('base64url')
}
