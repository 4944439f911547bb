// Revocation by identity in one process, and merged with the ACL's revoke: map.
import t from 'tap'
import { createMemoryRevocations } from '../../../src/revocation/memory.js'
import { withAclRevocations } from '../../../src/revocation/types.js'

t.test('the later time wins; entries older than the longest lifetime are forgotten', async (t) => {
  let now = 1_000_000
  const r = createMemoryRevocations({ maxAgeMs: 10_000, now: () => now })
  t.equal(r.notBefore('alice.example'), undefined)
  await r.revoke('alice.example', now)
  await r.revoke('alice.example', now - 500)
  t.equal(r.notBefore('alice.example'), 1_000_000, 'an earlier time does not undo a later one')
  t.equal(r.notBefore('bob.example'), undefined, 'per identity')
  now += 10_001
  t.equal(r.notBefore('alice.example'), undefined, 'nothing minted before it is alive any more')
})

t.test('with the ACL: the later of the two', async (t) => {
  const r = createMemoryRevocations({ maxAgeMs: 10_000, now: () => 4_000 })
  const both = withAclRevocations(r, new Map([['alice.example', 2_000]]))
  t.equal(both.notBefore('alice.example'), 2_000)
  await both.revoke('alice.example', 3_000)
  t.equal(both.notBefore('alice.example'), 3_000)
  await both.revoke('alice.example', 1_000)
  t.equal(both.notBefore('alice.example'), 3_000)
  t.equal(withAclRevocations(r, new Map()), r, 'no ACL entries: the store itself')
})
