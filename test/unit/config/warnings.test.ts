// configWarnings (src/config/warnings.ts): an admin listener off loopback is
// worth a warning; on loopback it is not.

import t from 'tap'
import { parseConfig } from '../../../src/config/load.js'
import { configWarnings, isLoopbackHost } from '../../../src/config/warnings.js'

const warnings = (admin: string | undefined) => configWarnings(parseConfig(
  `publicOrigin: https://gw.test\nupstream: http://127.0.0.1:3000\nacl: ./acl.yaml\n${admin ? `admin:\n  listen: ${admin}\n` : ''}`, 'gw.yaml').config!)

t.test('admin.listen off loopback is warned about', async (t) => {
  t.same(warnings(undefined), [])
  for (const quiet of ['127.0.0.1:9090', '127.1.2.3:9090', 'localhost:9090', '"[::1]:9090"']) t.same(warnings(quiet), [], quiet)
  for (const loud of ['0.0.0.0:9090', '10.0.0.5:9090', '"[::]:9090"', 'admin.internal:9090']) {
    const w = warnings(loud)
    t.equal(w.length, 1, loud)
    t.match(w[0], /^admin\.listen: .* is not a loopback address; .*no authentication/)
  }
  t.match(warnings('"[::]:9090"')[0], /^admin\.listen: \[::\]:9090 /)
})

t.test('admin.warnNonLoopback: false silences it for a deliberate bind; nothing else does', async (t) => {
  const cfg = (extra: string) => configWarnings(parseConfig(`publicOrigin: https://gw.test\nupstream: http://127.0.0.1:3000\nacl: ./acl.yaml\nadmin:\n  listen: 0.0.0.0:9090\n${extra}`, 'gw.yaml').config!)
  t.same(cfg('  warnNonLoopback: false\n'), [])
  t.equal(cfg('  warnNonLoopback: true\n').length, 1)
  t.match(cfg('')[0], /admin\.warnNonLoopback: false/, 'the warning says how to silence it')
  t.match(parseConfig('publicOrigin: https://gw.test\nupstream: http://127.0.0.1:3000\nacl: ./acl.yaml\nadmin:\n  listen: 0.0.0.0:9090\n  warnNonLoopback: no\n', 'gw.yaml').problems.map((p) => p.path), ['admin.warnNonLoopback'])
})

t.test('isLoopbackHost', async (t) => {
  for (const h of ['localhost', '127.0.0.1', '127.255.255.254', '::1', '::ffff:127.0.0.1']) t.ok(isLoopbackHost(h), h)
  for (const h of ['0.0.0.0', '::', '128.0.0.1', '::ffff:10.0.0.1', 'localhost.example', '1.127.0.0']) t.notOk(isLoopbackHost(h), h)
})

t.test('sessions.cookie.enabled with an http:// publicOrigin is warned about (browsers drop the Secure __Host- cookie)', async (t) => {
  const cfg = (origin: string, sessions: string) => {
    const r = parseConfig(`publicOrigin: ${origin}\nupstream: http://127.0.0.1:3000\nacl: ./acl.yaml\n${sessions}`, 'gw.yaml')
    t.same(r.problems, [], 'a valid config')
    return configWarnings(r.config!)
  }
  const cookie = 'sessions:\n  cookie: { enabled: true }\n'
  const w = cfg('http://gw.test', cookie)
  t.equal(w.length, 1)
  t.match(w[0], /^sessions\.cookie\.enabled: publicOrigin http:\/\/gw\.test is http:\/\/, .*drop the Secure __Host-popgate cookie/)
  t.match(w[0], /http:\/\/localhost, which Chromium treats as secure/, 'names the localhost exception')
  t.equal(cfg('http://localhost:8080', cookie).length, 1, 'on localhost too (only Chromium keeps it)')
  t.same(cfg('https://gw.test', cookie), [], 'https: nothing to say')
  t.same(cfg('http://gw.test', ''), [], 'cookies off: nothing to say')
  t.same(cfg('http://gw.test', 'sessions:\n  tickets: { enabled: true }\n'), [], 'tickets alone are not cookies')
  t.same(cfg('http://gw.test', 'sessions:\n  cookie: { enabled: false }\n'), [])
})
