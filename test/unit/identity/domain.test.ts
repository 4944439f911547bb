// The one strict identity parser (PROTOCOL.md "Parties"): known bypass shapes
// are rejected, never cleaned up; domain patterns match what they say.

import t from 'tap'
import fc from 'fast-check'
import { identityProblem, isIdentity, parseDomainPattern, matchesDomain, type DomainPattern, type Identity } from '../../../src/identity/domain.js'

const ACCEPTED = [
  'alice.example', 'a.b', 'eu.alice.example', 'x1.example', '1x.example', 'a-b.example', '123.example', 'alice.test',
  'xn--bcher-kva.example', // bücher: a valid A-label
  'xn--80ak6aa92e.com', // a valid A-label, however it looks
  'example.xn--p1ai', // .рф
  `${'a'.repeat(63)}.example`,
]

t.test('plain identities are accepted as they are', async (t) => {
  for (const id of ACCEPTED) t.equal(identityProblem(id), undefined, id)
})

t.test('known bypass shapes are rejected (never cleaned up)', async (t) => {
  const rejected: Record<string, string> = {
    'userinfo': 'attacker@evil.example@alice.example',
    'userinfo, simple': 'alice.example@evil.example',
    'trailing dot': 'alice.example.',
    'upper case': 'ALICE.example',
    'mixed case': 'Alice.Example',
    'leading space': ' alice.example',
    'trailing space': 'alice.example ',
    'trailing newline': 'alice.example\n',
    'trailing NUL': 'alice.example\0',
    'tab': 'alice\t.example',
    'Cyrillic а look-alike': '\u0430lice.example',
    'fullwidth letters': '\uff41lice.example',
    'fullwidth dot': 'alice\uff0eexample',
    'ideographic dot': 'alice\u3002example',
    'zero-width space': 'ali\u200bce.example',
    'U-label (must be punycode)': 'bücher.example',
    'IPv4': '127.0.0.1',
    'IPv4 shorthand hex': '0x7f.1',
    'IPv4 octal': '0177.0.0.01',
    'IPv4 integer': '2130706433',
    'IPv6 bracketed': '[::1]',
    'IPv6': '::1',
    'IPv4-mapped IPv6': '[::ffff:127.0.0.1]',
    'wildcard in the middle': 'a.*.example',
    'wildcard glued to a label': '*alice.example',
    'wildcard and dot only': '*.',
    'bare wildcard': '*',
    'wildcard suffix as an identity': '*.alice.example',
    'empty': '',
    'single label': 'localhost',
    'single label tld': 'com',
    'empty label': 'alice..example',
    'leading dot': '.alice.example',
    'only dots': '..',
    'leading hyphen': '-alice.example',
    'trailing hyphen': 'alice-.example',
    'hyphen label': '-.example',
    'reserved ??-- prefix': 'ab--cd.example',
    'invalid punycode': 'xn--a.example',
    'invalid punycode 2': 'xn--zz.example',
    'punycode of plain ASCII': 'xn--alice-.example',
    'empty A-label': 'xn--.example',
    'A-label in upper case': 'XN--bcher-kva.example',
    'underscore': '_dmarc.alice.example',
    'underscore inside': 'ali_ce.example',
    'port': 'alice.example:443',
    'empty port': 'alice.example:',
    'path': 'alice.example/keys',
    'query': 'alice.example?x',
    'fragment': 'alice.example#x',
    'scheme': 'https://alice.example',
    'percent-encoding': 'alice%2eexample',
    'backslash': 'alice.example\\evil',
    'label of 64 octets': `${'a'.repeat(64)}.example`,
    'numeric TLD': 'alice.123',
  }
  for (const [why, input] of Object.entries(rejected)) {
    t.type(identityProblem(input), 'string', `${why}: ${JSON.stringify(input)}`)
    t.equal(isIdentity(input), false)
  }
})

t.test('IP literals in WHATWG hex form are not identities', async (t) => {
  // The WHATWG URL parser (what new URL() and fetch use) reads a host whose
  // last label is a number, hex included, as IPv4: 0x7f.0x1 → 127.0.0.1.
  for (const input of ['0x7f.0x1', '127.0.0.0x1', '1.0x10', 'alice.0x7f', 'alice.0x']) {
    let parsed: string
    try { parsed = new URL(`https://${input}/`).hostname } catch { parsed = '(URL rejects it)' }
    t.type(identityProblem(input), 'string', `${input} (URL host: ${parsed})`)
  }
})

t.test('length limits: 63 octets per label, 253 in all', async (t) => {
  const name253 = ['a'.repeat(63), 'b'.repeat(63), 'c'.repeat(63), 'd'.repeat(61)].join('.')
  t.equal(name253.length, 253)
  t.equal(identityProblem(name253), undefined, '253 octets')
  t.match(identityProblem(name253 + 'd'), /253/, '254 octets')
  t.match(identityProblem(['a'.repeat(63), 'b'.repeat(63), 'c'.repeat(63), 'd'.repeat(63)].join('.')), /253/)
  t.match(identityProblem(`${'a'.repeat(64)}.example`), /63/)
  t.match(identityProblem(`alice.${'a'.repeat(64)}`), /63/)
})

t.test('non-strings are rejected', async (t) => {
  for (const v of [undefined, null, 1, {}, ['alice.example'], Buffer.from('alice.example'), { toString: () => 'alice.example' }]) {
    t.equal(isIdentity(v), false, String(v))
  }
})

t.test('property: isIdentity(x) implies x prints the same everywhere', async (t) => {
  const chars = fc.constantFrom('a', 'b', 'z', 'A', '0', '1', '9', '-', '.', '_', ' ', '@', ':', '/', 'x', 'n', '\u0430', '\uff41', 'ü', '*', '[', ']', '%')
  const domainish = fc.oneof(
    fc.domain(),
    fc.string({ unit: chars, maxLength: 30 }),
    fc.array(fc.oneof(fc.stringMatching(/^[a-z0-9-]{1,8}$/), fc.stringMatching(/^0x[0-9a-f]{0,4}$/), fc.constantFrom('xn--bcher-kva', 'xn--a', '127', '0', '')), { minLength: 1, maxLength: 5 }).map((l) => l.join('.')),
    fc.string({ maxLength: 30 }),
  )
  fc.assert(fc.property(domainish, (x) => {
    if (!isIdentity(x)) return true
    return x === x.toLowerCase() && x === x.trim() && x.length <= 253 && !x.endsWith('.')
  }), { numRuns: 5000 })
  t.pass('accepted names are lowercase and unpadded')
})

t.test('property: an accepted identity is the host a URL parser reads back (never printed differently)', async (t) => {
  const labels = fc.array(fc.oneof(fc.stringMatching(/^[a-z0-9-]{1,8}$/), fc.stringMatching(/^0x[0-9a-f]{0,4}$/), fc.constantFrom('xn--bcher-kva', 'xn--80ak6aa92e', '127')), { minLength: 2, maxLength: 4 }).map((l) => l.join('.'))
  const mismatches: string[] = []
  fc.assert(fc.property(fc.oneof(fc.domain(), labels), (x) => {
    if (!isIdentity(x)) return true
    let host: string | undefined
    try { host = new URL(`https://${x}/`).hostname } catch { /* leaves host undefined */ }
    if (host !== x) mismatches.push(`${x} → ${host ?? '(URL rejects it)'}`)
    return true
  }), { numRuns: 5000 })
  t.same(mismatches.slice(0, 5), [], 'accepted identities the URL parser reads differently')
})

const pattern = (s: string): DomainPattern => {
  const p = parseDomainPattern(s)
  if (typeof p === 'string') throw new Error(`${s}: ${p}`)
  return p
}
const id = (s: string) => s as Identity

t.test('domain patterns: "*", "*.suffix", exact', async (t) => {
  const any = pattern('*')
  t.equal(any.kind, 'any')
  t.ok(matchesDomain(any, id('alice.example')))

  const partner = pattern('*.partner.example')
  t.equal(partner.kind, 'suffix')
  t.ok(matchesDomain(partner, id('a.partner.example')))
  t.ok(matchesDomain(partner, id('a.b.partner.example')), 'any depth')
  t.notOk(matchesDomain(partner, id('partner.example')), 'not the suffix itself')
  t.notOk(matchesDomain(partner, id('evilpartner.example')), 'not a name that merely ends with the same letters')
  t.notOk(matchesDomain(partner, id('partner.example.evil.example')))
  t.notOk(matchesDomain(partner, id('a.partner.example.com')))

  const exact = pattern('alice.example')
  t.equal(exact.kind, 'exact')
  t.ok(matchesDomain(exact, id('alice.example')))
  t.notOk(matchesDomain(exact, id('eu.alice.example')), 'exact is exact: no subdomains')
  t.notOk(matchesDomain(exact, id('alice.example.evil.example')))
})

t.test('domain patterns: rejected shapes', async (t) => {
  for (const p of ['*.com', '*.', 'a.*.example', '*alice.example', '**.example', '*.*.example', '*.Alice.example', '* .example', '*.alice.example.', 'alice.example.', 'ALICE.example', '', '*.127.0.0.1', 'a*', '.*']) {
    t.type(parseDomainPattern(p), 'string', JSON.stringify(p))
  }
  t.match(parseDomainPattern('*.com'), /two labels/, 'a single-label suffix would match a whole TLD')
  for (const v of [undefined, null, 42, ['*']]) t.type(parseDomainPattern(v), 'string', String(v))
})
