// The second scheme's module (src/schemes/module.ts): its `second:` section,
// its construction from the shared collaborators, its route and its gauge.

import { Buffer } from 'node:buffer'
import { bool, refine, scalar, str, type Section } from '../../../src/config/readers.js'
import type { SchemeModule } from '../../../src/schemes/module.js'
import { createSecondScheme, secondGrant } from './index.js'

/** `key` stays a string: the config is deep-frozen, and a Buffer cannot be. */
export interface SecondConfig { readonly enabled: boolean; readonly key: string }

/** A base64url key of at least 32 bytes. */
const key = refine(str, (v) => {
  const b = Buffer.from(v, 'base64url')
  return b.length >= 32 && b.toString('base64url') === v ? { value: v } : 'must be at least 32 bytes, base64url'
})

export const SECOND_ROUTE = '/.well-known/second'

export const secondModule: SchemeModule<SecondConfig> = {
  name: 'second',
  section: 'second',
  credentialFields: [],
  read(root: Section): SecondConfig {
    const s = root.sub('second', ['enabled', 'key'])
    const enabled = s.get('enabled', scalar(bool), false)
    const k = s.get('key', scalar(key), '')
    if (enabled && k.length === 0) s.report('key', 'is required when second is enabled')
    return { enabled, key: k }
  },
  async build(cfg, shared) {
    if (!cfg.enabled) return { schemes: [] }
    let verified = 0
    return {
      schemes: [createSecondScheme({ key: Buffer.from(cfg.key, 'base64url'), replay: shared.replay('second'), onVerified: () => { verified++ } })],
      grants: [secondGrant],
      routes: new Map([[SECOND_ROUTE, { contentType: 'application/json', body: '{"scheme":"second"}', cacheControl: 'no-store' }]]),
      gauges: () => [{ name: 'popgate_second_verified', help: 'Second cookies verified since the module was built', value: verified }],
    }
  },
}
