import type { AssertionKey } from './assertion-keys.js'
import type { EncryptionKey } from './encryption-keys.js'

/** A named secret key; lists are ordered newest first (the first signs, all verify). */
export interface NamedSecret {
  readonly id: string
  readonly key: Buffer
  /** Tickets and cookies: when this key stopped sealing; it opens for one credential TTL plus skew after that (secrets/sealer.ts). */
  readonly retiredAtMs?: number
}

export interface Secrets {
  readonly nonce: readonly NamedSecret[]
  readonly tickets: readonly NamedSecret[]
  readonly cookies: readonly NamedSecret[]
  /** EC P-256 keys for the upstream assertion, newest first; empty unless the secrets file lists some (or dev secrets were generated). */
  readonly assertion: readonly AssertionKey[]
  /** EC P-256 keys issuers encrypt `cnf.jwe` to (secrets/encryption-keys.ts), newest first; absent or empty: none listed. */
  readonly encryption?: readonly EncryptionKey[]
  /** True when nothing was configured and these were generated in memory at start. */
  readonly generated: boolean
}
