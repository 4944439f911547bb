// The Web Bot Auth profile: Cloudflare's published vectors (the ones its
// `web-bot-auth` package is tested against, test/fixtures/httpsig) verified
// through our parser, base and policy, the Ed25519 ones re-signed byte for
// byte; Signature-Agent in both forms; and every profile check made to fail.

import t from 'tap'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { createPrivateKey, createPublicKey, generateKeyPairSync, type JsonWebKey } from 'node:crypto'
import { calculateJwkThumbprint, type JWK } from 'jose'
import { parseSignatures } from '../../../src/proofs/http-signature/input.js'
import { requestView } from '../../../src/proofs/http-signature/base.js'
import { signMessage } from '../../../src/proofs/http-signature/sign.js'
import { checkSignature, verifyEntry, type SignaturePolicy } from '../../../src/proofs/http-signature/policy.js'
import { parseSignatureAgent, selectAgent } from '../../../src/proofs/http-signature/agent.js'
import { GatewayError } from '../../../src/errors.js'
import type { HttpSignatureAlgorithm } from '../../../src/proofs/http-signature/algorithms.js'

const fixture = (name: string): unknown => JSON.parse(readFileSync(fileURLToPath(new URL(`../../../../test/fixtures/httpsig/${name}`, import.meta.url)), 'utf8'))

interface WbaVector {
  key: JsonWebKey & { kid: string }
  target_url: string; created_ms: number; expires_ms: number; nonce: string; label: string
  signature: string; signature_input: string; signature_agent?: string; signature_agent_key?: string
}
const vectors = [...fixture('web_bot_auth_architecture_v1.json') as WbaVector[], ...fixture('web_bot_auth_architecture_v2.json') as WbaVector[]]
const ALL: ReadonlySet<HttpSignatureAlgorithm> = new Set(['ed25519', 'ecdsa-p256-sha256', 'rsa-pss-sha512'])

const policy = (nowSec: number, over: Partial<SignaturePolicy> = {}): SignaturePolicy => ({
  authority: 'example.com', nowSec, clockSkewSec: 5, maxValiditySec: 200 * 365 * 86400, tag: 'web-bot-auth',
  algorithms: ALL, components: [], nonce: 'optional', hasAgent: false, ...over,
})
const code = async (fn: () => unknown): Promise<string> => {
  try {
    await fn()
    return 'ok'
  } catch (err) {
    return err instanceof GatewayError ? `${err.code}: ${err.detail}` : `not a GatewayError: ${String(err)}`
  }
}

t.test('the vectors are what the test says they are', async (t) => {
  t.equal(vectors.length, 8)
  t.same([...new Set(vectors.map((v) => v.key.kty))].sort(), ['OKP', 'RSA'])
})

vectors.forEach((v, i) => {
  t.test(`Web Bot Auth vector ${i} (${v.key.kty}, ${v.label}${v.signature_agent ? ', Signature-Agent' : ''}) verifies`, async (t) => {
    const { d: _d, p: _p, q: _q, dp: _dp, dq: _dq, qi: _qi, kid: _kid, alg: _alg, ...pubJwk } = v.key as JsonWebKey & Record<string, unknown>
    const publicKey = createPublicKey({ key: pubJwk as JsonWebKey, format: 'jwk' })
    const headers: Record<string, string> = { 'Signature-Input': v.signature_input, Signature: v.signature }
    if (v.signature_agent) headers['Signature-Agent'] = v.signature_agent
    const m = requestView({ method: 'GET', url: v.target_url, headers })
    const entries = parseSignatures(m.fieldValues('signature-input'), m.fieldValues('signature'))
    const nowSec = v.created_ms / 1000 + 1
    const checked = checkSignature(entries, m, policy(nowSec, { hasAgent: v.signature_agent !== undefined }))
    t.equal(checked.entry.params.keyid, await calculateJwkThumbprint(pubJwk as JWK, 'sha256'), 'keyid is the RFC 7638 thumbprint')
    t.equal(checked.agentKey, v.signature_agent_key, 'the covered signature-agent member')
    t.equal(await verifyEntry(m, checked.entry, publicKey, ALL), checked.entry.params.alg)
    if (v.signature_agent) {
      const agent = selectAgent(parseSignatureAgent(m.fieldValues('signature-agent')!), checked.agentKey)
      t.equal(agent.identity, 'signature-agent.test')
      t.equal(agent.keysUrl.href, 'https://signature-agent.test/.well-known/http-message-signatures-directory')
    }
    if (v.key.kty === 'OKP') {
      // Ed25519 is deterministic: our signer must produce Cloudflare's bytes.
      const signed = signMessage(requestView({ method: 'GET', url: v.target_url, headers: v.signature_agent ? { 'Signature-Agent': v.signature_agent } : {} }), {
        label: v.label, components: checked.entry.components, alg: 'ed25519', key: createPrivateKey({ key: v.key as JsonWebKey, format: 'jwk' }),
        params: { created: v.created_ms / 1000, keyid: checked.entry.params.keyid, alg: true, expires: v.expires_ms / 1000, nonce: v.nonce, tag: 'web-bot-auth' },
      })
      t.equal(signed.signatureInput, v.signature_input, 'Signature-Input byte for byte')
      t.equal(signed.signature, v.signature, 'Signature byte for byte')
    }
  })
})

t.test('Signature-Agent vectors: both forms, the type parameter, unknown types ignored', async (t) => {
  for (const v of fixture('web_bot_auth_signature_agent_v1.json') as Array<{ name: string; header: string; entries: Array<{ label: string; uri: string; type: string }> }>) {
    const parsed = parseSignatureAgent([v.header])
    const known = v.entries.filter((e) => e.type === 'directory' || e.type === 'jwks_uri')
    t.same(parsed.map((a) => ({ label: a.key, uri: a.url.href.replace(/\/$/, ''), type: a.type })), known.map((e) => ({ ...e, uri: e.uri.replace(/\/$/, '') })), v.name)
  }
  const [jwks] = parseSignatureAgent(['sig1="https://signature-agent.test/jwks.json";type=jwks_uri'])
  t.equal(jwks!.keysUrl.href, 'https://signature-agent.test/jwks.json', 'jwks_uri: the URL is the key set')
  const [bare] = parseSignatureAgent(['"https://agent.example"'])
  t.same([bare!.key, bare!.identity, bare!.keysUrl.pathname], [undefined, 'agent.example', '/.well-known/http-message-signatures-directory'], 'the earlier bare-string form')
  t.equal(parseSignatureAgent(['sig1="https://a.example";type=cimd']).length, 0, 'cimd (unknown here) is ignored, not guessed')
  t.equal(parseSignatureAgent(['sig1="https://a.example";type="directory"'])[0]!.type, 'directory', 'a String type works as a Token')
  const bad = async (value: string) => code(() => parseSignatureAgent([value]))
  t.match(await bad('sig1="http://a.example"'), /^signature_agent_invalid: .*https/)
  t.match(await bad('sig1="https://u:p@a.example"'), /userinfo/)
  t.match(await bad('sig1="https://a.example/?x=1"'), /query/)
  t.match(await bad('sig1="https://127.0.0.1"'), /not a DNS name/)
  t.match(await bad('sig1="https://localhost"'), /not a DNS name/)
  t.match(await bad('sig1=("a" "b")'), /must be strings/)
  t.match(await bad('sig1=1'), /must be strings/)
  t.match(await bad('sig1="https://a.example/";type=jwks_uri'), /jwks_uri must name/)
  t.match(await bad('"https://a.example'), /^signature_agent_invalid: Signature-Agent is not a valid structured field/)
  t.match(await bad('sig1=?x'), /not a valid structured field/)
  const two = parseSignatureAgent(['a="https://a.example", b="https://b.example"'])
  t.equal(selectAgent(two, 'b').identity, 'b.example')
  t.match(await code(() => selectAgent(two, undefined)), /several agents/)
  t.match(await code(() => selectAgent(two, 'c')), /no usable member/)
  t.match(await code(() => selectAgent([], undefined)), /no usable agent/)
})

t.test('the profile checks, each made to fail', async (t) => {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519')
  const now = 1_900_000_000
  const sign = (o: { components?: string[]; created?: number; expires?: number; tag?: string; nonce?: string; keyid?: string; url?: string; method?: string; headers?: Record<string, string>; alg?: boolean } = {}) => {
    const url = o.url ?? 'https://example.com/x?y=1'
    const base = { 'Signature-Agent': 'sig1="https://agent.example"', ...o.headers }
    const comps = o.components ?? ['@authority', '"signature-agent";key="sig1"']
    const ids = comps.map((c) => (c.startsWith('"signature-agent";key=') ? ['signature-agent', new Map([['key', 'sig1']])] as [string, Map<string, string>] : c))
    const s = signMessage(requestView({ method: o.method ?? 'GET', url, headers: base }), {
      label: 'sig1', components: ids, alg: 'ed25519', key: privateKey,
      params: { created: o.created ?? now, keyid: o.keyid ?? 'kid', alg: o.alg ?? true, expires: o.expires ?? now + 60, nonce: o.nonce, tag: o.tag ?? 'web-bot-auth' },
    })
    return requestView({ method: o.method ?? 'GET', url, headers: { ...base, 'Signature-Input': s.signatureInput, Signature: s.signature } })
  }
  const check = async (m: ReturnType<typeof sign>, over: Partial<SignaturePolicy> = {}) => code(async () => {
    const c = checkSignature(parseSignatures(m.fieldValues('signature-input'), m.fieldValues('signature')), m, policy(now, { hasAgent: true, ...over }))
    await verifyEntry(m, c.entry, publicKey, ALL)
  })
  t.equal(await check(sign()), 'ok', 'the baseline passes')
  t.match(await check(sign({ components: ['"signature-agent";key="sig1"'] })), /^signature_component_missing: .*@authority or @target-uri/)
  t.equal(await check(sign({ components: ['@target-uri', '"signature-agent";key="sig1"'] })), 'ok', '@target-uri instead of @authority')
  t.match(await check(sign({ components: ['@authority'] })), /^signature_component_missing: .*signature-agent/)
  t.match(await check(sign({ method: 'POST' })), /^signature_component_missing: .*@method/, 'unsafe methods demand @method')
  t.match(await check(sign({ method: 'POST', components: ['@authority', '@method', '"signature-agent";key="sig1"'] })), /@path/, '… and @path')
  t.equal(await check(sign({ method: 'POST', components: ['@authority', '@method', '@path', '"signature-agent";key="sig1"'] })), 'ok')
  t.equal(await check(sign({ method: 'DELETE', components: ['@target-uri', '@method', '"signature-agent";key="sig1"'] })), 'ok', '@target-uri covers the path')
  t.match(await check(sign(), { components: ['content-digest'] }), /route requires .*content-digest/, 'a rule may demand more')
  t.match(await check(sign({ url: 'https://other.example/x' })), /^signature_authority_mismatch/)
  t.match(await check(sign({ url: 'https://example.com:8443/x' })), /^signature_authority_mismatch/, 'another port is another authority')
  t.equal(await check(sign({ url: 'https://EXAMPLE.com:443/x' })), 'ok', 'case and the default port do not matter (§2.2.3)')
  t.match(await check(sign({ created: now + 60, expires: now + 120 })), /^signature_expired: created is in the future/)
  t.equal(await check(sign({ created: now + 5, expires: now + 120 })), 'ok', 'within the clock skew')
  t.match(await check(sign({ created: now - 120, expires: now - 60 })), /has expired/)
  t.match(await check(sign({ created: now, expires: now })), /not after created/)
  t.match(await check(sign({ created: now - 10, expires: now + 100_000 }), { maxValiditySec: 86_400 }), /longer than 86400/)
  t.match(await check(sign({ tag: 'other' })), /^signature_tag_invalid/)
  t.equal(await check(sign({ tag: 'other' }), { tag: undefined }), 'ok', 'no tag demanded outside the profile')
  t.match(await check(sign({ keyid: '' })), /^signature_malformed: keyid is required/)
  t.match(await check(sign(), { nonce: 'required' }), /^signature_nonce_required/)
  t.equal(await check(sign({ nonce: 'abc' }), { nonce: 'required' }), 'ok')
  t.match(await check(sign(), { algorithms: new Set(['ecdsa-p256-sha256']) }), /^signature_alg_unsupported/)
  t.equal(await check(sign({ alg: false })), 'ok', 'alg may be left out: the key decides')
  // Tampering after signing.
  const m = sign()
  const swapped = { ...m, fieldValues: (n: string) => (n === 'signature-agent' ? ['sig1="https://evil.example"'] : m.fieldValues(n)) }
  t.match(await check(swapped), /^signature_invalid/, 'another agent than the one signed')
  const twice = { ...m, fieldValues: (n: string) => (n === 'signature-input' ? [m.fieldValues(n)![0]!, m.fieldValues(n)![0]!.replace('sig1=', 'sig2=')] : n === 'signature' ? [m.fieldValues(n)![0]!, m.fieldValues(n)![0]!.replace('sig1=', 'sig2=')] : m.fieldValues(n)) }
  t.match(await check(twice), /^signature_multiple/)
  const wrongAlg = sign()
  t.match(await code(async () => verifyEntry(wrongAlg, parseSignatures(wrongAlg.fieldValues('signature-input'), wrongAlg.fieldValues('signature'))[0]!, generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey, ALL)), /^signature_alg_unsupported: alg does not fit the key/, 'alg="ed25519" with a P-256 key')
})
