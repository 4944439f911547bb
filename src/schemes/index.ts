// The scheme modules, in the order their challenges are listed: the one list
// that names them (docs/architecture.md, "Adding a credential scheme").
// A new scheme is a folder under src/schemes/ and one line here.

import type { SchemeModule } from './module.js'
import { ASSURANCES } from './types.js'
import { domainpopModule } from './domainpop/module.js'
import { dpopModule } from './dpop/module.js'
import { sessionsModule } from './sessions/index.js'
import { httpSignatureModule } from './http-signature/module.js'
import { issuerSymmetricModule } from './issuer-symmetric/module.js'
import { mtlsModule } from './mtls/module.js'

/** The default path under which identities host their keys (PROTOCOL.md §2.1), for the `keys:` section and the reference key host. */
export { DOMAINPOP_KEY_PATH_PREFIX as IDENTITY_KEY_PATH_PREFIX } from './domainpop/proof.js'

export const SCHEME_MODULES: readonly SchemeModule<any>[] = [ // eslint-disable-line @typescript-eslint/no-explicit-any
  domainpopModule,
  dpopModule,
  sessionsModule,
  issuerSymmetricModule,
  httpSignatureModule,
  // Last: a client certificate is ambient, chosen only when no explicit credential was sent.
  mtlsModule,
]

/** Every request field the modules' credentials travel in, for the logger's redaction (log.ts redactPaths). */
export function schemeRedactFields(modules: readonly SchemeModule<any>[] = SCHEME_MODULES): string[] { // eslint-disable-line @typescript-eslint/no-explicit-any
  return modules.flatMap((m) => m.credentialFields ?? [])
}

/** What a rule's `require:` may name: every assurance and every scheme the modules can build (acl lint). */
export function requirableNames(modules: readonly SchemeModule<any>[] = SCHEME_MODULES): ReadonlySet<string> { // eslint-disable-line @typescript-eslint/no-explicit-any
  return new Set<string>([...ASSURANCES, ...modules.flatMap((m) => m.schemeNames ?? [m.name])])
}
