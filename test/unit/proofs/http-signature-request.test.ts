// The request-level read and verify steps (proofs/http-signature/request.ts)
// with injected keys, replay store and body: the identity is the agent's
// host; read does no I/O; verify checks key, signature, Content-Digest and
// the nonce once; Accept-Signature says what is wanted.

import t from 'tap'
import { generateKeyPairSync } from 'node:crypto'
import { calculateJwkThumbprint, type JWK } from 'jose'
import { acceptSignature, NO_DEMAND, readHttpSignature, verifyHttpSignature, type HttpSignatureDeps, type HttpSignatureSettings } from '../../../src/proofs/http-signature/request.js'
import { requestView } from '../../../src/proofs/http-signature/base.js'
import { signMessage } from '../../../src/proofs/http-signature/sign.js'
import { contentDigestHeader } from '../../../src/proofs/content-digest.js'
import { GatewayError } from '../../../src/errors.js'
import { parseDictionary } from 'structured-headers'

const { privateKey, publicKey } = generateKeyPairSync('ed25519')
const keyid = await calculateJwkThumbprint(publicKey.export({ format: 'jwk' }) as JWK, 'sha256')
const NOW = 1_900_000_000
const settings: HttpSignatureSettings = { authority: 'gw.example', clockSkewSec: 5, maxValiditySec: 86_400, tag: 'web-bot-auth', algorithms: new Set(['ed25519']), allowHttp: [] }

function signed(o: { method?: string; body?: string; nonce?: string; digestOf?: string; agent?: string; components?: string[] } = {}) {
  const headers: Record<string, string> = { 'Signature-Agent': o.agent ?? 'sig1="https://agent.example"' }
  if (o.body !== undefined) headers['Content-Digest'] = contentDigestHeader(Buffer.from(o.digestOf ?? o.body))
  const comps: Array<string | [string, Map<string, string>]> = [...(o.components ?? ['@authority', '@method', '@path']), ['signature-agent', new Map([['key', 'sig1']])]]
  if (o.body !== undefined) comps.push('content-digest')
  const s = signMessage(requestView({ method: o.method ?? 'POST', url: 'https://gw.example/x', headers }), {
    label: 'sig1', components: comps, alg: 'ed25519', key: privateKey,
    params: { created: NOW, keyid, alg: true, expires: NOW + 60, nonce: o.nonce ?? 'nonce-1', tag: 'web-bot-auth' },
  })
  return requestView({ method: o.method ?? 'POST', url: 'https://gw.example/x', headers: { ...headers, 'Signature-Input': s.signatureInput, Signature: s.signature } })
}

function deps(body?: string, seen = new Set<string>()): HttpSignatureDeps & { lookups: string[] } {
  const lookups: string[] = []
  return {
    lookups,
    getKey: async (url, identity, kid) => {
      lookups.push(`${url.href} ${identity} ${kid}`)
      if (kid !== keyid) throw new GatewayError('key_not_found', 'no such key')
      return { keyid: kid, keyObject: publicKey }
    },
    firstUse: async (k) => (seen.has(k) ? false : (seen.add(k), true)),
    algorithms: settings.algorithms,
    clockSkewSec: 5,
    body: async () => (body === undefined ? undefined : Buffer.from(body)),
  }
}
const code = async (fn: () => unknown) => {
  try { await fn(); return 'ok' } catch (err) { return err instanceof GatewayError ? err.code : `not a GatewayError: ${String(err)}` }
}

t.test('read: the identity is the agent\'s host, with no I/O; verify: directory key, signature, nonce', async (t) => {
  const m = signed()
  const claim = readHttpSignature(m, settings, NO_DEMAND, NOW)
  t.equal(claim.identity, 'agent.example')
  t.equal(claim.agent.keysUrl.href, 'https://agent.example/.well-known/http-message-signatures-directory')
  const d = deps()
  t.same(await verifyHttpSignature(claim, m, d, NOW), { thumbprint: keyid, alg: 'ed25519' })
  t.same(d.lookups, [`https://agent.example/.well-known/http-message-signatures-directory agent.example ${keyid}`], 'looked up by (directory URL, keyid)')
  t.equal(await code(() => verifyHttpSignature(claim, m, d, NOW)), 'signature_replayed', 'the same nonce twice')
  t.equal(await code(() => verifyHttpSignature(readHttpSignature(signed({ nonce: 'nonce-2' }), settings, NO_DEMAND, NOW), signed({ nonce: 'nonce-2' }), d, NOW)), 'ok', 'another nonce')
})

t.test('read refuses without Signature-Agent; a rule may demand a nonce and components', async (t) => {
  const m = signed()
  const noAgent = { ...m, fieldValues: (n: string) => (n === 'signature-agent' ? undefined : m.fieldValues(n)) }
  t.equal(await code(() => readHttpSignature(noAgent, settings, NO_DEMAND, NOW)), 'signature_agent_invalid')
  t.equal(await code(() => readHttpSignature(m, settings, { components: ['content-digest'], nonce: 'optional' }, NOW)), 'signature_component_missing')
  t.equal(await code(() => readHttpSignature(signed({ components: ['@authority'], method: 'GET' }), settings, NO_DEMAND, NOW)), 'ok', 'GET needs only @authority')
  t.equal(await code(() => readHttpSignature(signed({ components: ['@authority'] }), settings, NO_DEMAND, NOW)), 'signature_component_missing', 'POST needs @method and @path')
  t.equal(await code(() => readHttpSignature(signed({ agent: 'sig1="https://agent.example";type=cimd' }), settings, NO_DEMAND, NOW)), 'signature_agent_invalid', 'only an unknown type: no agent')
})

t.test('verify: the body against its Content-Digest, before anything is forwarded', async (t) => {
  const m = signed({ body: '{"a":1}' })
  const claim = readHttpSignature(m, settings, { components: ['content-digest'], nonce: 'optional' }, NOW)
  t.equal(await code(() => verifyHttpSignature(claim, m, deps('{"a":1}'), NOW)), 'ok')
  t.equal(await code(() => verifyHttpSignature(claim, m, deps('{"a":2}'), NOW)), 'content_digest_mismatch', 'another body')
  const lying = signed({ body: '{"a":2}', digestOf: '{"a":1}', nonce: 'n3' })
  t.equal(await code(() => verifyHttpSignature(readHttpSignature(lying, settings, NO_DEMAND, NOW), lying, deps('{"a":2}'), NOW)), 'content_digest_mismatch', 'a signed digest of another body')
  const tooBig: HttpSignatureDeps = { ...deps(), body: async () => { throw new GatewayError('body_too_large', 'too large') } }
  t.equal(await code(() => verifyHttpSignature(readHttpSignature(signed({ body: 'x', nonce: 'n4' }), settings, NO_DEMAND, NOW), signed({ body: 'x', nonce: 'n4' }), tooBig, NOW)), 'body_too_large')
})

t.test('verify: a keyid the agent\'s directory does not list', async (t) => {
  const m = signed()
  const claim = readHttpSignature(m, settings, NO_DEMAND, NOW)
  const other = { ...deps(), getKey: async () => { throw new GatewayError('key_not_found', 'x') } }
  t.equal(await code(() => verifyHttpSignature(claim, m, other, NOW)), 'key_not_found')
  const wrongKey = { ...deps(), getKey: async () => ({ keyid, keyObject: generateKeyPairSync('ed25519').publicKey }) }
  t.equal(await code(() => verifyHttpSignature(claim, m, wrongKey, NOW)), 'signature_invalid')
})

t.test('Accept-Signature (RFC 9421 §5.1) says what is wanted', async (t) => {
  t.equal(acceptSignature('GET', NO_DEMAND, 'web-bot-auth'), 'sig1=("@authority" "signature-agent";key="sig1");created;expires;tag="web-bot-auth"')
  t.equal(acceptSignature('POST', { components: ['content-digest'], nonce: 'required' }, 'web-bot-auth'),
    'sig1=("@authority" "content-digest" "@method" "@path" "signature-agent";key="sig1");created;expires;nonce;tag="web-bot-auth"')
  t.doesNotThrow(() => parseDictionary(acceptSignature('DELETE', NO_DEMAND, undefined)), 'a valid Dictionary')
})
