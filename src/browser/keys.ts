// The client's signing key: made with WebCrypto as non-extractable (the
// private half can be used, never read out, not even by this page's own
// scripts), kept in IndexedDB across reloads (a CryptoKey survives a
// structured clone with its extractable flag), found again by identity.
// ES256 (ECDSA P-256) everywhere; Ed25519 where the browser has it
// (Chrome 137+, Firefox 129+, Safari 17+), falling back to ES256.

import { b64url, utf8 } from './encoding.js'

export type BrowserAlgorithm = 'ES256' | 'Ed25519'

/** A public JWK, only the members that name the key (RFC 7638 §3.2). */
export type PublicJwk = { kty: 'EC'; crv: 'P-256'; x: string; y: string } | { kty: 'OKP'; crv: 'Ed25519'; x: string }

export interface StoredKey {
  /** The identity the key speaks for (the store's key). */
  readonly identity: string
  readonly alg: BrowserAlgorithm
  readonly privateKey: CryptoKey
  readonly publicJwk: PublicJwk
  /** RFC 7638 SHA-256 thumbprint: the proofs' `kid`. */
  readonly kid: string
  /** Where the public key was published; undefined until it was. */
  readonly keyUrl?: string
  readonly createdAtMs: number
}

/** Where keys are kept. The default is IndexedDB; tests and other runtimes pass their own. */
export interface KeyStore {
  get(identity: string): Promise<StoredKey | undefined>
  put(key: StoredKey): Promise<void>
  delete(identity: string): Promise<void>
}

const DB = 'popgate', STORE = 'keys'

function request<T>(r: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    r.onsuccess = () => resolve(r.result)
    r.onerror = () => reject(r.error)
  })
}

/** Keys in this origin's IndexedDB (database `popgate`, store `keys`, keyed by identity). */
export function indexedDbKeyStore(dbName = DB): KeyStore {
  let db: Promise<IDBDatabase> | undefined
  const open = () => (db ??= new Promise<IDBDatabase>((resolve, reject) => {
    const r = indexedDB.open(dbName, 1)
    r.onupgradeneeded = () => { r.result.createObjectStore(STORE, { keyPath: 'identity' }) }
    r.onsuccess = () => resolve(r.result)
    r.onerror = () => reject(r.error)
  }))
  const tx = async (mode: IDBTransactionMode) => (await open()).transaction(STORE, mode).objectStore(STORE)
  return {
    get: async (identity) => (await request((await tx('readonly')).get(identity))) as StoredKey | undefined,
    put: async (key) => { await request((await tx('readwrite')).put(key)) },
    delete: async (identity) => { await request((await tx('readwrite')).delete(identity)) },
  }
}

/** Keys in memory only: gone with the page. */
export function memoryKeyStore(): KeyStore {
  const keys = new Map<string, StoredKey>()
  return {
    get: async (identity) => keys.get(identity),
    put: async (key) => { keys.set(key.identity, key) },
    delete: async (identity) => { keys.delete(identity) },
  }
}

/** RFC 7638 thumbprint: SHA-256 over the required members in lexicographic order, base64url. */
export async function thumbprint(jwk: PublicJwk): Promise<string> {
  const canonical = jwk.kty === 'EC'
    ? `{"crv":"${jwk.crv}","kty":"EC","x":"${jwk.x}","y":"${jwk.y}"}`
    : `{"crv":"${jwk.crv}","kty":"OKP","x":"${jwk.x}"}`
  return b64url(await crypto.subtle.digest('SHA-256', utf8(canonical)))
}

async function generate(alg: BrowserAlgorithm): Promise<CryptoKeyPair> {
  const params = alg === 'Ed25519' ? { name: 'Ed25519' } : { name: 'ECDSA', namedCurve: 'P-256' }
  // extractable = false: the private key never leaves WebCrypto.
  return await crypto.subtle.generateKey(params, false, ['sign', 'verify']) as CryptoKeyPair
}

/** A new non-extractable key for `identity`: Ed25519 when asked and available, else ES256. */
export async function createKey(identity: string, want: BrowserAlgorithm, nowMs: number): Promise<StoredKey> {
  let alg = want
  let pair: CryptoKeyPair
  try { pair = await generate(alg) } catch (err) {
    if (alg === 'ES256') throw err
    alg = 'ES256' // no Ed25519 in this browser
    pair = await generate(alg)
  }
  const full = await crypto.subtle.exportKey('jwk', pair.publicKey)
  const publicJwk: PublicJwk = alg === 'Ed25519'
    ? { kty: 'OKP', crv: 'Ed25519', x: full.x! }
    : { kty: 'EC', crv: 'P-256', x: full.x!, y: full.y! }
  return { identity, alg, privateKey: pair.privateKey, publicJwk, kid: await thumbprint(publicJwk), createdAtMs: nowMs }
}

/** Signs a JWS signing input: ECDSA gives raw r‖s, exactly JWS ES256 (RFC 7518 §3.4). */
export async function signWith(key: StoredKey, signingInput: string): Promise<string> {
  const params = key.alg === 'Ed25519' ? { name: 'Ed25519' } : { name: 'ECDSA', hash: 'SHA-256' }
  return b64url(await crypto.subtle.sign(params, key.privateKey, utf8(signingInput)))
}
