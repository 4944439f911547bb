// The strip list (src/proxy/identity-strip.ts): the bucketed matcher agrees
// with the plain reading (exact name, or starts with a prefix; case-insensitive,
// `_` as `-`) on every default entry, look-alikes and configured extras.

import t from 'tap'
import { DEFAULT_STRIP, compileStripList, isStripped, stripKey } from '../../../src/proxy/identity-strip.js'

const plain = (name: string, entries: readonly string[]) => entries.some((e) => (e.endsWith('*') ? stripKey(name).startsWith(stripKey(e.slice(0, -1))) : stripKey(name) === stripKey(e)))

t.test('isStripped agrees with the plain reading', async (t) => {
  const extra = ['X-Legacy-User', 'X-Corp-Sso-*', 'Ab*', 'Q*']
  const list = compileStripList(extra)
  const names = [
    ...DEFAULT_STRIP.map((e) => e.replace('*', 'Anything')), ...DEFAULT_STRIP.map((e) => e.replace('*', '')),
    ...DEFAULT_STRIP.map((e) => e.slice(0, -2)), 'X-Auth-Token', 'x-auth-request', 'x-auth-request-', 'X_AUTH_REQUEST_USER', 'ssl-client',
    'x-ms-client-principalx', 'Host', 'a', 'ab', 'abc', 'q', 'X-Legacy-User', 'x_legacy_user', 'X-Corp-Sso', 'X-Corp-Sso-', 'x-corp-sso-a', 'User-Agent', '',
  ]
  const wrong = names.filter((n) => isStripped(stripKey(n), list) !== plain(n, [...DEFAULT_STRIP, ...extra]))
  t.same(wrong, [])
  t.ok(isStripped('x-remote-user', compileStripList()), 'the default list alone')
  t.notOk(isStripped('x-legacy-user', compileStripList()), 'extras only when configured')
})

t.test('the default list is well formed: names or prefixes ending in *, no duplicates', async (t) => {
  t.ok(DEFAULT_STRIP.every((e) => /^[A-Za-z0-9-]+\*?$/.test(e)))
  t.equal(new Set(DEFAULT_STRIP.map(stripKey)).size, DEFAULT_STRIP.length)
  t.ok(Object.isFrozen(DEFAULT_STRIP))
})
