// The reference issuer's view of gateways (issue 24, `key_type: symmetric`):
// the encryption key a gateway publishes with `use: "enc"` in its JWK Set at
// `<gateway origin>/.well-known/popgate/jwks.json` (PROTOCOL.md §4), fetched
// through the gateway's own safe fetcher (keys/fetcher.ts: no redirects, a
// deadline, a body cap, private addresses refused unless allowed) and kept a
// few minutes per gateway (bounded), so a burst of token requests costs one
// fetch. A key set carrying any private member is refused whole (RFC 7517
// §9.3: a publisher that leaks one key may leak all).

import type { KeyObject } from 'node:crypto'
import { createPublicKey } from 'node:crypto'
import { isGatewayError } from '../errors.js'
import { createSafeFetcher, JWK_SET_PROFILE, PRIVATE_MEMBERS, type KeysConfig, type SafeFetcher } from '../keys/index.js'
import { Lru } from '../keys/lru.js'
import { CNF_JWE_ALG } from '../secrets/encryption-keys.js'
import { JWKS_PATH } from '../proxy/assertion.js'

export interface GatewayEncryptionKey {
  readonly kid: string
  readonly publicKey: KeyObject
}

export interface GatewayKeys {
  /** The gateway's current `cnf.jwe` key: the first `use: "enc"` P-256 key of its set. Throws GatewayKeyError. */
  encryptionKey(gatewayOrigin: string): Promise<GatewayEncryptionKey>
  close(): Promise<void>
}

export class GatewayKeyError extends Error {
  override readonly name = 'GatewayKeyError'
}

export interface GatewayKeysOptions {
  /** The fetch policy (default: https, any port, public addresses only, 3 s, 64 KiB). */
  readonly policy?: Partial<KeysConfig>
  /** Where a gateway's set is (default `<origin>/.well-known/popgate/jwks.json`): a test seam for a gateway on a loopback port. */
  readonly jwksUrlFor?: (gatewayOrigin: string) => URL
  /** How long a set is kept (default 5 minutes, the gateway's own max-age). */
  readonly ttlMs?: number
  readonly now?: () => number
  /** A fetcher to use instead of a new safe fetcher (tests). */
  readonly fetcher?: SafeFetcher
}

const DEFAULT_POLICY: KeysConfig = {
  pathPrefix: '/.well-known/domainpop/', allowHttp: [], allowPrivateAddresses: false, allowPorts: 'any', resolve: {}, caFile: undefined,
  timeoutMs: 3_000, maxBytes: 64 * 1024, cacheMinTtlMs: 60_000, cacheMaxTtlMs: 3_600_000, negativeTtlMs: 10_000, refetchCooldownMs: 30_000,
  cacheMaxEntries: 1_000, cacheMaxBytes: 8 * 1024 * 1024, maxUrlsPerIdentity: 8, maxBytesPerIdentity: 256 * 1024, hotKeys: 64,
  maxInFlightPerDomain: 4, maxInFlight: 16,
}

/** Pure: the set's first usable encryption key, or why there is none. */
export function pickEncryptionKey(body: Buffer | string): GatewayEncryptionKey | string {
  let doc: unknown
  try { doc = JSON.parse(body.toString()) } catch { return 'the gateway JWK Set is not JSON' }
  const keys = (doc as { keys?: unknown } | null)?.keys
  if (!Array.isArray(keys)) return 'the gateway JWK Set has no keys array'
  for (const k of keys) {
    if (k !== null && typeof k === 'object' && PRIVATE_MEMBERS.some((m) => m in k)) return 'the gateway JWK Set holds a private key member: refused'
  }
  for (const k of keys as Record<string, unknown>[]) {
    if (k === null || typeof k !== 'object' || k.use !== 'enc' || k.kty !== 'EC' || k.crv !== 'P-256') continue
    if (k.alg !== undefined && k.alg !== CNF_JWE_ALG) continue
    if (typeof k.kid !== 'string' || k.kid.length === 0 || k.kid.length > 64) continue
    try {
      return { kid: k.kid, publicKey: createPublicKey({ key: { kty: 'EC', crv: 'P-256', x: k.x as string, y: k.y as string }, format: 'jwk' }) }
    } catch {
      continue
    }
  }
  return `the gateway publishes no use "enc" P-256 key for ${CNF_JWE_ALG}`
}

export function createGatewayKeys(opts: GatewayKeysOptions = {}): GatewayKeys {
  const fetcher = opts.fetcher ?? createSafeFetcher({ ...DEFAULT_POLICY, ...opts.policy })
  const ttlMs = opts.ttlMs ?? 300_000
  const now = opts.now ?? Date.now
  const cache = new Lru<string, { key: Promise<GatewayEncryptionKey>; atMs: number }>(256)
  const urlFor = opts.jwksUrlFor ?? ((origin: string) => new URL(JWKS_PATH, origin))

  const load = async (origin: string): Promise<GatewayEncryptionKey> => {
    let doc
    try {
      doc = await fetcher.fetch({ url: urlFor(origin), profile: JWK_SET_PROFILE })
    } catch (err) {
      throw new GatewayKeyError(`${origin}: the gateway's JWK Set could not be fetched (${isGatewayError(err) ? err.code : 'error'})`)
    }
    const picked = pickEncryptionKey(doc.body)
    if (typeof picked === 'string') throw new GatewayKeyError(`${origin}: ${picked}`)
    return picked
  }

  return {
    encryptionKey(origin) {
      const hit = cache.get(origin)
      if (hit && now() - hit.atMs < ttlMs) return hit.key
      // One fetch per gateway at a time; a failure is not kept.
      const key = load(origin)
      cache.set(origin, { key, atMs: now() })
      key.catch(() => { if (cache.get(origin)?.key === key) cache.delete(origin) })
      return key
    },
    close: () => fetcher.close(),
  }
}
