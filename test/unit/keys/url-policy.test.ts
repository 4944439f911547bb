import t from 'tap'
import { checkKeyUrl } from '../../../src/keys/url-policy.js'
import { GatewayError } from '../../../src/errors.js'
import type { Identity } from '../../../src/identity/domain.js'
import { keysConfig } from '../../helpers/key-host.js'

const alice = 'alice.example' as Identity
const cfg = keysConfig({ allowPorts: [443], allowHttp: [] })
const P = '/.well-known/domainpop/'

t.test('accepts a canonical https key URL under the prefix', async (t) => {
  const url = checkKeyUrl(`https://alice.example${P}keys/3f9c`, alice, cfg)
  t.type(url, URL)
  t.equal(url.href, `https://alice.example${P}keys/3f9c`)
  t.equal(checkKeyUrl(`https://alice.example:443${P}k`, alice, cfg).port, '', 'explicit default port is fine')
  t.ok(checkKeyUrl(`https://alice.example${P}a-b_c.d~e!$&'()*+,=:@x`, alice, cfg), 'RFC 3986 pchar (";" aside)')
  t.throws(() => checkKeyUrl(`https://alice.example${P}..;/uploads/k`, alice, cfg), /path parameters/, '..; is a dot segment to Tomcat-style hosts')
  t.throws(() => checkKeyUrl(`https://alice.example${P}k;v=1`, alice, cfg), /path parameters/)
  t.ok(checkKeyUrl(`https://alice.example${P}`, alice, cfg), 'the prefix itself')
})

t.test('rejects everything else, each for its own reason', async (t) => {
  const bad: Array<[string, string, RegExp]> = [
    ['userinfo', `https://bob@alice.example${P}k`, /userinfo/],
    ['userinfo with password', `https://alice.example:pw@alice.example${P}k`, /userinfo/],
    ['userinfo trick', `https://alice.example@evil.example${P}k`, /userinfo/],
    ['other port', `https://alice.example:8443${P}k`, /port 8443/],
    ['port 0', `https://alice.example:0${P}k`, /invalid port/],
    ['port with leading zero', `https://alice.example:0443${P}k`, /invalid port/],
    ['empty port', `https://alice.example:${P}k`, /invalid port/],
    ['port too big', `https://alice.example:65536${P}k`, /invalid port/],
    ['http', `http://alice.example${P}k`, /https/],
    ['upper-case scheme', `HTTPS://alice.example${P}k`, /https/],
    ['other scheme', `ftp://alice.example${P}k`, /https/],
    ['no scheme', `//alice.example${P}k`, /https/],
    ['outside prefix', 'https://alice.example/uploads/keys.json', /must start with/],
    ['prefix without its slash', 'https://alice.example/.well-known/domainpopX/k', /must start with/],
    ['no path', 'https://alice.example', /must start with/],
    ['over 2048 chars', `https://alice.example${P}${'a'.repeat(2048)}`, /longer than 2048/],
    ['host differs', `https://bob.example${P}k`, /host must equal/],
    ['subdomain of identity', `https://www.alice.example${P}k`, /host must equal/],
    ['suffix trick', `https://alice.example.evil.example${P}k`, /host must equal/],
    ['upper-case host', `https://ALICE.example${P}k`, /host must equal/],
    ['mixed-case host', `https://Alice.Example${P}k`, /host must equal/],
    ['trailing dot', `https://alice.example.${P}k`, /host must equal/],
    ['IP literal', `https://127.0.0.1${P}k`, /host must equal/],
    ['IPv6 literal', `https://[::1]${P}k`, /host must equal/],
    ['fragment', `https://alice.example${P}k#x`, /fragment/],
    ['empty fragment', `https://alice.example${P}k#`, /fragment/],
    ['query', `https://alice.example${P}k?x=1`, /query/],
    ['empty query', `https://alice.example${P}k?`, /query/],
    ['encoded slash', `https://alice.example${P}a%2fb`, /percent-encoding/],
    ['encoded slash upper', `https://alice.example${P}a%2Fb`, /percent-encoding/],
    ['encoded backslash', `https://alice.example${P}a%5cb`, /percent-encoding/],
    ['encoded dot segment', `https://alice.example${P}%2e%2e/%2e%2e/uploads/k`, /percent-encoding/],
    ['dot-dot escaping the prefix', `https://alice.example${P}../../uploads/k`, /dot segments/],
    ['dot segment', `https://alice.example${P}./k`, /dot segments/],
    ['backslash', `https://alice.example${P}..\\..\\uploads\\k`, /backslash/],
    ['backslash in authority', `https://alice.example\\${P}k`, /backslash/],
    ['tab inside (parser would strip it)', `https://alice.example${P}k\tx`, /printable ASCII/],
    ['newline inside', `https://alice.exa\nmple${P}k`, /printable ASCII/],
    ['leading space', ` https://alice.example${P}k`, /printable ASCII/],
    ['non-ASCII host', `https://alicé.example${P}k`, /printable ASCII/],
    ['space in path', `https://alice.example${P}a b`, /printable ASCII/],
    ['empty', '', /printable ASCII/],
  ]
  for (const [name, jku, why] of bad) {
    let caught: unknown
    try {
      checkKeyUrl(jku, alice, cfg)
    } catch (err) {
      caught = err
    }
    t.ok(caught instanceof GatewayError && caught.code === 'proof_jku_invalid', `${name}: refused`)
    t.match((caught as GatewayError | undefined)?.detail, why, `${name}: reason`)
  }
})

t.test('a non-string jku is refused', async (t) => {
  t.throws(() => checkKeyUrl(42 as unknown as string, alice, cfg), { code: 'proof_jku_invalid' })
})

t.test('an invalid identity never matches, even if the host text equals it', async (t) => {
  t.throws(() => checkKeyUrl(`https://ALICE.example${P}k`, 'ALICE.example' as Identity, cfg), { code: 'proof_jku_invalid' })
  t.throws(() => checkKeyUrl(`https://localhost${P}k`, 'localhost' as Identity, cfg), { code: 'proof_jku_invalid' })
})

t.test('allowPorts and allowHttp widen only what they name', async (t) => {
  t.ok(checkKeyUrl(`https://alice.example:8443${P}k`, alice, keysConfig({ allowPorts: [443, 8443] })))
  t.throws(() => checkKeyUrl(`https://alice.example:9443${P}k`, alice, keysConfig({ allowPorts: [443, 8443] })), { code: 'proof_jku_invalid' })
  t.ok(checkKeyUrl(`https://alice.example:9443${P}k`, alice, keysConfig({ allowPorts: 'any' })))

  const dev = keysConfig({ allowHttp: ['alice.example'], allowPorts: [443] })
  t.equal(checkKeyUrl(`http://alice.example${P}k`, alice, dev).protocol, 'http:')
  t.throws(() => checkKeyUrl(`http://alice.example:8080${P}k`, alice, dev), /port 8080/, 'http gets port 80 by default, nothing else')
  t.throws(() => checkKeyUrl(`http://bob.example${P}k`, 'bob.example' as Identity, dev), /https/, 'only the listed host')
})

t.test('a custom prefix is honored', async (t) => {
  const c = keysConfig({ pathPrefix: '/keys/', allowPorts: [443] })
  t.ok(checkKeyUrl('https://alice.example/keys/a', alice, c))
  t.throws(() => checkKeyUrl(`https://alice.example${P}a`, alice, c), /must start with \/keys\//)
})

t.test('exactly 2048 characters is allowed', async (t) => {
  const base = `https://alice.example${P}`
  const jku = base + 'a'.repeat(2048 - base.length)
  t.equal(jku.length, 2048)
  t.ok(checkKeyUrl(jku, alice, cfg))
})
