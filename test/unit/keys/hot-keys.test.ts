// The hot set of imported keys (keys/hot-keys.ts): bounded, and a key that
// left it is imported again from its compact form and still verifies the
// signatures of its own private key, and only those.

import t from 'tap'
import { generateKeyPairSync, sign, type KeyObject } from 'node:crypto'
import { createKeyCache } from '../../../src/keys/cache.js'
import { HotKeys } from '../../../src/keys/hot-keys.js'
import { storedKey } from '../../../src/keys/document.js'
import type { FetchDocument, StoredKey } from '../../../src/keys/types.js'
import { GatewayError } from '../../../src/errors.js'
import type { Identity } from '../../../src/identity/domain.js'
import { verifySignature } from '../../../src/proofs/signature.js'
import { keysConfig, newSigningKey, type TestKey } from '../../helpers/key-host.js'

const DOMAINS = ['a.test', 'b.test', 'c.test'] as Identity[]
const keys = new Map<string, TestKey>()
for (const d of DOMAINS) keys.set(d, await newSigningKey())

const fetchDocument: FetchDocument = async (url) => ({
  status: 200,
  headers: { 'content-type': 'application/jwk-set+json', 'cache-control': 'max-age=3600' },
  body: Buffer.from(JSON.stringify({ keys: [keys.get(url.hostname)!.jwk] })),
})
const url = (d: string) => new URL(`https://${d}/.well-known/domainpop/keys/1`)
const signed = (privateKey: KeyObject) => {
  const input = 'eyJhbGciOiJFUzI1NiJ9.eyJqdGkiOiJ4In0'
  return { input, sig: sign('sha256', Buffer.from(input, 'latin1'), { key: privateKey, dsaEncoding: 'ieee-p1363' }) }
}

t.test('the hot set stays within hotKeys; keys that left it are imported again and still verify', async (t) => {
  let hook = 0
  const cache = createKeyCache(keysConfig({ hotKeys: 2 }), { fetchDocument, onKeyImport: () => { hook++ } })
  t.teardown(() => cache.close())
  for (const d of DOMAINS) await cache.getKey(url(d), d, keys.get(d)!.kid)
  t.equal(cache.size, 3, 'every document stays cached')
  t.equal(cache.stats().hotKeys, 2, 'only two keys stay imported')
  t.equal(cache.stats().keyImports, 0, 'first imports come from the document parser')

  // a.test was the least recently used: it left the hot set.
  const a = keys.get('a.test')!
  const again = await cache.getKey(url('a.test'), 'a.test' as Identity, a.kid)
  t.equal(cache.stats().keyImports, 1, 'one re-import')
  t.equal(hook, 1, 'reported to the metrics hook')
  t.equal(cache.stats().fetches, 3, 'no refetch')
  t.same(again.keyObject.export({ format: 'jwk' }), { kty: 'EC', crv: 'P-256', x: a.jwk.x, y: a.jwk.y }, 'the same public key')
  const { input, sig } = signed(a.privateKey)
  t.equal(await verifySignature('ES256', again.keyObject, input, sig), true, "a's own signature verifies")
  const other = signed(keys.get('b.test')!.privateKey)
  t.equal(await verifySignature('ES256', again.keyObject, other.input, other.sig), false, "b's signature does not verify under a's key")

  // Now hot: a second lookup imports nothing and returns the same object.
  t.equal(await cache.getKey(url('a.test'), 'a.test' as Identity, a.kid), again)
  t.equal(cache.stats().keyImports, 1)
  t.equal(cache.stats().hotKeys, 2)
})

t.test('hot-set churn does not change which key a domain gets', async (t) => {
  // A throwing metrics hook changes nothing.
  const cache = createKeyCache(keysConfig({ hotKeys: 1 }), { fetchDocument, onKeyImport: () => { throw new Error('metrics down') } })
  t.teardown(() => cache.close())
  for (let round = 0; round < 3; round++) {
    for (const d of DOMAINS) {
      const k = keys.get(d)!
      const got = await cache.getKey(url(d), d, k.kid)
      t.equal(got.kid, k.kid)
      t.equal(got.keyObject.export({ format: 'jwk' }).x, k.jwk.x, `${d} round ${round}`)
    }
  }
  t.equal(cache.stats().hotKeys, 1)
  t.equal(cache.stats().keyImports, 6, 'every lookup after the first round re-imports')
})

t.test('a stored key that no longer imports fails closed with a GatewayError', async (t) => {
  const hot = new HotKeys(4)
  const good = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ format: 'jwk' })
  // y belongs to no point on the curve with this x.
  const broken: StoredKey = storedKey('k', undefined, { kty: 'EC', crv: 'P-256', x: good.x, y: good.x })
  let caught: unknown
  try {
    hot.resolve(broken)
  } catch (err) {
    caught = err
  }
  t.ok(caught instanceof GatewayError, 'a GatewayError')
  t.equal((caught as GatewayError).code, 'key_document_invalid')
  t.equal(hot.size, 0, 'nothing admitted')
})
