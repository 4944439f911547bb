// A scheme module that is not built in (test/schemes/second/), enabled by one
// line plus its config section, plugs into every part of the seam:
//   - its own config section (read and validated with the file),
//   - its own route and its own gauge on /metrics,
//   - an ambient cookie: only that cookie is removed upstream, others pass,
//   - a response field (its own and a grant's) on a plain response and a 101,
//   - a rule that `require:`s it refuses a valid DomainPoP proof (401
//     credentials_not_accepted), and `sessions: false` refuses it.

import t from 'tap'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { randomBytes } from 'node:crypto'
import { SCHEME_MODULES } from '../../../src/schemes/index.js'
import { signDomainPopProof } from '../../../src/client/proof.js'
import { secondModule, SECOND_ROUTE } from '../../schemes/second/module.js'
import { secondCookie } from '../../schemes/second/index.js'
import { rawRequest, rawSocket, startTestGateway, freePort } from '../../helpers/harness.js'
import { keysConfig, startKeyHost } from '../../helpers/identity.js'

const ORIGIN = 'https://gw.test'
const KEY = randomBytes(32)
const ACL = `version: 1
rules:
  - path: /second/**
    read: [alice.test]
    require: [second]
  - path: /nosession/**
    read: [alice.test]
    sessions: false
  - path: /**
    read: [alice.test]
`

async function setup(t: { teardown(fn: () => unknown): void }) {
  const seen: http.IncomingHttpHeaders[] = []
  const up = http.createServer((req, res) => { seen.push(req.headers); res.end('ok') })
  up.on('upgrade', (req, socket) => { seen.push(req.headers); socket.end('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n') })
  await new Promise<void>((r) => up.listen(0, '127.0.0.1', r))
  const kh = await startKeyHost()
  const adminPort = await freePort()
  const gw = await startTestGateway({
    upstream: `http://127.0.0.1:${(up.address() as AddressInfo).port}`,
    publicOrigin: ORIGIN,
    acl: ACL,
    // The one line that enables the module, and its config section:
    modules: [...SCHEME_MODULES, secondModule],
    extraConfig: `${keysConfig()}\nadmin:\n  listen: 127.0.0.1:${adminPort}\nsecond:\n  enabled: true\n  key: ${KEY.toString('base64url')}\n`,
  })
  t.teardown(async () => { await gw.close(); await kh.close(); up.closeAllConnections(); up.close() })
  return { gw, kh, seen, adminPort }
}

const cookie = () => secondCookie(KEY, 'alice.test', randomBytes(12).toString('base64url'))
const UPGRADE = 'Connection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n'

t.test('its config section is read with the file: a bad value is refused at its line', async (t) => {
  const { parseConfig } = await import('../../../src/config/load.js')
  const base = `publicOrigin: ${ORIGIN}\nupstream: http://127.0.0.1:1\nacl: acl.yaml\n`
  t.ok(parseConfig(base + `second:\n  enabled: true\n  key: ${KEY.toString('base64url')}\n`, '/x/gw.yaml', {}, [...SCHEME_MODULES, secondModule]).config)
  const bad = parseConfig(base + 'second:\n  enabled: true\n  key: short\n', '/x/gw.yaml', {}, [...SCHEME_MODULES, secondModule])
  t.match(bad.problems.map((p) => `${p.line}:${p.path}: ${p.message}`), ['6:second.key: must be at least 32 bytes, base64url'])
  const unknown = parseConfig(base + 'second:\n  enabled: true\n', '/x/gw.yaml')
  t.match(unknown.problems.map((p) => `${p.path}: ${p.message}`), [/^second: unknown key/], 'without the module the section is an unknown key')
})

t.test('its own route and its own gauge on /metrics', async (t) => {
  const { gw, adminPort } = await setup(t)
  const doc = await rawRequest(gw.url, { path: SECOND_ROUTE })
  t.equal(doc.status, 200)
  t.equal(doc.body, '{"scheme":"second"}')
  const ok = await rawRequest(gw.url, { path: '/open', headers: [['Cookie', `second=${cookie()}`]] })
  t.equal(ok.status, 200)
  const metrics = await (await fetch(`http://127.0.0.1:${adminPort}/metrics`)).text()
  t.match(metrics, /^# TYPE popgate_second_verified gauge$/m)
  t.match(metrics, /^popgate_second_verified 1$/m)
  t.match(metrics, /^popgate_scheme_requests_total\{scheme="second",decision="allow"\} 1$/m, 'the request metrics name the scheme')
})

t.test('its cookie is removed before forwarding, the other cookies pass; its and its grant\'s response fields reach the client', async (t) => {
  const { gw, seen } = await setup(t)
  const res = await rawRequest(gw.url, { path: '/open', headers: [['Cookie', `a=1; second=${cookie()}; b=2`]] })
  t.equal(res.status, 200)
  t.equal(seen.at(-1)!.cookie, 'a=1; b=2', 'only the scheme\'s own cookie is removed')
  t.equal(seen.at(-1)!['x-pop-identity'], 'alice.test')
  t.equal(seen.at(-1)!['x-pop-auth-method'], 'second')
  t.equal(res.headers['second-seen'], 'yes')
  t.equal(res.headers['second-grant'], 'second')
  const only = await rawRequest(gw.url, { path: '/open', headers: [['Cookie', `second=${cookie()}`]] })
  t.equal(only.status, 200)
  t.equal(seen.at(-1)!.cookie, undefined, 'a Cookie holding only its cookie is dropped')
})

t.test('a WebSocket 101 carries the scheme\'s and the grant\'s response fields', async (t) => {
  const { gw, seen } = await setup(t)
  const text = await rawSocket(gw.gw.http.port, `GET /open/ws HTTP/1.1\r\nHost: gw.test\r\n${UPGRADE}Cookie: x=1; second=${cookie()}\r\n\r\n`)
  t.match(text, /^HTTP\/1\.1 101/)
  t.match(text, /^second-seen: yes$/im)
  t.match(text, /^second-grant: second$/im)
  t.equal(seen.at(-1)!.cookie, 'x=1')
})

t.test('a rule that requires it refuses a valid DomainPoP proof with credentials_not_accepted; sessions: false refuses it', async (t) => {
  const { gw, kh } = await setup(t)
  const { key, keyUrl } = await kh.publish('alice.test')
  const proofFor = async (path: string) => {
    const challenge = await rawRequest(gw.url, { path })
    const nonce = String(challenge.headers['domainpop-nonce'])
    return signDomainPopProof(key, { identity: 'alice.test', keyUrl, audience: ORIGIN, method: 'GET', path, nonce })
  }
  const open = await rawRequest(gw.url, { path: '/open', headers: [['Authorization', `DomainPoP ${await proofFor('/open')}`]] })
  t.equal(open.status, 200, 'the proof is valid')
  t.equal(open.headers['second-grant'], 'domainpop', 'the grant runs after any scheme\'s success')
  const refused = await rawRequest(gw.url, { path: '/second/x', headers: [['Authorization', `DomainPoP ${await proofFor('/second/x')}`]] })
  t.equal(refused.status, 401)
  t.match(JSON.parse(refused.body), { code: 'credentials_not_accepted' })
  t.equal(refused.headers['second-grant'], undefined, 'no grant on a refusal')
  const accepted = await rawRequest(gw.url, { path: '/second/x', headers: [['Cookie', `second=${cookie()}`]] })
  t.equal(accepted.status, 200, 'the scheme it requires passes')
  const noSession = await rawRequest(gw.url, { path: '/nosession/x', headers: [['Cookie', `second=${cookie()}`]] })
  t.equal(noSession.status, 401)
  t.match(JSON.parse(noSession.body), { code: 'credentials_not_accepted' })
  const explicit = await rawRequest(gw.url, { path: '/open', headers: [['Authorization', `DomainPoP ${await proofFor('/open')}`], ['Cookie', 'second=garbage']] })
  t.equal(explicit.status, 200, 'an explicit credential wins over an ambient one (the bad cookie is never parsed)')
})
