// HTTP Message Signatures (Web Bot Auth) through a real gateway, over real
// sockets: agents signed by four signers from npm and popgate's own client
// are let in as their agent's host (X-PoP-Auth-Method: http-signature,
// the ACL deciding before anything is fetched); every bad input of the issue
// is refused with its code, nothing is forwarded, and the gateway stays
// healthy. Directories are served over HTTPS by the test key host.

import t, { type Test } from 'tap'
import https from 'node:https'
import { generateKeyPairSync, sign as nodeSign, type JsonWebKey, type KeyObject } from 'node:crypto'
import type { AddressInfo } from 'node:net'
import { calculateJwkThumbprint, type JWK } from 'jose'
import { component, createSignature } from 'http-message-sig'
import { signatureHeaders } from 'web-bot-auth'
import { signerFromJWK } from 'web-bot-auth/crypto'
import { httpbis, createSigner } from 'http-message-signatures'
import { startUpstream, startTestGateway, rawRequest } from '../helpers/harness.js'
import { keysConfig } from '../helpers/identity.js'
import { tlsFixtures } from '../helpers/tls-fixtures.js'
import { createHttpSignatureFetch } from '../../src/client/http-signature.js'
import { signMessage } from '../../src/proofs/http-signature/sign.js'
import { requestView } from '../../src/proofs/http-signature/base.js'
import { contentDigestHeader } from '../../src/proofs/content-digest.js'
import { SIGNATURES_DIRECTORY_MEDIA_TYPE } from '../../src/keys/signature-directory.js'
import { SIGNATURES_DIRECTORY_PATH } from '../../src/proofs/http-signature/agent.js'

const ORIGIN = 'https://gw.test'
const ACL = `version: 1
rules:
  - path: /public/**
    public: true
  - id: bots
    path: /bots/**
    read: [alice.test, evil.test, bob.test]
    write: [alice.test]
  - id: strict
    path: /strict/**
    read: [alice.test]
    write: [alice.test]
    httpSignature:
      components: ["@method", "@path", content-digest]
      nonce: required
`

interface Agent { privateKey: KeyObject; publicJwk: JWK; keyid: string }
async function newAgent(): Promise<Agent> {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519')
  const publicJwk = publicKey.export({ format: 'jwk' }) as JWK
  return { privateKey, publicJwk, keyid: await calculateJwkThumbprint(publicJwk, 'sha256') }
}

/** An HTTPS host for every agent domain (the resolve map sends them all to 127.0.0.1): path → handler. */
type Route = (req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse) => void
async function startDirectoryHost(t: Test) {
  const routes = new Map<string, Route>()
  const seen: string[] = []
  const server = https.createServer({ cert: tlsFixtures.certPem, key: tlsFixtures.keyPem }, (req, res) => {
    seen.push(`${req.headers.host?.split(':')[0]} ${req.url}`)
    const route = routes.get(`${req.headers.host?.split(':')[0]} ${req.url}`) ?? routes.get(`* ${req.url}`)
    if (route) route(req, res)
    else res.writeHead(404).end()
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  t.teardown(() => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()) }))
  const port = (server.address() as AddressInfo).port
  const serve = (host: string, path: string, body: string, type = SIGNATURES_DIRECTORY_MEDIA_TYPE, status = 200, extra: Record<string, string> = {}) =>
    routes.set(`${host} ${path}`, (_req, res) => res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body), ...extra }).end(body))
  return { port, seen, routes, serve, agentUrl: (host: string, path = '') => `https://${host}:${port}${path}` }
}

async function setup(t: Test) {
  const up = await startUpstream()
  const dir = await startDirectoryHost(t)
  const gw = await startTestGateway({
    upstream: up.url, publicOrigin: ORIGIN, acl: ACL,
    extraConfig: `${keysConfig(['alice.test', 'bob.test', 'evil.test', 'stranger.test'])}\nhttpSignatures:\n  enabled: true\n  maxBody: 1KiB\n`,
  })
  t.teardown(async () => { await gw.close(); await up.close() })
  const alice = await newAgent()
  dir.serve('alice.test', SIGNATURES_DIRECTORY_PATH, JSON.stringify({ keys: [alice.publicJwk] }))
  return { up, gw, dir, alice }
}

/** Sends a request signed for https://gw.test<path> to the gateway, with Host: gw.test. */
function send(gwUrl: string, method: string, path: string, headers: Record<string, string>, body?: string, host = 'gw.test') {
  return rawRequest(gwUrl, { method, path, headers: [['Host', host], ...Object.entries(headers)], body })
}

interface SignOpts { method?: string; path?: string; agent: string; agentHeader?: string; components?: Array<string | [string, Map<string, string>]>; created?: number; expires?: number; nonce?: string | null; tag?: string; body?: string; key?: KeyObject; keyid?: string; authority?: string }
function popgateSigned(a: Agent, o: SignOpts) {
  const now = Math.floor(Date.now() / 1000)
  const method = o.method ?? 'GET'
  const path = o.path ?? '/bots/x'
  const headers: Record<string, string> = { 'Signature-Agent': o.agentHeader ?? `sig1=${JSON.stringify(o.agent)}` }
  if (o.body !== undefined) headers['Content-Digest'] = contentDigestHeader(Buffer.from(o.body))
  const comps = o.components ?? ['@authority', '@method', '@path', ['signature-agent', new Map([['key', 'sig1']])], ...(o.body !== undefined ? ['content-digest'] : [])]
  const s = signMessage(requestView({ method, url: `https://${o.authority ?? 'gw.test'}${path}`, headers }), {
    label: 'sig1', components: comps, alg: 'ed25519', key: o.key ?? a.privateKey,
    params: { created: o.created ?? now, keyid: o.keyid ?? a.keyid, alg: true, expires: o.expires ?? now + 60, nonce: o.nonce === null ? undefined : o.nonce ?? `n${Math.random()}`, tag: o.tag ?? 'web-bot-auth' },
  })
  return { method, path, headers: { ...headers, 'Signature-Input': s.signatureInput, Signature: s.signature }, body: o.body }
}

t.test('real signers from npm, and popgate\'s own client: let in as the agent\'s host', async (t) => {
  const { up, gw, dir, alice } = await setup(t)
  const agent = dir.agentUrl('alice.test')
  const now = Math.floor(Date.now() / 1000)
  const check = async (name: string, res: Awaited<ReturnType<typeof rawRequest>>) => {
    t.equal(res.status, 200, `${name}: ${res.body}`)
    const seen = up.seen.at(-1)!
    t.equal(seen.headers['x-pop-identity'], 'alice.test', `${name}: identity`)
    t.equal(seen.headers['x-pop-auth-method'], 'http-signature', `${name}: auth method`)
    t.equal(seen.headers['x-pop-key-thumbprint'], alice.keyid, `${name}: thumbprint = keyid`)
    t.equal(seen.headers['signature-input'], undefined, `${name}: the credential is not forwarded`)
  }

  // popgate's client (dictionary form, key=), through a fetch that sends Host: gw.test.
  const viaGateway: typeof fetch = async (input, init) => {
    const u = new URL(String(input))
    const h: Record<string, string> = {}
    new Headers(init?.headers).forEach((v, k) => { h[k] = v })
    const r = await send(gw.url, init?.method ?? 'GET', u.pathname + u.search, h, init?.body as string | undefined)
    return new Response(r.body, { status: r.status })
  }
  const client = createHttpSignatureFetch({ agent, privateKey: alice.privateKey, fetch: viaGateway })
  const res1 = await client('https://gw.test/bots/x?y=1')
  t.equal(res1.status, 200)
  await check('popgate client GET', await send(gw.url, 'GET', '/bots/a', popgateSigned(alice, { agent, path: '/bots/a' }).headers))
  const post = popgateSigned(alice, { agent, method: 'POST', path: '/bots/p', body: '{"a":1}' })
  await check('popgate POST with Content-Digest', await send(gw.url, 'POST', post.path, post.headers, post.body))
  t.equal(up.seen.at(-1)!.bodyBytes, 7, 'the body was forwarded whole')

  // Cloudflare http-message-sig 0.3: the draft's key= form.
  {
    const headers = new Headers({ 'signature-agent': `sig1=${JSON.stringify(agent)}` })
    const fields = await createSignature(new Request('https://gw.test/bots/hms', { headers }), {
      label: 'sig1', components: ['@authority', '@method', '@path', component('signature-agent', { key: 'sig1' })],
      parameters: { created: now, expires: now + 60, keyid: alice.keyid, alg: 'ed25519', tag: 'web-bot-auth', nonce: 'hms-1' },
      signer: { algorithm: 'ed25519', sign: (data) => nodeSign(null, data, alice.privateKey) },
    })
    await check('http-message-sig', await send(gw.url, 'GET', '/bots/hms', { 'Signature-Agent': `sig1=${JSON.stringify(agent)}`, 'Signature-Input': fields.signatureInput, Signature: fields.signature }))
  }
  // Cloudflare web-bot-auth 0.1.3: the earlier bare-string form, covered whole.
  {
    const headers = new Headers({ 'signature-agent': JSON.stringify(agent) })
    const signed = await signatureHeaders(new Request('https://gw.test/bots/wba', { headers }), await signerFromJWK({ ...(alice.privateKey.export({ format: 'jwk' }) as JsonWebKey), kid: alice.keyid } as JsonWebKey), { created: new Date(), expires: new Date(Date.now() + 60_000) })
    await check('web-bot-auth', await send(gw.url, 'GET', '/bots/wba', { 'Signature-Agent': JSON.stringify(agent), 'Signature-Input': signed['Signature-Input'], Signature: signed.Signature }))
  }
  // dhensby http-message-signatures.
  {
    const signed = await httpbis.signMessage({
      key: createSigner(alice.privateKey, 'ed25519', alice.keyid),
      fields: ['@authority', '@method', '@path', 'signature-agent'],
      params: ['created', 'expires', 'keyid', 'alg', 'tag'],
      paramValues: { created: new Date(), expires: new Date(Date.now() + 60_000), tag: 'web-bot-auth' },
    } as Parameters<typeof httpbis.signMessage>[0], { method: 'GET', url: 'https://gw.test/bots/dh', headers: { 'Signature-Agent': JSON.stringify(agent) } })
    const h = Object.fromEntries(Object.entries(signed.headers).map(([k, v]) => [k, String(v)]))
    await check('http-message-signatures', await send(gw.url, 'GET', '/bots/dh', h))
  }
  t.equal(dir.seen.filter((s) => s.startsWith('alice.test ')).length, 1, 'the directory was fetched once and cached')
})

t.test('every bad input is refused with its code; nothing is forwarded; the gateway stays healthy', async (t) => {
  const { up, gw, dir, alice } = await setup(t)
  const agent = dir.agentUrl('alice.test')
  const now = Math.floor(Date.now() / 1000)
  const refused = async (name: string, status: number, codeWanted: string, r: { method: string; path: string; headers: Record<string, string>; body?: string }, host?: string) => {
    const before = up.seen.length
    const res = await send(gw.url, r.method, r.path, r.headers, r.body, host)
    t.equal(res.status, status, `${name}: ${status} (${res.body})`)
    t.equal(JSON.parse(res.body || '{}').code, codeWanted, `${name}: ${codeWanted}`)
    t.equal(up.seen.length, before, `${name}: nothing forwarded`)
    return res
  }
  const s = (o: Partial<SignOpts> = {}) => popgateSigned(alice, { agent, ...o })

  const noSig = await send(gw.url, 'GET', '/bots/x', {})
  t.equal(noSig.status, 401)
  t.match(noSig.headers['accept-signature'], /^sig1=\("@authority" "signature-agent";key="sig1"\);created;expires;tag="web-bot-auth"$/, '401 advertises what is wanted')
  await refused('a required component not covered', 401, 'signature_component_missing', s({ method: 'POST', path: '/bots/p', components: ['@authority', ['signature-agent', new Map([['key', 'sig1']])]] }))
  const r403 = await refused('a route demanding content-digest and a nonce', 401, 'signature_component_missing', s({ method: 'POST', path: '/strict/p' }))
  t.ok(r403.headers['accept-signature'], 'the refusal says what is wanted')
  await refused('@authority of another host', 401, 'signature_authority_mismatch', s({ authority: 'other.test' }), 'other.test')
  await refused('signed for gw.test, sent to another Host', 401, 'signature_authority_mismatch', s(), 'other.test')
  await refused('signed for another host, sent to ours', 401, 'signature_invalid', s({ authority: 'other.test' }))
  await refused('expired', 401, 'signature_expired', s({ created: now - 120, expires: now - 60 }))
  await refused('future-dated', 401, 'signature_expired', s({ created: now + 120, expires: now + 180 }))
  const once = s({ nonce: 'only-once' })
  t.equal((await send(gw.url, once.method, once.path, once.headers)).status, 200)
  await refused('a replayed nonce', 401, 'signature_replayed', once)
  await refused('a malformed structured field', 400, 'signature_malformed', { ...s(), headers: { ...s().headers, 'Signature-Input': 'sig1=("@authority"' } })
  const two = s()
  await refused('two signatures', 400, 'signature_multiple', { ...two, headers: { ...two.headers, 'Signature-Input': `${two.headers['Signature-Input']}, ${two.headers['Signature-Input'].replace('sig1=', 'sig2=')}`, Signature: `${two.headers.Signature}, ${two.headers.Signature.replace('sig1=', 'sig2=')}` } })
  const body = s({ method: 'POST', path: '/bots/p', body: '{"a":1}' })
  await refused('a body whose content-digest does not match', 400, 'content_digest_mismatch', { ...body, body: '{"a":2}' })
  await refused('a body over the limit', 413, 'body_too_large', s({ method: 'POST', path: '/bots/p', body: 'x'.repeat(2048) }))
  await refused('a keyid not in the directory', 401, 'key_not_found', s({ key: generateKeyPairSync('ed25519').privateKey, keyid: 'A'.repeat(43) }))
  // bob.test's directory lists alice's key: a key listed under another directory URL does not make alice's signature bob's.
  const bob = await newAgent()
  dir.serve('bob.test', SIGNATURES_DIRECTORY_PATH, JSON.stringify({ keys: [bob.publicJwk] }))
  await refused('a key listed under another directory URL', 401, 'key_not_found', s({ agent: dir.agentUrl('bob.test') }))
  // evil.test: a redirecting directory, private members, too large, wrong type.
  const evil = (path: string) => dir.agentUrl('evil.test', path)
  dir.routes.set('evil.test /redirect.json', (_req, res) => res.writeHead(302, { location: `${agent}${SIGNATURES_DIRECTORY_PATH}` }).end())
  await refused('a redirecting directory', 401, 'key_fetch_redirect', s({ agentHeader: `sig1=${JSON.stringify(evil('/redirect.json'))};type=jwks_uri`, agent: evil('/redirect.json') }))
  t.notOk(dir.seen.includes(`alice.test ${SIGNATURES_DIRECTORY_PATH}`) && dir.seen.filter((x) => x === `alice.test ${SIGNATURES_DIRECTORY_PATH}`).length > 1, 'the redirect was not followed')
  dir.serve('evil.test', '/private.json', JSON.stringify({ keys: [{ ...(alice.privateKey.export({ format: 'jwk' }) as object) }] }))
  await refused('a directory with private members', 401, 'key_document_invalid', s({ agentHeader: `sig1=${JSON.stringify(evil('/private.json'))};type=jwks_uri`, agent: evil('/private.json') }))
  dir.serve('evil.test', '/big.json', JSON.stringify({ keys: [alice.publicJwk] }) + ' '.repeat(70 * 1024))
  await refused('a directory too large', 401, 'key_fetch_too_large', s({ agentHeader: `sig1=${JSON.stringify(evil('/big.json'))};type=jwks_uri`, agent: evil('/big.json') }))
  // A stranger: the ACL refuses before anything is fetched.
  const before = dir.seen.length
  await refused('an agent the ACL does not list', 403, 'forbidden', s({ agent: dir.agentUrl('stranger.test') }))
  t.equal(dir.seen.length, before, 'nothing was fetched for a stranger')
  await refused('a directory on another host than the agent URL is impossible to name; a non-https agent is refused', 400, 'signature_agent_invalid', s({ agentHeader: 'sig1="http://alice.test"' }))
  t.equal((await rawRequest(gw.url, { path: '/public/ok' })).status, 200, 'the gateway is healthy')
})
