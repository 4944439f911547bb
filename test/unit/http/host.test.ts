// The Host validator (src/http/host.ts) against the RFC 9110 §7.2 /
// RFC 3986 §3.2.2 shapes it accepts and the tricks it must refuse, and
// readRequestFacts keeping the one Host (Host or :authority) and the body flag.

import t from 'tap'
import { isValidHost } from '../../../src/http/host.js'
import { readRequestFacts } from '../../../src/http/request-facts.js'
import { isGatewayError } from '../../../src/errors.js'

const GOOD = ['gw.test', 'GW.TEST', 'gw.test:8443', 'gw.test:0', 'gw.test:65535', 'gw.test:08080', 'localhost', '127.0.0.1', '127.0.0.1:80',
  '[::1]', '[::1]:443', '[2001:db8::7]:8080', '[::ffff:192.0.2.1]', 'a_b.test', 'a~b.test', 'x', 'a'.repeat(255), 'a'.repeat(255) + ':1']
const BAD = ['', ' ', 'gw.test ', ' gw.test', 'gw test', 'gw.test\t', 'gw.test/admin', 'gw.test/admin/secret?', 'gw.test#', 'gw.test?',
  'gw.test@evil', 'u:p@gw.test', 'gw.test\\x', 'gw%2etest', 'gw.test,evil', 'gw.test;x', "gw.test'", 'gw.test!', 'gw.test(x)', 'gw.test*',
  'gw.test+', 'gw.test=x', 'gw.test$', 'gw.test&x', 'gw.test:', 'gw.test:x', 'gw.test:-1', 'gw.test:+1', 'gw.test:65536', 'gw.test:123456',
  'gw.test:80:80', ':80', ':', '[', '[]', '[::1', '[::1]x', '[::1]:', '[::1]:x', '[gw.test]', '[::1%25eth0]', '[v1.x]', '[1.2.3.4]',
  '[::1]]', '[[::1]]', 'gw.t\u00e9st', 'gw.test\u0000', 'gw.test\r\n', 'a'.repeat(256), '\u0130.test']

t.test('valid host[:port] values are accepted', async (t) => {
  for (const h of GOOD) t.ok(isValidHost(h), JSON.stringify(h))
})

t.test('everything else is refused, never thrown on', async (t) => {
  for (const h of BAD) t.notOk(isValidHost(h), JSON.stringify(h))
})

t.test('every single character outside the allowed set is refused in a name', async (t) => {
  const wrong: string[] = []
  for (let c = 0; c < 0x3000; c++) {
    const ch = String.fromCharCode(c)
    if (isValidHost(`a${ch}b.test`) !== /^[A-Za-z0-9._~-]$/.test(ch)) wrong.push(`U+${c.toString(16).padStart(4, '0')}`)
  }
  t.same(wrong, [], 'exactly A-Z a-z 0-9 . _ ~ - are accepted')
})

t.test('readRequestFacts keeps the one Host and refuses a bad or second one (Host or :authority)', async (t) => {
  t.equal(readRequestFacts(['Host', 'gw.test:8443'], undefined).host, 'gw.test:8443')
  t.equal(readRequestFacts([':authority', 'gw.test'], undefined).host, 'gw.test')
  t.equal(readRequestFacts([], undefined).host, undefined, 'HTTP/1.0 without Host')
  const refused = (raw: string[]) => { try { readRequestFacts(raw, undefined); return undefined } catch (e) { return isGatewayError(e) ? `${e.status} ${e.code}` : 'other' } }
  t.equal(refused(['Host', 'gw.test/admin?']), '400 bad_request')
  t.equal(refused([':authority', 'gw.test#']), '400 bad_request')
  t.equal(refused(['Host', 'a.test', 'host', 'b.test']), '400 bad_request')
  t.equal(refused(['Host', 'gw.test', ':authority', 'gw.test']), '400 bad_request', ':authority and Host are one field')
})

t.test('readRequestFacts: a body is Content-Length other than 0, or any Transfer-Encoding', async (t) => {
  const body = (raw: string[]) => readRequestFacts(['Host', 'gw.test', ...raw], undefined).hasBody
  t.equal(body([]), false)
  t.equal(body(['Content-Length', '0']), false)
  t.equal(body(['content-length', '000']), false)
  t.equal(body(['Content-Length', '5']), true)
  t.equal(body(['Content-Length', '10']), true)
  t.equal(body(['Transfer-Encoding', 'chunked']), true)
  t.equal(body(['TRANSFER-ENCODING', 'identity']), true)
})
