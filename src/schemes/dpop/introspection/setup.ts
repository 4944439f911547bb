// Builds the introspector of the one pinned issuer that has `introspection:`
// (config.ts), for one state: its client key read from disk (a problem at the
// config file when it cannot be), the shared Redis cache when the replay
// store is Redis, metrics on the gateway's counters.

import type { Problem } from '../../../config/yaml-source.js'
import type { Identity } from '../../../identity/domain.js'
import { readIssuer } from '../../../identity/issuer.js'
import type { Shared } from '../../module.js'
import type { DpopConfig } from '../config.js'
import { clientAuthenticator, readClientKey } from './client-auth.js'
import { createIntrospector, type Introspector } from './introspector.js'
import { createRedisSharedAnswers } from './shared-cache.js'

export interface BuiltIntrospection { readonly identity: Identity; readonly introspector: Introspector }

export async function buildIntrospection(cfg: DpopConfig, shared: Shared, problems: Problem[], canonical: (iss: string) => string): Promise<BuiltIntrospection | undefined> {
  const found = Object.entries(cfg.issuers).find(([, p]) => p.introspection !== undefined)
  if (found === undefined) return undefined
  const [iss, pinned] = found
  const intro = pinned.introspection!
  const url = readIssuer(iss)
  if (typeof url === 'string') return undefined // the config reader refused it already
  let key
  if (intro.auth.method === 'private_key_jwt') {
    try {
      key = await readClientKey(intro.auth.keyFile)
    } catch (err) {
      const why = err instanceof Error && /private key/.test(err.message) ? err.message : 'cannot be read as a private key (PEM or JWK)'
      problems.push({ file: shared.config.file, line: 1, col: 1, path: `dpop.issuers["${iss}"].introspection.privateKeyJwt.keyFile`, message: `${intro.auth.keyFile}: ${why}` })
      return undefined
    }
  }
  const sharedAnswers = shared.config.replay.store === 'redis'
    ? createRedisSharedAnswers(shared.config.replay, { onError: (err) => shared.log.debug({ err }, 'introspection shared cache: Redis error (answers are asked for again)') })
    : undefined
  const introspector = createIntrospector({
    cfg: intro,
    issuer: canonical(iss),
    audience: pinned.audience ?? cfg.audience ?? shared.publicOrigin,
    clockSkewMs: shared.proof.clockSkewMs,
    fetch: shared.outbound.fetch,
    authenticate: clientAuthenticator(intro, iss, key),
    now: shared.now,
    shared: sharedAnswers,
    onCache: (result) => shared.metrics.inc('popgate_introspection_cache_total', { result }),
    onCall: (outcome) => shared.metrics.inc('popgate_introspection_requests_total', { outcome }),
  })
  return { identity: url.hostname as Identity, introspector }
}
