// createHttpSignatureFetch end to end over real sockets: the reference key
// host serves the agent's signatures directory (https, test CA), the client
// signs requests to an origin on 127.0.0.1, and the origin verifies them
// three ways — with popgate's own verifier and directory reader, with
// Cloudflare's `web-bot-auth`, and with `http-message-signatures`.

import t from 'tap'
import http from 'node:http'
import { createPublicKey, generateKeyPairSync, type JsonWebKey } from 'node:crypto'
import type { AddressInfo } from 'node:net'
import { verify as wbaVerify } from 'web-bot-auth'
import { verifierFromJWK } from 'web-bot-auth/crypto'
import { httpbis, createVerifier } from 'http-message-signatures'
import { createHttpSignatureFetch } from '../../../src/client/http-signature.js'
import { clientKeyFrom } from '../../../src/client/keys.js'
import { createKeyHostServer } from '../../../src/keyhost/server.js'
import { createMemoryKeyStore } from '../../../src/keyhost/store.js'
import { createSignatureDirectoryReader } from '../../../src/keys/signature-directory.js'
import { fieldsFromRaw, type MessageView } from '../../../src/proofs/http-signature/base.js'
import { parseSignatures } from '../../../src/proofs/http-signature/input.js'
import { checkSignature, verifyEntry, WEB_BOT_AUTH_TAG } from '../../../src/proofs/http-signature/policy.js'
import { parseSignatureAgent, selectAgent } from '../../../src/proofs/http-signature/agent.js'
import { checkContentDigest } from '../../../src/proofs/content-digest.js'
import { keysConfig } from '../../helpers/key-host.js'
import { tlsFixtures } from '../../helpers/tls-fixtures.js'

const { privateKey } = generateKeyPairSync('ed25519')
const key = await clientKeyFrom(privateKey)
const store = createMemoryKeyStore()
await store.put({ id: key.kid, jwk: key.publicJwk, expiresAtMs: Date.now() + 3_600_000 })
const keyhost = createKeyHostServer({ identity: 'alice.test', store, authorize: () => false, publicOrigin: 'https://alice.test', signaturesDirectory: true }, { cert: Buffer.from(tlsFixtures.certPem), key: Buffer.from(tlsFixtures.keyPem) })
await new Promise<void>((r) => keyhost.listen(0, '127.0.0.1', r))
const agentUrl = `https://alice.test:${(keyhost.address() as AddressInfo).port}`
const reader = createSignatureDirectoryReader(keysConfig())
t.teardown(async () => { keyhost.closeAllConnections(); keyhost.close(); await reader.close() })

interface Seen { method: string; url: string; raw: string[]; body: Buffer; headers: http.IncomingHttpHeaders }
const seen: Seen[] = []
const origin = http.createServer((req, res) => {
  const chunks: Buffer[] = []
  req.on('data', (c: Buffer) => chunks.push(c))
  req.on('end', () => {
    seen.push({ method: req.method!, url: req.url!, raw: req.rawHeaders, body: Buffer.concat(chunks), headers: req.headers })
    res.end('ok')
  })
})
await new Promise<void>((r) => origin.listen(0, '127.0.0.1', r))
const authority = `127.0.0.1:${(origin.address() as AddressInfo).port}`
t.teardown(() => { origin.closeAllConnections(); origin.close() })

const doFetch = createHttpSignatureFetch({ agent: agentUrl, privateKey: key })

/** popgate's verifier, as the gateway will run it. */
async function popgateVerifies(s: Seen): Promise<string> {
  const m: MessageView = { method: s.method, scheme: 'http', authority: s.headers.host!, requestTarget: s.url, fieldValues: fieldsFromRaw(s.raw) }
  const checked = checkSignature(parseSignatures(m.fieldValues('signature-input'), m.fieldValues('signature')), m, {
    authority, nowSec: Math.floor(Date.now() / 1000), clockSkewSec: 5, maxValiditySec: 86_400, tag: WEB_BOT_AUTH_TAG,
    algorithms: new Set(['ed25519']), components: s.body.length > 0 ? ['content-digest'] : [], nonce: 'required', hasAgent: true,
  })
  const agent = selectAgent(parseSignatureAgent(m.fieldValues('signature-agent')!), checked.agentKey)
  const dirKey = await reader.getKey(agent.keysUrl, agent.identity, checked.entry.params.keyid!)
  await verifyEntry(m, checked.entry, dirKey.keyObject, new Set(['ed25519']))
  if (s.body.length > 0) checkContentDigest(m.fieldValues('content-digest')!.join(', '), s.body)
  return agent.identity
}

t.test('a signed GET: popgate, web-bot-auth and http-message-signatures all verify it', async (t) => {
  const res = await doFetch(`http://${authority}/things/1?x=1`)
  t.equal(res.status, 200)
  const s = seen.at(-1)!
  t.match(s.headers['signature-agent'], /^sig1="https:\/\/alice\.test:\d+"$/, 'the dictionary form')
  t.match(s.headers['signature-input'], /^sig1=\("@authority" "@method" "@path" "@query" "signature-agent";key="sig1"\);created=\d+;keyid="[A-Za-z0-9_-]{43}";alg="ed25519";expires=\d+;nonce="[A-Za-z0-9_-]+";tag="web-bot-auth"$/)
  t.equal(await popgateVerifies(s), 'alice.test')
  const ok = await httpbis.verifyMessage({
    keyLookup: async (p) => (p.keyid === key.kid ? { id: key.kid, algs: ['ed25519'], verify: createVerifier(createPublicKey(privateKey), 'ed25519') } : null),
    requiredFields: ['@authority', '@method', '@path', 'signature-agent'],
  }, { method: s.method, url: `http://${authority}${s.url}`, headers: s.headers as Record<string, string> })
  t.equal(ok, true, 'http-message-signatures verifies')
})

t.test('web-bot-auth 0.1.3 verifies a signature that covers the whole Signature-Agent field', async (t) => {
  // Its bundled http-message-sig 0.2 reads `"signature-agent";key="sig1"` as the whole field
  // (not the member RFC 9421 §2.1.2 says), so the draft's key= form only verifies with 0.3+.
  // popgate accepts both forms; the client can emit either.
  const whole = createHttpSignatureFetch({ agent: agentUrl, privateKey: key, coverAgentMember: false })
  await whole(`http://${authority}/things/2?y=2`)
  const s = seen.at(-1)!
  t.match(s.headers['signature-input'], /"@query" "signature-agent"\);/)
  t.equal(await popgateVerifies(s), 'alice.test', 'popgate accepts whole-field coverage of a one-member field')
  const request = new Request(`http://${authority}${s.url}`, { headers: Object.fromEntries(Object.entries(s.headers).filter(([k]) => k !== 'host').map(([k, v]) => [k, String(v)])) })
  await t.resolves(wbaVerify(request, await verifierFromJWK(key.publicJwk as JsonWebKey)), 'web-bot-auth verifies')
  const tampered = new Request(`http://${authority}/things/3?y=2`, { headers: Object.fromEntries(Object.entries(s.headers).filter(([k]) => k !== 'host').map(([k, v]) => [k, String(v)])) })
  await t.rejects(wbaVerify(tampered, await verifierFromJWK(key.publicJwk as JsonWebKey)), 'and refuses another path')
})

t.test('a signed POST covers Content-Digest; a changed body is caught', async (t) => {
  await doFetch(`http://${authority}/things`, { method: 'POST', body: '{"a":1}', headers: { 'content-type': 'application/json' } })
  const s = seen.at(-1)!
  t.match(s.headers['signature-input'], /"content-digest"\);/)
  t.match(s.headers['content-digest'], /^sha-256=:/)
  t.equal(await popgateVerifies(s), 'alice.test')
  await t.rejects(popgateVerifies({ ...s, body: Buffer.from('{"a":2}') }), { code: 'content_digest_mismatch' })
  await t.rejects(popgateVerifies({ ...s, method: 'PUT' }), { code: 'signature_invalid' }, 'another method than the one signed')
  await t.rejects(popgateVerifies({ ...s, url: '/other' }), { code: 'signature_invalid' }, 'another path')
})

t.test('a stream body cannot be signed', async (t) => {
  await t.rejects(doFetch(`http://${authority}/x`, { method: 'POST', body: new Blob(['x']) }), /the body must be a string/)
})
