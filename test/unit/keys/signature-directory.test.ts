// The HTTP Message Signatures key directory (keys/signature-directory.ts)
// against a real HTTPS key host that counts requests: the draft's media
// type, https and 200 only, no redirects, no private members, a size cap,
// keyids as RFC 7638 thumbprints, and keys looked up by (directory URL,
// keyid) — never by keyid alone.

import t, { type Test } from 'tap'
import { generateKeyPairSync, sign, verify } from 'node:crypto'
import { calculateJwkThumbprint, type JWK } from 'jose'
import {
  createSignatureDirectoryReader, parseSignatureDirectory, SIGNATURES_DIRECTORY_MEDIA_TYPE,
} from '../../../src/keys/signature-directory.js'
import { SIGNATURES_DIRECTORY_PATH } from '../../../src/proofs/http-signature/agent.js'
import type { KeysConfig } from '../../../src/keys/index.js'
import { GatewayError } from '../../../src/errors.js'
import { json, keysConfig, redirect, startKeyHost } from '../../helpers/key-host.js'

const host = await startKeyHost()
t.teardown(() => host.close())
const START = Date.parse('2030-01-01T00:00:00Z')
const TYPE = { contentType: SIGNATURES_DIRECTORY_MEDIA_TYPE }

const edKey = async () => {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519')
  const jwk = publicKey.export({ format: 'jwk' }) as JWK
  return { jwk, privateKey, keyid: await calculateJwkThumbprint(jwk, 'sha256') }
}
const set = (...keys: unknown[]) => JSON.stringify({ keys })

function reader(t: Test, cfg: Partial<KeysConfig> = {}) {
  const clock = { ms: START }
  const r = createSignatureDirectoryReader(keysConfig(cfg), { now: () => clock.ms })
  t.teardown(() => r.close())
  return { r, advance: (ms: number) => { clock.ms += ms } }
}
let n = 0
const fresh = () => `/dir/${++n}${SIGNATURES_DIRECTORY_PATH}`
async function outcome(p: Promise<{ keyid: string }>): Promise<string> {
  try {
    return `ok:${(await p).keyid}`
  } catch (err) {
    return err instanceof GatewayError ? err.code : `not a GatewayError: ${String(err)}`
  }
}

t.test('parse: keyids are RFC 7638 thumbprints the document cannot choose; private members refuse it all', async (t) => {
  const a = await edKey()
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ format: 'jwk' }) as JWK
  const d = await parseSignatureDirectory(set({ ...a.jwk, kid: 'my-own-label' }, ec))
  t.same([...d.keys.keys()], [a.keyid, await calculateJwkThumbprint(ec, 'sha256')], 'the kid member is not the keyid')
  await t.rejects(parseSignatureDirectory(set(a.jwk, { ...ec, d: 'AAAA' })), { code: 'key_document_invalid' }, 'a private member anywhere')
  await t.rejects(parseSignatureDirectory(JSON.stringify(a.jwk)), { code: 'key_document_invalid' }, 'a lone JWK is not a directory')
  await t.rejects(parseSignatureDirectory(set({ kty: 'OKP', crv: 'X25519', x: a.jwk.x })), { code: 'key_document_invalid' }, 'no usable key')
})

t.test('reader: fetches the directory once, with the draft\'s Accept; the key verifies the agent\'s signature', async (t) => {
  const a = await edKey()
  const path = fresh()
  host.route(path, json(set(a.jwk), { ...TYPE, headers: { 'cache-control': 'max-age=600' } }))
  const { r } = reader(t)
  const url = new URL(host.url('alice.test', path))
  const key = await r.getKey(url, 'alice.test', a.keyid)
  const data = Buffer.from('base')
  t.ok(verify(null, data, key.keyObject, sign(null, data, a.privateKey)))
  t.equal(await outcome(r.getKey(url, 'alice.test', a.keyid)), `ok:${a.keyid}`)
  t.equal(host.count(path), 1, 'cached')
  t.equal(host.requests.at(-1)!.headers.accept, SIGNATURES_DIRECTORY_MEDIA_TYPE)
})

t.test('reader: every bad directory is refused with its code', async (t) => {
  const a = await edKey()
  const { r } = reader(t)
  const route = (handler: Parameters<typeof host.route>[1]) => { const p = fresh(); host.route(p, handler); return new URL(host.url('alice.test', p)) }
  t.equal(await outcome(r.getKey(route(json(set(a.jwk), { contentType: 'application/json' })), 'alice.test', a.keyid)), 'key_fetch_content_type', 'plain JSON is not the draft\'s media type')
  const target = fresh()
  host.route(target, json(set(a.jwk), TYPE))
  t.equal(await outcome(r.getKey(route(redirect(host.url('alice.test', target))), 'alice.test', a.keyid)), 'key_fetch_redirect')
  t.equal(host.count(target), 0, 'the redirect was not followed')
  t.equal(await outcome(r.getKey(route(json('{}', { ...TYPE, status: 404 })), 'alice.test', a.keyid)), 'key_fetch_status')
  t.equal(await outcome(r.getKey(route(json(set({ ...a.jwk, d: 'AAAA' }), TYPE)), 'alice.test', a.keyid)), 'key_document_invalid', 'a private member')
  const big = set(a.jwk) + ' '.repeat(70 * 1024)
  t.equal(await outcome(r.getKey(route(json(big, TYPE)), 'alice.test', a.keyid)), 'key_fetch_too_large', 'larger than keys.maxBytes (Content-Length)')
  t.equal(await outcome(r.getKey(route((_req, res) => { res.writeHead(200, { 'content-type': SIGNATURES_DIRECTORY_MEDIA_TYPE }); res.end(big) }), 'alice.test', a.keyid)), 'key_fetch_too_large', 'larger than keys.maxBytes (chunked)')
  t.equal(await outcome(r.getKey(new URL(host.url('alice.test', fresh()).replace('https:', 'http:')), 'alice.test', a.keyid)), 'key_fetch_failed', 'http is not fetched')
  t.equal(await outcome(r.getKey(route(json(set(a.jwk), TYPE)), 'bob.test', a.keyid)), 'key_fetch_failed', 'a directory on another host than the agent')
})

t.test('reader: keys by (directory URL, keyid): a key listed under another agent\'s directory is not found', async (t) => {
  const a = await edKey()
  const b = await edKey()
  const alicePath = fresh()
  const bobPath = fresh()
  host.route(alicePath, json(set(a.jwk), TYPE))
  host.route(bobPath, json(set(b.jwk), TYPE))
  const { r, advance } = reader(t)
  const alice = new URL(host.url('alice.test', alicePath))
  const bob = new URL(host.url('bob.test', bobPath))
  t.equal(await outcome(r.getKey(alice, 'alice.test', a.keyid)), `ok:${a.keyid}`)
  t.equal(await outcome(r.getKey(bob, 'bob.test', a.keyid)), 'key_not_found', 'alice\'s key, cached, does not verify for bob')
  const before = host.count(bobPath)
  t.equal(await outcome(r.getKey(bob, 'bob.test', 'unknown')), 'key_not_found')
  t.equal(host.count(bobPath), before, 'an unknown keyid refetches at most once per cooldown')
  // Rotation: bob adds a key; after the cooldown an unknown keyid refetches.
  const c = await edKey()
  host.route(bobPath, json(set(b.jwk, c.jwk), TYPE))
  advance(31_000)
  t.equal(await outcome(r.getKey(bob, 'bob.test', c.keyid)), `ok:${c.keyid}`)
})
