// The key host's CORS (keyhost/server.ts corsOrigins): a page of the domain
// may publish from another port or host of the domain; any other origin's
// preflight is refused and gets no CORS fields; key documents get none.

import t, { type Test } from 'tap'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { createKeyHostHandler } from '../../../src/keyhost/server.js'
import { createMemoryKeyStore } from '../../../src/keyhost/store.js'

const PREFIX = '/.well-known/domainpop/keys'

async function host(t: Test, corsOrigins?: string[]) {
  const server = http.createServer(createKeyHostHandler({
    identity: 'alice.test', store: createMemoryKeyStore(), publicOrigin: 'https://alice.test', corsOrigins,
    authorize: (req) => req.headers.authorization === 'Bearer ok',
  }))
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  t.teardown(() => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()) }))
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`
}

t.test('its own origin may publish across origins; others are refused', async (t) => {
  const url = await host(t)
  const pre = await fetch(url + PREFIX, { method: 'OPTIONS', headers: { origin: 'https://alice.test', 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization,content-type' } })
  t.equal(pre.status, 204)
  t.equal(pre.headers.get('access-control-allow-origin'), 'https://alice.test')
  t.match(pre.headers.get('access-control-allow-headers'), /Authorization/)
  t.match(pre.headers.get('access-control-allow-methods'), /POST/)
  const evil = await fetch(url + PREFIX, { method: 'OPTIONS', headers: { origin: 'https://evil.test', 'access-control-request-method': 'POST' } })
  t.equal(evil.status, 403)
  t.equal(evil.headers.get('access-control-allow-origin'), null)
  const jwk = { kty: 'OKP', crv: 'Ed25519', x: '11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo' }
  const post = await fetch(url + PREFIX, { method: 'POST', headers: { origin: 'https://alice.test', authorization: 'Bearer ok', 'content-type': 'application/json' }, body: JSON.stringify(jwk) })
  t.equal(post.status, 201)
  t.equal(post.headers.get('access-control-allow-origin'), 'https://alice.test')
  t.match(post.headers.get('vary'), /Origin/)
  const fromEvil = await fetch(url + PREFIX, { method: 'POST', headers: { origin: 'https://evil.test', authorization: 'Bearer nope', 'content-type': 'application/json' }, body: JSON.stringify(jwk) })
  t.equal(fromEvil.status, 401, 'the publish check still decides')
  t.equal(fromEvil.headers.get('access-control-allow-origin'), null, 'and the answer is not readable by that page')
  const { keyUrl } = await post.json() as { keyUrl: string }
  const doc = await fetch(url + new URL(keyUrl).pathname, { headers: { origin: 'https://alice.test' } })
  t.equal(doc.status, 200)
  t.equal(doc.headers.get('access-control-allow-origin'), 'https://alice.test', 'same prefix: the page may read what it published')
})

t.test('corsOrigins replaces the default', async (t) => {
  const url = await host(t, ['http://alice.localhost:8081'])
  const own = await fetch(url + PREFIX, { method: 'OPTIONS', headers: { origin: 'https://alice.test', 'access-control-request-method': 'POST' } })
  t.equal(own.status, 403)
  const dev = await fetch(url + PREFIX, { method: 'OPTIONS', headers: { origin: 'http://alice.localhost:8081', 'access-control-request-method': 'POST' } })
  t.equal(dev.status, 204)
})
