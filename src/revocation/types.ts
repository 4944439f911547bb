/**
 * Revocation without a session store (PROTOCOL.md §4, §9 `popgate sessions
 * revoke`): per identity, a not-before time. Every ticket and cookie of that
 * identity minted before it is refused (`session_revoked`) on every replica
 * that shares the list; proofs are not affected, so a revoked identity's
 * client gets a fresh ticket with its next proof.
 */
export interface Revocations {
  /** Milliseconds: credentials of `identity` minted before this are refused; undefined when none. Synchronous: the hot path asks on every request. */
  notBefore(identity: string): number | undefined
  /** Records a revocation (the later of this and any earlier one wins) and shares it with the other replicas. */
  revoke(identity: string, atMs: number): Promise<void>
  close(): Promise<void>
}

/** The later of two not-before times. */
export const later = (a: number | undefined, b: number | undefined): number | undefined =>
  a === undefined ? b : b === undefined ? a : Math.max(a, b)

/** A store's list seen together with the ACL's `revoke:` map (the ACL's times cannot be undone from the command line). */
export function withAclRevocations(store: Revocations, acl: ReadonlyMap<string, number>): Revocations {
  if (acl.size === 0) return store
  return {
    notBefore: (identity) => later(store.notBefore(identity), acl.get(identity)),
    revoke: (identity, atMs) => store.revoke(identity, atMs),
    close: () => store.close(),
  }
}

/** Whether a module resource is a revocation list (the admin route finds the running one among the resources). */
export const isRevocations = (x: unknown): x is Revocations =>
  typeof x === 'object' && x !== null && typeof (x as Revocations).notBefore === 'function' && typeof (x as Revocations).revoke === 'function'
