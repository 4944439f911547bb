// `popgate sessions revoke IDENTITY` against an admin listener over a real
// socket: the route sets the not-before time, refuses other methods and bad
// identities, and the command prints what it did or why not.

import t from 'tap'
import type { AddressInfo } from 'node:net'
import { createAdminServer } from '../../src/admin.js'
import { createMemoryRevocations } from '../../src/revocation/memory.js'
import type { Revocations } from '../../src/revocation/types.js'
import type { StateHolder } from '../../src/assembly/state.js'
import { popgate } from './cli-run.js'

const revocations = createMemoryRevocations({ maxAgeMs: 3_600_000 })
let enabled: Revocations | undefined = revocations
const admin = createAdminServer({} as StateHolder, () => false, { revocations: () => enabled })
await new Promise<void>((r) => admin.listen(0, '127.0.0.1', r))
t.teardown(() => new Promise<void>((r) => admin.close(() => r())))
const base = `http://127.0.0.1:${(admin.address() as AddressInfo).port}`

t.test('the admin route', async (t) => {
  const before = Date.now()
  const res = await fetch(`${base}/sessions/revoke/alice.example`, { method: 'POST' })
  t.equal(res.status, 200)
  const body = await res.json() as { identity: string; notBefore: string }
  t.equal(body.identity, 'alice.example')
  t.ok(Date.parse(body.notBefore) >= before - 1)
  t.ok(revocations.notBefore('alice.example')! >= before, 'recorded')
  const get = await fetch(`${base}/sessions/revoke/alice.example`)
  t.equal(get.status, 405)
  t.equal(get.headers.get('allow'), 'POST')
  t.equal((await fetch(`${base}/sessions/revoke/Alice..example`, { method: 'POST' })).status, 400, 'not an identity')
  t.equal((await fetch(`${base}/sessions/revoke/`, { method: 'POST' })).status, 400, 'no identity')
  t.equal((await fetch(`${base}/healthz`, { method: 'POST' })).status, 405, 'every other path stays read-only')
})

t.test('popgate sessions revoke', async (t) => {
  const ok = await popgate(['sessions', 'revoke', 'bob.example', '--admin', base])
  t.equal(ok.code, 0, ok.stderr)
  t.match(ok.stdout, /^revoked: every ticket and cookie of bob\.example minted before \d{4}-\d\d-\d\dT/)
  t.ok(revocations.notBefore('bob.example'))
  const bad = await popgate(['sessions', 'revoke', 'not_an.identity!', '--admin', base])
  t.equal(bad.code, 2)
  t.match(bad.stderr, /not_an\.identity!: not an identity/)
  const none = await popgate(['sessions', 'frobnicate'])
  t.equal(none.code, 2)
  t.match(none.stderr, /unknown subcommand "frobnicate"/)
  enabled = undefined
  const off = await popgate(['sessions', 'revoke', 'carol.example', '--admin', base])
  t.equal(off.code, 1)
  t.match(off.stderr, /answered 503: sessions are not enabled on this gateway/)
  const down = await popgate(['sessions', 'revoke', 'carol.example', '--admin', 'http://127.0.0.1:1'])
  t.equal(down.code, 69, 'unreachable')
})
