// A key trust (src/keys/trust.ts) for tests that build a scheme directly:
// memory records, the given identities: settings (none: every key admitted
// and recorded), a silent logger unless one is given.

import { Writable } from 'node:stream'
import { createKeyTrust, createKeyTrustCore, type KeyTrust } from '../../src/keys/trust.js'
import { createMemoryKnownKeys } from '../../src/keys/known-keys.js'
import { createLogger, type Logger } from '../../src/log.js'
import { createMetrics, type Metrics } from '../../src/metrics.js'
import type { IdentityPolicy } from '../../src/acl/identities.js'
import type { Identity } from '../../src/identity/domain.js'

export function openKeyTrust(opts: { policies?: ReadonlyMap<Identity, IdentityPolicy>; now?: () => number; log?: Logger; metrics?: Metrics } = {}): KeyTrust {
  return createKeyTrust({
    core: createKeyTrustCore(createMemoryKnownKeys()),
    policies: opts.policies ?? new Map(),
    now: opts.now ?? Date.now,
    log: opts.log ?? createLogger('silent', new Writable({ write: (_c, _e, cb) => cb() })),
    metrics: opts.metrics ?? createMetrics({ processMetrics: false }),
  })
}
