// secrets/hmac.ts: the pad-precomputed HMAC-SHA256 equals node:crypto's
// createHmac for keys shorter than, equal to and longer than the block
// (RFC 2104 §2), messages of every length the nonce uses and others, and
// when one MAC function is called many times with changing lengths.

import t from 'tap'
import { createHmac, randomBytes } from 'node:crypto'
import { createHmacSha256 } from '../../../src/secrets/hmac.js'

t.test('equals createHmac for every key length class and message length', async (t) => {
  for (const keyLen of [0, 1, 16, 32, 63, 64, 65, 100, 200]) {
    const key = randomBytes(keyLen)
    const mac = createHmacSha256(key)
    for (const len of [0, 1, 20, 22, 55, 56, 64, 65, 200, 20, 0]) {
      const data = randomBytes(len)
      t.equal(mac(data).toString('hex'), createHmac('sha256', key).update(data).digest('hex'), `key ${keyLen} bytes, data ${len} bytes`)
    }
  }
})

t.test('RFC 4231 test case 2 (key "Jefe")', async (t) => {
  const mac = createHmacSha256(Buffer.from('Jefe'))
  t.equal(mac(Buffer.from('what do ya want for nothing?')).toString('hex'), '5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843')
})

t.test('a returned MAC is not overwritten by the next call', async (t) => {
  const mac = createHmacSha256(randomBytes(32))
  const a = mac(Buffer.from('a'))
  const copy = Buffer.from(a)
  mac(Buffer.from('b'))
  t.ok(a.equals(copy))
})
