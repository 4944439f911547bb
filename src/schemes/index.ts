// The scheme modules, in the order their challenges are listed: the one list
// that names them (docs/architecture.md, "Adding a credential scheme").
// A new scheme is a folder under src/schemes/ and one line here.

import type { SchemeModule } from './module.js'
import { domainpopModule } from './domainpop/module.js'
import { dpopModule } from './dpop/module.js'
import { sessionsModule } from './sessions/index.js'

export const SCHEME_MODULES: readonly SchemeModule<any>[] = [ // eslint-disable-line @typescript-eslint/no-explicit-any
  domainpopModule,
  dpopModule,
  sessionsModule,
]

/** Every request field the modules' credentials travel in, for the logger's redaction (log.ts redactPaths). */
export function schemeRedactFields(modules: readonly SchemeModule<any>[] = SCHEME_MODULES): string[] { // eslint-disable-line @typescript-eslint/no-explicit-any
  return modules.flatMap((m) => m.redactFields ?? [])
}
