// `dpop.issuers.<iss>.introspection` read with the rest of the config: every
// problem with file:line:col and its path (config/load.ts).
import t from 'tap'
import { parseConfig } from '../../../../../src/config/load.js'
import { formatProblem } from '../../../../../src/config/yaml-source.js'
import type { DpopConfig } from '../../../../../src/schemes/dpop/config.js'

const FILE = '/srv/popgate/gateway.yaml'
/** Lines 1-7 (introspection: on 7); the map's keys start on line 8. */
const BASE = 'publicOrigin: https://bob.example\nupstream: http://127.0.0.1:3000\nacl: acl.yaml\ndpop:\n  issuers:\n    "https://as.alice.example":\n      introspection:\n'
const with_ = (lines: string[]) => BASE + lines.map((l) => `        ${l}\n`).join('')
const problems = (text: string) => parseConfig(text, FILE, {}).problems.map(formatProblem)

t.test('a valid section, read with units and defaults', async (t) => {
  const r = parseConfig(with_(['endpoint: https://as.alice.example/introspect', 'clientId: popgate', 'clientSecret: s3cret', 'cacheTtl: 2m']), FILE, {})
  t.same(r.problems.map(formatProblem), [])
  const dpop = (r.config as unknown as { dpop: DpopConfig }).dpop
  t.same(dpop.issuers['https://as.alice.example']!.introspection, {
    endpoint: 'https://as.alice.example/introspect', clientId: 'popgate', auth: { method: 'client_secret_basic', clientSecret: 's3cret' }, cacheTtlMs: 120_000, negativeTtlMs: 5_000,
  })
  t.equal(dpop.issuers['https://as.alice.example']!.jwksUri, undefined, 'an issuer of opaque tokens only needs no jwksUri')

  const k = parseConfig(with_(['endpoint: https://as.alice.example/introspect', 'clientId: popgate', 'privateKeyJwt: {keyFile: ./gw.pem, alg: ES384, kid: k1}']), FILE, {})
  t.same(k.problems.map(formatProblem), [])
  t.same((k.config as unknown as { dpop: DpopConfig }).dpop.issuers['https://as.alice.example']!.introspection!.auth, { method: 'private_key_jwt', keyFile: '/srv/popgate/gw.pem', alg: 'ES384', kid: 'k1' })
})

t.test('problems, each at its line', async (t) => {
  t.match(problems(with_(['endpoint: https://as.alice.example/i', 'clientId: popgate'])), [/^\/srv\/popgate\/gateway\.yaml:7:7: dpop\.issuers\["https:\/\/as\.alice\.example"\]\.introspection\.clientSecret: give exactly one of clientSecret/])
  t.match(problems(with_(['endpoint: https://as.alice.example/i', 'clientId: popgate', 'clientSecret: s', 'privateKeyJwt: {keyFile: k.pem}'])), [/:11:\d+: .*introspection\.privateKeyJwt: give exactly one/])
  t.match(problems(with_(['endpoint: ftp://as.alice.example/i', 'clientId: popgate', 'clientSecret: s'])), [/:8:\d+: .*introspection\.endpoint: /])
  t.match(problems(with_(['clientId: popgate', 'clientSecret: s'])), [/introspection\.endpoint: is required/])
  t.match(problems(with_(['endpoint: https://as.alice.example/i', 'clientSecret: s'])), [/introspection\.clientId: is required/])
  t.match(problems(with_(['endpoint: https://as.alice.example/i', 'clientId: popgate', 'clientSecret: s', 'cacheTtl: forever'])), [/:11:\d+: .*introspection\.cacheTtl: /])
  t.match(problems(with_(['endpoint: https://as.alice.example/i', 'clientId: popgate', 'clientSecret: s', 'cachettl: 1m'])), [/introspection\.cachettl: unknown key; did you mean "cacheTtl"\?/])
  t.match(problems(with_(['endpoint: https://as.alice.example/i', 'clientId: popgate', 'privateKeyJwt: {keyFile: k.pem, alg: HS256}'])), [/privateKeyJwt\.alg: /])
})

t.test('only one issuer may introspect: an opaque token names no issuer', async (t) => {
  const two = 'publicOrigin: https://bob.example\nupstream: http://127.0.0.1:3000\nacl: acl.yaml\ndpop:\n  issuers:\n' +
    ['https://as.alice.example', 'https://as.carol.example'].map((i) => `    "${i}":\n      introspection: {endpoint: ${i}/i, clientId: gw, clientSecret: s}\n`).join('')
  t.match(problems(two), [/dpop\.issuers: only one issuer may have introspection/])
})
