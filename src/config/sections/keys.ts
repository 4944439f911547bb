// Section `keys`: how identity domains' key documents are fetched and cached (PROTOCOL.md §2.4).

import type { Config } from '../types.js'
import { Section, allowPorts, bool, duration, filePath, httpUrl, identity, ipLiteral, listOf, mapOf, pathPrefix, positiveInt, scalar, size, type Check } from '../readers.js'
import { formatDurationMs, formatSizeBytes } from '../units.js'
import { IDENTITY_KEY_PATH_PREFIX } from '../../schemes/index.js'

export function readKeys(root: Section): Config['keys'] {
  const k = root.sub('keys', ['pathPrefix', 'allowHttp', 'allowPrivateAddresses', 'allowPorts', 'resolve', 'caFile', 'timeout', 'maxBytes',
    'cacheMinTtl', 'cacheMaxTtl', 'negativeTtl', 'refetchCooldown', 'cacheMaxEntries', 'cacheMaxBytes', 'hotKeys', 'maxInFlightPerDomain', 'maxInFlight', 'maxUrlsPerIdentity', 'maxBytesPerIdentity',
    'staleIfError', 'webhook'])
  const keys = {
    pathPrefix: k.get('pathPrefix', scalar(pathPrefix), IDENTITY_KEY_PATH_PREFIX),
    allowHttp: k.get('allowHttp', listOf(scalar(identity), { unique: true }), []),
    allowPrivateAddresses: k.get('allowPrivateAddresses', scalar(bool), false),
    allowPorts: k.get('allowPorts', allowPorts, [443]),
    resolve: k.get('resolve', mapOf(identity, scalar(ipLiteral)), Object.create(null) as Record<string, string>),
    caFile: k.get('caFile', scalar(filePath), undefined),
    timeoutMs: k.get('timeout', duration(), 3_000),
    maxBytes: k.get('maxBytes', size, 64 * 1024),
    cacheMinTtlMs: k.get('cacheMinTtl', duration(), 60_000),
    cacheMaxTtlMs: k.get('cacheMaxTtl', duration(), 3_600_000),
    negativeTtlMs: k.get('negativeTtl', duration(), 10_000),
    refetchCooldownMs: k.get('refetchCooldown', duration(), 30_000),
    cacheMaxEntries: k.get('cacheMaxEntries', scalar(positiveInt()), 10_000),
    cacheMaxBytes: k.get('cacheMaxBytes', size, 32 * 1024 * 1024),
    maxUrlsPerIdentity: k.get('maxUrlsPerIdentity', scalar(positiveInt()), 8),
    maxBytesPerIdentity: k.get('maxBytesPerIdentity', size, 256 * 1024),
    hotKeys: k.get('hotKeys', scalar(positiveInt()), 1_024),
    maxInFlightPerDomain: k.get('maxInFlightPerDomain', scalar(positiveInt()), 4),
    maxInFlight: k.get('maxInFlight', scalar(positiveInt()), 64),
    // RFC 5861 §4: how long past its expiry a verified key stays usable while its host is down (0: never).
    staleIfErrorMs: k.get('staleIfError', duration({ allowZero: true }), 3_600_000),
    // Where key_first_seen events are POSTed (keys/webhook.ts), through the safe fetcher.
    webhook: k.get('webhook', scalar(webhookUrl), undefined),
  }
  if (keys.cacheMinTtlMs > keys.cacheMaxTtlMs) {
    k.report(k.has('cacheMinTtl') ? 'cacheMinTtl' : 'cacheMaxTtl',
      `cacheMinTtl (${formatDurationMs(keys.cacheMinTtlMs)}) must not exceed cacheMaxTtl (${formatDurationMs(keys.cacheMaxTtlMs)})`)
  }
  // One document must fit what one identity may hold, and one identity what the cache may.
  if (keys.maxBytesPerIdentity < keys.maxBytes) {
    k.report(k.has('maxBytesPerIdentity') ? 'maxBytesPerIdentity' : 'maxBytes',
      `maxBytesPerIdentity (${formatSizeBytes(keys.maxBytesPerIdentity)}) must not be smaller than maxBytes (${formatSizeBytes(keys.maxBytes)})`)
  }
  if (keys.cacheMaxBytes < keys.maxBytesPerIdentity) {
    k.report(k.has('cacheMaxBytes') ? 'cacheMaxBytes' : 'maxBytesPerIdentity',
      `cacheMaxBytes (${formatSizeBytes(keys.cacheMaxBytes)}) must not be smaller than maxBytesPerIdentity (${formatSizeBytes(keys.maxBytesPerIdentity)})`)
  }
  return keys
}

/** keys.webhook: an http(s) URL (the safe fetcher still refuses plain http unless keys.allowHttp lists its host). */
const webhookUrl: Check<string> = (v) => {
  const u = httpUrl(v, 'https://alerts.example/popgate')
  return typeof u === 'string' ? u : { value: u.href }
}
