// Interop with the RFC 9421 signers and verifiers on npm, both ways, at the
// message level (the gateway-level, real-socket version runs the same
// signers against a gateway): Cloudflare's `http-message-sig` 0.3 and
// `web-bot-auth`, and dhensby's `http-message-signatures`. Each signs a Web
// Bot Auth request that popgate's parser, base and policy must accept; a
// changed request must fail; popgate's signature must verify in theirs.

import t from 'tap'
import { createPublicKey, generateKeyPairSync, sign as nodeSign, verify as nodeVerify, type JsonWebKey } from 'node:crypto'
import { calculateJwkThumbprint, type JWK } from 'jose'
import { component, createSignature, verifySignature } from 'http-message-sig'
import { signatureHeaders } from 'web-bot-auth'
import { signerFromJWK } from 'web-bot-auth/crypto'
import { httpbis, createSigner } from 'http-message-signatures'
import { requestView, type MessageView } from '../../../src/proofs/http-signature/base.js'
import { parseSignatures } from '../../../src/proofs/http-signature/input.js'
import { checkSignature, verifyEntry } from '../../../src/proofs/http-signature/policy.js'
import { parseSignatureAgent, selectAgent } from '../../../src/proofs/http-signature/agent.js'
import { signMessage } from '../../../src/proofs/http-signature/sign.js'
import type { HttpSignatureAlgorithm } from '../../../src/proofs/http-signature/algorithms.js'

const { privateKey, publicKey } = generateKeyPairSync('ed25519')
const pubJwk = publicKey.export({ format: 'jwk' }) as JWK
const keyid = await calculateJwkThumbprint(pubJwk, 'sha256')
const ED: ReadonlySet<HttpSignatureAlgorithm> = new Set(['ed25519'])
const URL_ = 'https://gw.example/reports/q1?year=2026'
const now = () => Math.floor(Date.now() / 1000)

async function popgateAccepts(m: MessageView): Promise<string> {
  const checked = checkSignature(parseSignatures(m.fieldValues('signature-input'), m.fieldValues('signature')), m, {
    authority: 'gw.example', nowSec: now(), clockSkewSec: 5, maxValiditySec: 86_400, tag: 'web-bot-auth',
    algorithms: ED, components: [], nonce: 'optional', hasAgent: true,
  })
  const agent = selectAgent(parseSignatureAgent(m.fieldValues('signature-agent')!), checked.agentKey)
  if (checked.entry.params.keyid !== keyid) throw new Error('keyid')
  await verifyEntry(m, checked.entry, publicKey, ED)
  return agent.identity
}
const view = (method: string, url: string, headers: Headers): MessageView => {
  const record: Record<string, string> = {}
  headers.forEach((v, k) => { record[k] = v })
  return requestView({ method, url, headers: record })
}

t.test('http-message-sig 0.3 (Cloudflare) signs the draft\'s key= form; popgate verifies', async (t) => {
  const headers = new Headers({ 'signature-agent': 'sig1="https://agent.example"' })
  const request = new Request(URL_, { method: 'GET', headers })
  const fields = await createSignature(request, {
    label: 'sig1',
    components: ['@authority', '@method', '@path', component('signature-agent', { key: 'sig1' })],
    parameters: { created: now(), expires: now() + 60, keyid, alg: 'ed25519', tag: 'web-bot-auth', nonce: 'n-1' },
    signer: { algorithm: 'ed25519', sign: (data) => nodeSign(null, data, privateKey) },
  })
  headers.set('signature-input', fields.signatureInput)
  headers.set('signature', fields.signature)
  t.equal(await popgateAccepts(view('GET', URL_, headers)), 'agent.example')
  await t.rejects(popgateAccepts(view('GET', 'https://gw.example/reports/q2?year=2026', headers)), { code: 'signature_invalid' }, 'another path fails')
})

t.test('popgate signs the key= form; http-message-sig 0.3 verifies it', async (t) => {
  const headers = { 'Signature-Agent': 'sig1="https://agent.example"' }
  const signed = signMessage(requestView({ method: 'GET', url: URL_, headers }), {
    label: 'sig1', components: ['@authority', '@method', '@path', ['signature-agent', new Map([['key', 'sig1']])]], alg: 'ed25519', key: privateKey,
    params: { created: now(), keyid, alg: true, expires: now() + 60, tag: 'web-bot-auth' },
  })
  const request = new Request(URL_, { headers: { ...headers, 'Signature-Input': signed.signatureInput, Signature: signed.signature } })
  const verified = await verifySignature(request, {
    policy: { algorithms: ['ed25519'], requiredComponents: ['@authority', component('signature-agent', { key: 'sig1' })], requiredParameters: ['created', 'expires', 'keyid'] },
    resolveVerifier: () => ({ algorithm: 'ed25519', verify: (data, sig) => nodeVerify(null, data, publicKey, sig) }),
  })
  t.equal(verified.label, 'sig1')
})

t.test('web-bot-auth (Cloudflare) signs; popgate verifies', async (t) => {
  const jwk = { ...(privateKey.export({ format: 'jwk' }) as JsonWebKey), kid: keyid }
  const headers = new Headers({ 'signature-agent': '"https://agent.example"' })
  const request = new Request(URL_, { headers })
  const signed = await signatureHeaders(request, await signerFromJWK(jwk), { created: new Date(), expires: new Date(Date.now() + 60_000) })
  headers.set('signature-input', signed['Signature-Input'])
  headers.set('signature', signed['Signature'])
  t.match(signed['Signature-Input'], /^sig1=\("@authority" "signature-agent"\);.*tag="web-bot-auth"/, 'the earlier bare-string Signature-Agent, covered whole')
  t.equal(await popgateAccepts(view('GET', URL_, headers)), 'agent.example')
  headers.set('signature-agent', '"https://evil.example"')
  await t.rejects(popgateAccepts(view('GET', URL_, headers)), { code: 'signature_invalid' }, 'another agent fails')
})

t.test('http-message-signatures (dhensby) signs; popgate verifies', async (t) => {
  const signedReq = await httpbis.signMessage({
    key: createSigner(privateKey, 'ed25519', keyid),
    fields: ['@authority', '@method', '@path', '@query', 'signature-agent'],
    params: ['created', 'expires', 'keyid', 'alg', 'tag'],
    paramValues: { created: new Date(), expires: new Date(Date.now() + 60_000), tag: 'web-bot-auth' },
  } as Parameters<typeof httpbis.signMessage>[0], { method: 'GET', url: URL_, headers: { 'Signature-Agent': '"https://agent.example"' } })
  const h = new Headers()
  for (const [k, v] of Object.entries(signedReq.headers)) h.set(k, String(v))
  t.equal(await popgateAccepts(view('GET', URL_, h)), 'agent.example')
  await t.rejects(popgateAccepts(view('GET', 'https://gw.example/reports/q1?year=2027', h)), { code: 'signature_invalid' }, 'another query fails')
  t.equal(createPublicKey(privateKey).equals(publicKey), true)
})
