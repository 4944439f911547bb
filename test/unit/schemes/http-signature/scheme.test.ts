// The HTTP Message Signatures scheme (schemes/http-signature/) with an
// injected directory and a fixed clock: the rule's demands in verify, the
// body against Content-Digest, Accept-Signature as its challenge.

import t from 'tap'
import { createHttpSignatureScheme, SIGNATURE_FIELDS } from '../../../../src/schemes/http-signature/index.js'
import { signMessage } from '../../../../src/proofs/http-signature/sign.js'
import { requestView } from '../../../../src/proofs/http-signature/base.js'
import { contentDigestHeader } from '../../../../src/proofs/content-digest.js'
import { GatewayError } from '../../../../src/errors.js'
import { namespacedReplay } from '../../../../src/schemes/replay.js'
import { createMemoryReplayStore } from '../../../../src/replay/memory.js'
import type { Rule } from '../../../../src/acl/index.js'
import type { Credentials } from '../../../../src/schemes/types.js'
import { fakeView } from '../../../helpers/request-view.js'

import { NOW, nowSec, privateKey, keyid, directory, settings } from '../../../helpers/http-signature-agent.js'
import { openKeyTrust } from '../../../helpers/key-trust.js'
let n = 0

function signed(o: { method?: string; path?: string; body?: string; components?: string[]; nonce?: string | null } = {}) {
  const method = o.method ?? 'GET'
  const path = o.path ?? '/bots/x?y=1'
  const headers: Record<string, string> = { 'signature-agent': 'sig1="https://agent.example"' }
  if (o.body !== undefined) headers['content-digest'] = contentDigestHeader(Buffer.from(o.body))
  const comps: Array<string | [string, Map<string, string>]> = [...(o.components ?? ['@authority', '@method', '@path']), ['signature-agent', new Map([['key', 'sig1']])]]
  if (o.body !== undefined) comps.push('content-digest')
  const s = signMessage(requestView({ method, url: `https://gw.test${path}`, headers }), {
    label: 'sig1', components: comps, alg: 'ed25519', key: privateKey,
    params: { created: nowSec, keyid, alg: true, expires: nowSec + 60, nonce: o.nonce === null ? undefined : o.nonce ?? `n-${++n}`, tag: 'web-bot-auth' },
  })
  const fields = new Map([['signature-input', s.signatureInput], ['signature', s.signature], ['signature-agent', headers['signature-agent']!]])
  const credentials: Credentials = { authorization: undefined, fields }
  const view = fakeView({ method, path: path.split('?')[0], target: path, authority: 'gw.test', nowMs: NOW, headers: { ...headers, ...Object.fromEntries(fields) }, body: o.body === undefined ? undefined : Buffer.from(o.body) })
  return { credentials, view }
}

const create = (replay = namespacedReplay(createMemoryReplayStore({ maxEntries: 100 }), 'http-signature', 60_000, () => {})) =>
  createHttpSignatureScheme({ keyTrust: openKeyTrust(), settings, publicScheme: 'https', maxBodyBytes: 1024, directory, replay })
const RULE = { httpSignature: undefined } as unknown as Rule

const code = async (fn: () => unknown) => {
  try { await fn(); return 'ok' } catch (err) { return err instanceof GatewayError ? err.code : `not a GatewayError: ${String(err)}` }
}

t.test('own: the principal, body-signed when Content-Digest is covered and matches', async (t) => {
  const scheme = create()
  t.same(scheme.fields, [...SIGNATURE_FIELDS])
  const { credentials, view } = signed({ method: 'POST', body: '{"a":1}' })
  const p = await scheme.verify(scheme.parse(credentials, view), view, RULE)
  t.match(p, { identity: 'agent.example', method: 'http-signature', thumbprint: keyid, confirmation: { jkt: keyid }, channelBound: false })
  t.ok(p.assurances?.has('body-signed'))
  const other = signed({ method: 'POST', body: '{"a":1}' })
  const tampered = fakeView({ method: 'POST', path: '/bots/x', target: '/bots/x?y=1', authority: 'gw.test', nowMs: NOW, headers: {}, body: Buffer.from('{"a":2}') })
  const swapped = { ...other.view, body: tampered.body }
  t.equal(await code(() => scheme.verify(scheme.parse(other.credentials, other.view), swapped, RULE)), 'content_digest_mismatch')
  const big = signed({ method: 'POST', body: 'x'.repeat(2000) })
  t.equal(await code(() => scheme.verify(scheme.parse(big.credentials, big.view), big.view, RULE)), 'body_too_large')
})

t.test('own: the rule demands components and a nonce (httpSignature), in verify', async (t) => {
  const scheme = create()
  const { credentials, view } = signed({ nonce: null })
  const claim = scheme.parse(credentials, view)
  t.equal(await code(() => scheme.verify(claim, view, { httpSignature: { components: [], nonce: 'required' } } as unknown as Rule)), 'signature_nonce_required')
  t.equal(await code(() => scheme.verify(claim, view, { httpSignature: { components: ['@query'], nonce: 'optional' } } as unknown as Rule)), 'signature_component_missing')
  t.equal(await code(() => scheme.verify(claim, view, RULE)), 'ok', 'no nonce, no demand: accepted')
})

t.test('own: parse refuses another authority and unsafe methods without @method/@path', async (t) => {
  const scheme = create()
  const a = signed()
  t.equal(await code(() => scheme.parse(a.credentials, { ...a.view, authority: 'other.test' })), 'signature_authority_mismatch')
  const b = signed({ method: 'DELETE', components: ['@authority'] })
  t.equal(await code(() => scheme.parse(b.credentials, b.view)), 'signature_component_missing')
})

t.test('own: the challenge is Accept-Signature (RFC 9421 §5.1), no WWW-Authenticate', async (t) => {
  const parts = create().challenge(undefined)
  t.equal(parts.field, undefined)
  t.same(parts.headers, ['Accept-Signature', 'sig1=("@authority" "signature-agent";key="sig1");created;expires;tag="web-bot-auth"'])
})

t.test('key trust: a pinned agent identity takes only its pinned keyid, refused before the directory is asked', async (t) => {
  let asked = 0
  const counting = { getKey: (...a: Parameters<typeof directory.getKey>) => { asked++; return directory.getKey(...a) } }
  const pinned = (keys: string[]) => createHttpSignatureScheme({
    keyTrust: openKeyTrust({ policies: new Map([['agent.example' as never, { identity: 'agent.example', keys, newKeys: 'accept', pos: { line: 1, col: 1 } } as never]]) }),
    settings, publicScheme: 'https', maxBodyBytes: 1024, directory: counting, replay: namespacedReplay(createMemoryReplayStore({ maxEntries: 100 }), 'http-signature', 60_000, () => {}),
  })
  const other = 'x'.repeat(43)
  const a = signed()
  const refusing = pinned([other])
  t.equal(await code(() => refusing.verify(refusing.parse(a.credentials, a.view), a.view, RULE)), 'key_not_pinned')
  t.equal(asked, 0, 'nothing fetched')
  const b = signed()
  const taking = pinned([other, keyid])
  t.equal(await code(() => taking.verify(taking.parse(b.credentials, b.view), b.view, RULE)), 'ok')
  t.equal(asked, 1)
})
