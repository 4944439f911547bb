// Channel binding (PROTOCOL.md §5, RFC 9266): a proof carrying the TLS 1.3
// connection's exporter value is accepted on that connection only; a rule
// with `channelBinding: required` refuses unbound proofs and plain HTTP.

import t from 'tap'
import tls from 'node:tls'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { startUpstream, startTestGateway, rawRequest } from '../helpers/harness.js'
import { startKeyHost, keysConfig, TLS_DIR, CA_FILE } from '../helpers/identity.js'
import { signDomainPopProof } from '../../src/client/proof.js'
import { keepAliveGet } from '../helpers/tls-client.js'

import { CHANNEL_BOUND_ACL } from '../helpers/tls-fixtures.js'

const ORIGIN = 'https://gw.test'
const ACL = CHANNEL_BOUND_ACL + `  - path: /foo
    read: [alice.test]
`

/** Opens a TLS 1.3 connection and returns its exporter value and a request function on it. */
async function connection(port: number) {
  const socket = tls.connect({ host: '127.0.0.1', port, servername: 'localhost', ca: readFileSync(CA_FILE), minVersion: 'TLSv1.3' })
  await new Promise((r, j) => { socket.once('secureConnect', r); socket.once('error', j) })
  const cb = socket.exportKeyingMaterial(32, 'EXPORTER-Channel-Binding', Buffer.alloc(0)).toString('base64url')
  // Plain HTTP/1.1 keep-alive on this one socket: the binding is per connection,
  // so every request must ride the connection whose exporter the proof names.
  const request = keepAliveGet(socket)
  return { cb, request, close: () => socket.destroy() }
}

t.test('tls-exporter channel binding', async (t) => {
  const up = await startUpstream()
  const kh = await startKeyHost()
  const gw = await startTestGateway({ upstream: up.url, publicOrigin: ORIGIN, acl: ACL, extraConfig: `${keysConfig()}\ntls:\n  listen: 127.0.0.1:0\n  cert: ${join(TLS_DIR, 'server.pem')}\n  key: ${join(TLS_DIR, 'server.key')}` })
  t.teardown(async () => { await gw.close(); await up.close(); await kh.close() })
  const { key, keyUrl } = await kh.publish('alice.test')
  const nonce = (await rawRequest(gw.url, { path: '/foo' })).headers['domainpop-nonce'] as string
  const proof = (path: string, cb?: string) => 'DomainPoP ' + signDomainPopProof(key, { identity: 'alice.test', keyUrl, audience: ORIGIN, method: 'GET', path, nonce, extraClaims: cb ? { cb } : {} })
  const port = gw.gw.https!.port

  const a = await connection(port)
  const b = await connection(port)
  t.teardown(() => { a.close(); b.close() })
  t.not(a.cb, b.cb, 'each connection has its own exporter value')

  const ok = await a.request('/bound', proof('/bound', a.cb))
  t.equal(ok.status, 200, 'bound proof on its own connection')
  t.equal(up.seen.at(-1)!.headers['x-pop-channel-bound'], 'true')

  const stolen = await b.request('/bound', proof('/bound', a.cb))
  t.equal(stolen.status, 401, 'bound proof replayed on another connection')
  t.equal(JSON.parse(stolen.body).code, 'channel_binding_mismatch')

  const unbound = await a.request('/bound', proof('/bound'))
  t.equal(JSON.parse(unbound.body).code, 'channel_binding_mismatch', 'required rule refuses a proof without cb')

  const optional = await a.request('/foo', proof('/foo'))
  t.equal(optional.status, 200, 'unbound proof where binding is optional')
  t.notOk(up.seen.at(-1)!.headers['x-pop-channel-bound'])

  const plain = await rawRequest(gw.url, { path: '/bound', headers: [['Authorization', proof('/bound', a.cb)]] })
  t.equal(plain.status, 401)
  t.equal(JSON.parse(plain.body).code, 'channel_binding_unavailable', 'plain HTTP cannot carry a binding')
  t.match(plain.headers['www-authenticate'], /error="invalid_request"/)
})
