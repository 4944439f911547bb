// The forward signer's hand-written base (proxy/forward-signature.ts, a
// measured hot path) against the generic RFC 9421 §2.5 builder: the same
// bytes, so the signature verifies through popgate's own verifier; what it
// covers; the directory; refusals.

import t from 'tap'
import { createPublicKey } from 'node:crypto'
import { createForwardSigner } from '../../../src/proxy/forward-signature.js'
import { generateAssertionKey, ecThumbprint } from '../../../src/secrets/assertion-keys.js'
import { fieldsFromRaw, signatureBase } from '../../../src/proofs/http-signature/base.js'
import { parseSignatures } from '../../../src/proofs/http-signature/input.js'
import { verifyBase } from '../../../src/proofs/http-signature/algorithms.js'
import { checkContentDigest } from '../../../src/proofs/content-digest.js'
import { GatewayError } from '../../../src/errors.js'

const keys = [generateAssertionKey('a2'), generateAssertionKey('a1')]
const signer = createForwardSigner(keys, 'X-PoP-')
const target = { method: 'POST', scheme: 'http', authority: 'App.Internal:80', path: '/api/x?y=1&z=%20' }

async function verified(headers: string[], tgt = target) {
  const fields = fieldsFromRaw(headers)
  const [entry] = parseSignatures(fields('signature-input'), fields('signature'))
  const base = signatureBase({ ...tgt, requestTarget: tgt.path, fieldValues: fields }, entry!.components, entry!.rawParams)
  return { entry: entry!, base, ok: await verifyBase('ecdsa-p256-sha256', createPublicKey(keys[0]!.privateKey), base, entry!.signature) }
}

t.test('the fast base is the generic builder\'s, byte for byte, and verifies', async (t) => {
  const headers = ['Host', 'app.internal', 'X-PoP-Identity', 'alice.example', 'X-PoP-Auth-Method', 'domainpop', 'X-PoP-Key-Thumbprint', 'abc', 'Accept', '*/*']
  signer.sign(target, headers, Buffer.from('{"a":1}'), Date.UTC(2030, 0, 1))
  const { entry, base, ok } = await verified(headers)
  t.ok(ok, 'the generic builder\'s base verifies the fast path\'s signature')
  t.same(entry.components.map(([n]) => n), ['@method', '@target-uri', 'x-pop-identity', 'x-pop-auth-method', 'x-pop-key-thumbprint', 'content-digest'])
  t.match(base, /^"@method": POST\n"@target-uri": http:\/\/app\.internal\/api\/x\?y=1&z=%20\n"x-pop-identity": alice\.example\n/, '§2.2.3: authority lowercased, default port dropped')
  t.same([entry.params.keyid, entry.params.alg, entry.params.tag, entry.params.expires! - entry.params.created!], [ecThumbprint(keys[0]!.publicJwk.x, keys[0]!.publicJwk.y), 'ecdsa-p256-sha256', 'popgate', 60])
  t.equal(entry.label, 'popgate')
  t.doesNotThrow(() => checkContentDigest(fieldsFromRaw(headers)('content-digest')![0]!, Buffer.from('{"a":1}')))
})

t.test('no body: no Content-Digest; a public request covers only the target', async (t) => {
  const headers = ['Host', 'x']
  signer.sign({ ...target, method: 'GET' }, headers, undefined, Date.now())
  const { entry, ok } = await verified(headers, { ...target, method: 'GET' })
  t.ok(ok)
  t.same(entry.components.map(([n]) => n), ['@method', '@target-uri'])
  t.notOk(headers.some((h) => h.toLowerCase() === 'content-digest'))
})

t.test('a value that cannot go in a base is refused, never signed', async (t) => {
  t.throws(() => signer.sign({ ...target, path: '/a\nb' }, [], undefined, Date.now()), GatewayError)
  t.throws(() => signer.sign(target, ['X-PoP-Identity', 'al\u00efce'], undefined, Date.now()), GatewayError)
})

t.test('the directory: every key, public halves, kid = RFC 7638 thumbprint', async (t) => {
  const dir = JSON.parse(signer.directory) as { keys: Array<Record<string, string>> }
  t.same(dir.keys.map((k) => k.kid), keys.map((k) => ecThumbprint(k.publicJwk.x, k.publicJwk.y)))
  t.notOk(dir.keys.some((k) => 'd' in k))
})
