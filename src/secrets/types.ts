/** A named secret key; lists are ordered newest first (the first signs, all verify). */
export interface NamedSecret { readonly id: string; readonly key: Buffer }

export interface Secrets {
  readonly nonce: readonly NamedSecret[]
  readonly tickets: readonly NamedSecret[]
  readonly cookies: readonly NamedSecret[]
  /** True when nothing was configured and these were generated in memory at start. */
  readonly generated: boolean
}
