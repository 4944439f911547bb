// `identities:` (issue 25): per-identity key-trust settings, validated at load.

import t from 'tap'
import { id, mustParse, problemsOf } from '../../fixtures/acl/build.js'

const TP = 'NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs' // RFC 7638 §3.1's example thumbprint

t.test('identities: pins and new-key policies are read, defaults apply', async (t) => {
  const acl = mustParse(`version: 1
identities:
  alice.example: { keys: [${TP}] }
  bob.example: { newKeys: hold }
rules:
  - path: /x
    read: [alice.example, bob.example]
`)
  t.same(acl.identities.get(id('alice.example')), { identity: 'alice.example', keys: [TP], newKeys: 'accept', pos: { line: 3, col: 3 } })
  t.same(acl.identities.get(id('bob.example'))?.keys, undefined, 'not pinned')
  t.equal(acl.identities.get(id('bob.example'))?.newKeys, 'hold')
  t.equal(mustParse('version: 1\nrules: []\n').identities.size, 0)
})

t.test('a bad identities entry fails at file:line', async (t) => {
  t.same(problemsOf(`version: 1
identities:
  Alice.example: { newKeys: hold }
  "*.partner.example": {}
  bob.example: { keys: [abc], newKeys: maybe, pin: true }
  carol.example: { keys: [] }
  dave.example: { keys: [${TP}, ${TP}] }
rules: []
`), [
    'acl.yaml:3:3: identities["Alice.example"]: is not an identity: must be lowercase',
    'acl.yaml:4:3: identities["*.partner.example"]: is not an identity: may contain only a-z, 0-9, "-" and "."',
    'acl.yaml:5:47: identities["bob.example"].pin: unknown key',
    'acl.yaml:5:25: identities["bob.example"].keys[0]: must be an RFC 7638 SHA-256 key thumbprint (43 base64url characters); got "abc"',
    'acl.yaml:5:40: identities["bob.example"].newKeys: must be one of accept, hold; got "maybe"',
    'acl.yaml:6:26: identities["carol.example"].keys: must not be empty',
    'acl.yaml:7:71: identities["dave.example"].keys[1]: duplicate of an earlier item ("NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC…")',
  ])
})
