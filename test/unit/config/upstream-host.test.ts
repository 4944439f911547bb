// Config: `upstreamHost` (client | upstream | host[:port]) and
// `identityHeaders.strip` entries, each refused at its line with a reason.

import t from 'tap'
import { parseConfig } from '../../../src/config/load.js'
import { formatProblem } from '../../../src/config/yaml-source.js'
import { compileHeaderPlan } from '../../../src/proxy/headers.js'

const BASE = 'publicOrigin: https://gw.test\nupstream: http://10.0.0.2:3000/app/\nacl: ./acl.yaml\n'
const parse = (extra: string) => parseConfig(BASE + extra, '/etc/popgate/gateway.yaml')

t.test('upstreamHost: client by default; upstream and a literal resolve to the Host sent', async (t) => {
  const plan = (extra: string) => compileHeaderPlan(parse(extra).config!).upstreamHost
  t.equal(parse('').config!.upstreamHost, 'client')
  t.equal(plan(''), undefined, 'client: the client\'s own Host is forwarded')
  t.equal(plan('upstreamHost: client'), undefined)
  t.equal(plan('upstreamHost: upstream'), '10.0.0.2:3000', 'the upstream URL\'s host[:port]')
  t.equal(plan('upstreamHost: api.internal:8443'), 'api.internal:8443')
  t.equal(plan('upstreamHost: "[::1]:80"'), '[::1]:80')
  t.equal(plan('upstreamHost: upstream:80'), 'upstream:80', 'a host literally named "upstream" is written with its port')
})

t.test('upstreamHost: anything but client, upstream or a valid host[:port] is refused at its line', async (t) => {
  for (const bad of ['gw.test/admin', '"gw.test:"', '"client "', '"gw.test@evil"', '8080', 'true', '[a, b]', '""']) {
    const r = parse(`upstreamHost: ${bad}\n`)
    t.notOk(r.config, bad)
    t.match(r.problems.map(formatProblem).join('\n'), /gateway\.yaml:4:\d+: upstreamHost: must/, bad)
  }
})

t.test('identityHeaders.strip: header names and prefixes; never a field the request needs', async (t) => {
  const ok = parse('identityHeaders:\n  strip: [X-Legacy-User, "X-Corp-*", X_Under_Score]\n')
  t.same(ok.config!.identityHeaders.strip, ['X-Legacy-User', 'X-Corp-*', 'X_Under_Score'])
  const refused: [string, RegExp][] = [
    ['["*"]', /must be a header name/], ['["X-A*B"]', /must be a header name/], ['["X A"]', /must be a header name/], ['[""]', /must not be empty/],
    ['[Host]', /would strip host/], ['["Content-*"]', /would strip content-length/], ['[Transfer_Encoding]', /would strip transfer-encoding/],
    ['["H*"]', /would strip host/], ['[X-A, X-A]', /duplicate/], ['X-A', /must be a list/],
  ]
  for (const [value, why] of refused) {
    const r = parse(`identityHeaders:\n  strip: ${value}\n`)
    t.notOk(r.config, value)
    t.match(r.problems.map(formatProblem).join('\n'), why, value)
  }
})
