// The DomainPoP folder's module (schemes/module.ts). DomainPoP is always on
// and has no section of its own: its settings are the shared proof window
// (`proof:`), nonces (`nonce:`) and the identity-domain key cache (`keys:`).

import type { SchemeModule } from '../module.js'
import { createDomainPopScheme } from './index.js'

export const domainpopModule: SchemeModule<undefined> = {
  name: 'domainpop',
  credentialFields: [],

  async build(_cfg, shared) {
    return {
      schemes: [createDomainPopScheme({
        proof: { publicOrigin: shared.publicOrigin, proof: shared.config.proof, keys: shared.config.keys, nonces: shared.nonces },
        keys: shared.identityKeys,
        keyTrust: shared.keyTrust,
        // `dp`, as before the modules: a used jti stays used across the upgrade.
        replay: shared.replay('dp'),
        nonces: shared.nonces,
        now: shared.now,
      })],
    }
  },
}
