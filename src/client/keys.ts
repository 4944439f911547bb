// Key material for identity domains and their clients: generate, save, load,
// thumbprint. Files are JWK JSON (private.jwk.json holds `d`; keep it 0600).

import { generateKeyPairSync, createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto'
import { readFile, writeFile, mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { calculateJwkThumbprint, type JWK } from 'jose'

export type ClientAlgorithm = 'ES256' | 'ES384' | 'Ed25519' | 'EdDSA' | 'PS256'

export interface ClientKey {
  readonly privateKey: KeyObject
  readonly publicJwk: JWK
  /** RFC 7638 SHA-256 thumbprint: the proof's `kid`. */
  readonly kid: string
  readonly alg: ClientAlgorithm
}

const PUBLIC_MEMBERS: Record<string, readonly string[]> = { EC: ['kty', 'crv', 'x', 'y'], OKP: ['kty', 'crv', 'x'], RSA: ['kty', 'n', 'e'] }

export function publicJwkOf(key: KeyObject): JWK {
  const full = createPublicKey(key).export({ format: 'jwk' }) as Record<string, string>
  const out: Record<string, string> = {}
  for (const m of PUBLIC_MEMBERS[full.kty!] ?? []) out[m] = full[m]!
  return out as JWK
}

export function defaultAlgFor(key: KeyObject): ClientAlgorithm {
  switch (key.asymmetricKeyType) {
    case 'ed25519': return 'Ed25519'
    case 'rsa': case 'rsa-pss': return 'PS256'
    case 'ec': return key.asymmetricKeyDetails?.namedCurve === 'secp384r1' ? 'ES384' : 'ES256'
    default: throw new Error(`unsupported key type ${key.asymmetricKeyType}`)
  }
}

export async function clientKeyFrom(privateKey: KeyObject, alg?: ClientAlgorithm): Promise<ClientKey> {
  const publicJwk = publicJwkOf(privateKey)
  return { privateKey, publicJwk, kid: await calculateJwkThumbprint(publicJwk, 'sha256'), alg: alg ?? defaultAlgFor(privateKey) }
}

export async function generateClientKey(alg: ClientAlgorithm = 'ES256'): Promise<ClientKey> {
  const { privateKey } =
    alg === 'Ed25519' || alg === 'EdDSA' ? generateKeyPairSync('ed25519')
    : alg === 'PS256' ? generateKeyPairSync('rsa', { modulusLength: 2048 })
    : generateKeyPairSync('ec', { namedCurve: alg === 'ES384' ? 'P-384' : 'P-256' })
  return clientKeyFrom(privateKey, alg)
}

export async function saveClientKey(key: ClientKey, dir: string): Promise<{ privateFile: string; publicFile: string }> {
  await mkdir(dir, { recursive: true })
  const privateFile = join(dir, 'private.jwk.json'), publicFile = join(dir, 'public.jwk.json')
  const jwk = { ...(key.privateKey.export({ format: 'jwk' }) as object), alg: key.alg, kid: key.kid }
  await writeFile(privateFile, JSON.stringify(jwk, null, 2) + '\n', { mode: 0o600 })
  await writeFile(publicFile, JSON.stringify({ ...key.publicJwk, alg: key.alg, use: 'sig' }, null, 2) + '\n')
  return { privateFile, publicFile }
}

export async function loadClientKey(file: string): Promise<ClientKey> {
  const jwk = JSON.parse(await readFile(file, 'utf8')) as JWK & { alg?: ClientAlgorithm }
  if (!jwk.d) throw new Error(`${file}: not a private JWK (no "d")`)
  return clientKeyFrom(createPrivateKey({ key: jwk as import('node:crypto').JsonWebKey, format: 'jwk' }), jwk.alg)
}

/** The key a client signs with, loaded (from a file, a KeyObject or a ClientKey) on first use and kept. */
export function lazyClientKey(privateKey: KeyObject | ClientKey | string, alg?: ClientAlgorithm): () => Promise<ClientKey> {
  let loaded: Promise<ClientKey> | undefined
  return () => (loaded ??= typeof privateKey === 'string'
    ? loadClientKey(privateKey)
    : 'kid' in privateKey ? Promise.resolve(privateKey) : clientKeyFrom(privateKey, alg))
}

/** Whether a request body can be sent a second time (a retry after a nonce challenge): not a stream. */
export const replayableBody = (body: RequestInit['body']): boolean =>
  body == null || typeof body === 'string' || body instanceof URLSearchParams || body instanceof ArrayBuffer || ArrayBuffer.isView(body) || body instanceof Blob
