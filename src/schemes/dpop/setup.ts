// What the DPoP scheme needs from files and config when a state is built:
// pinned issuers' JWK Sets read from disk (problems reported like any other
// config problem), and the RFC 9728 protected-resource metadata document.

import { readFile } from 'node:fs/promises'
import { isGatewayError } from '../../errors.js'
import { parseJwks, type KeySet } from '../../keys/index.js'
import type { DpopConfig } from './config.js'
import type { Problem } from '../../config/yaml-source.js'
import type { OwnRoute } from '../../http/own-routes.js'
import { DPOP_PROOF_ALGORITHMS } from './proof.js'

/** RFC 9728 §3: the well-known path for a resource identifier without a path. */
export const PROTECTED_RESOURCE_PATH = '/.well-known/oauth-protected-resource'

/** Pinned issuers' `jwksFile`s, parsed; an unreadable or invalid one is a problem at the config file. */
export async function loadPinnedSets(dpop: DpopConfig, configFile: string, problems: Problem[]): Promise<Map<string, KeySet>> {
  const sets = new Map<string, KeySet>()
  if (!dpop.enabled) return sets
  for (const [iss, p] of Object.entries(dpop.issuers)) {
    if (p.jwksFile === undefined) continue
    try {
      sets.set(iss, parseJwks(await readFile(p.jwksFile)))
    } catch (err) {
      const why = isGatewayError(err) ? err.detail : 'cannot be read'
      problems.push({ file: configFile, line: 1, col: 1, path: `dpop.issuers["${iss}"].jwksFile`, message: `${p.jwksFile}: ${why}` })
    }
  }
  return sets
}

/**
 * RFC 9728 §2 metadata: the resource (the audience tokens must carry), the
 * pinned authorization servers, and that tokens must be DPoP-bound.
 */
export function protectedResourceRoute(dpop: DpopConfig, publicOrigin: string): [string, OwnRoute] {
  const body = JSON.stringify({
    resource: dpop.audience ?? publicOrigin,
    authorization_servers: Object.keys(dpop.issuers),
    bearer_methods_supported: ['header'],
    dpop_signing_alg_values_supported: [...DPOP_PROOF_ALGORITHMS],
    dpop_bound_access_tokens_required: true,
  })
  return [PROTECTED_RESOURCE_PATH, { contentType: 'application/json', body, cacheControl: 'public, max-age=300' }]
}
