// The ACL's `revoke:` map: identity → not-before time for its tickets and
// cookies; every mistake reported at its line.
import t from 'tap'
import { parseAcl } from '../../../src/acl/parse.js'
import { formatProblem } from '../../../src/config/yaml-source.js'

const BASE = 'version: 1\nrules:\n  - path: /**\n    read: [alice.example]\n'

t.test('read into a map of milliseconds', async (t) => {
  const r = parseAcl(BASE + 'revoke:\n  alice.example: 2026-12-07T10:00:00Z\n  bob.example: "2026-12-07T11:00:00.5+01:00"\n', 'acl.yaml')
  t.same(r.problems, [])
  t.same([...r.acl!.revoke], [['alice.example', Date.parse('2026-12-07T10:00:00Z')], ['bob.example', Date.parse('2026-12-07T10:00:00.5Z')]])
  t.same([...parseAcl(BASE, 'acl.yaml').acl!.revoke], [], 'absent: empty')
})

t.test('mistakes at their line', async (t) => {
  for (const [text, re] of [
    ['revoke: [alice.example]\n', /acl\.yaml:5:9: revoke: must be a map/],
    ['revoke:\n  Alice.Example: 2026-12-07T10:00:00Z\n', /acl\.yaml:6:3: revoke\["Alice\.Example"\]: not an identity/],
    ['revoke:\n  alice.example: yesterday\n', /acl\.yaml:6:18: revoke\["alice\.example"\]: must be an RFC 3339 time/],
    ['revoke:\n  alice.example: 2026-12-07\n', /must be an RFC 3339 time/],
    ['revoke:\n  alice.example: 2026-12-07T10:00:00\n', /must be an RFC 3339 time/],
    ['revoke:\n  "*.example": 2026-12-07T10:00:00Z\n', /not an identity/],
  ] as const) {
    const r = parseAcl(BASE + text, 'acl.yaml')
    t.equal(r.acl, undefined, text.trim())
    t.match(r.problems.map(formatProblem).join('\n'), re)
  }
})
