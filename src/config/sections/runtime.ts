// Sections `log`, `trustedProxies`, `timeouts` and `limits`: how the process
// behaves under load and what it tells operators.

import type { Config, LogLevel } from '../types.js'
import { Section, bool, duration, ipOrCidr, listOf, oneOf, positiveInt, scalar, size } from '../readers.js'

const LOG_LEVELS: readonly LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']

export function readLog(root: Section): Config['log'] {
  const log = root.sub('log', ['level', 'access', 'format'])
  return {
    level: log.get('level', scalar(oneOf(LOG_LEVELS)), 'info'),
    access: log.get('access', scalar(bool), true),
    format: log.get('format', scalar(oneOf(['json', 'pretty'] as const)), 'json'),
  }
}

export function readTrustedProxies(root: Section): Config['trustedProxies'] {
  return root.get('trustedProxies', listOf(scalar(ipOrCidr), { unique: true }), [])
}

export function readTimeouts(root: Section): Config['timeouts'] {
  const t = root.sub('timeouts', ['upstreamConnect', 'upstreamHeaders', 'upstreamBody', 'clientHeaders', 'clientRequest', 'keepAlive'])
  return {
    upstreamConnectMs: t.get('upstreamConnect', duration(), 5_000),
    upstreamHeadersMs: t.get('upstreamHeaders', duration(), 30_000),
    upstreamBodyMs: t.get('upstreamBody', duration(), 300_000),
    clientHeadersMs: t.get('clientHeaders', duration(), 20_000),
    clientRequestMs: t.get('clientRequest', duration(), 300_000),
    keepAliveMs: t.get('keepAlive', duration(), 5_000),
  }
}

export function readLimits(root: Section): Config['limits'] {
  const l = root.sub('limits', ['maxHeaderBytes', 'maxHeaderCount', 'upstreamConnections', 'failedAuthPerClientPerMinute', 'failedAuthPerIdentityPerMinute', 'newKeyDomainsPerMinute'])
  return {
    maxHeaderBytes: l.get('maxHeaderBytes', size, 16 * 1024),
    maxHeaderCount: l.get('maxHeaderCount', scalar(positiveInt(10_000)), 100),
    upstreamConnections: l.get('upstreamConnections', scalar(positiveInt()), 64),
    failedAuthPerClientPerMinute: l.get('failedAuthPerClientPerMinute', scalar(positiveInt()), 120),
    failedAuthPerIdentityPerMinute: l.get('failedAuthPerIdentityPerMinute', scalar(positiveInt()), 300),
    newKeyDomainsPerMinute: l.get('newKeyDomainsPerMinute', scalar(positiveInt()), 300),
  }
}
