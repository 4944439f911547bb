// The Node client's DPoP side (src/client/dpop.ts): its proofs verified by
// jose as RFC 9449 proofs, and createDpopFetch's nonce handling against a
// tiny local server on 127.0.0.1:0 that plays a resource server.

import t from 'tap'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { createHash } from 'node:crypto'
import { EmbeddedJWK, calculateJwkThumbprint, decodeJwt, jwtVerify } from 'jose'
import { createDpopFetch, signDpopProof } from '../../../src/client/dpop.js'
import { generateClientKey, type ClientAlgorithm } from '../../../src/client/keys.js'

const TOKEN = 'eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln'
const ath = createHash('sha256').update(TOKEN).digest('base64url')

for (const alg of ['ES256', 'Ed25519', 'PS256'] as ClientAlgorithm[]) {
  t.test(`a ${alg} proof verifies as dpop+jwt with its embedded key`, async (t) => {
    const key = await generateClientKey(alg)
    const proof = signDpopProof(key, { method: 'POST', htu: 'https://gw.test/a/b?q=1#f', accessToken: TOKEN, nonce: 'n1' })
    const { payload, protectedHeader } = await jwtVerify(proof, EmbeddedJWK, { typ: 'dpop+jwt', algorithms: [alg] })
    t.equal(protectedHeader.jwk && await calculateJwkThumbprint(protectedHeader.jwk), key.kid, 'the jwk is the public key')
    t.notOk(protectedHeader.jwk && 'd' in protectedHeader.jwk, 'no private member')
    t.match(payload, { htm: 'POST', htu: 'https://gw.test/a/b', ath, nonce: 'n1', jti: /^[A-Za-z0-9_-]{22}$/ })
    t.ok(Math.abs((payload.iat as number) - Date.now() / 1000) < 5)
    t.not(decodeJwt(signDpopProof(key, { method: 'GET', htu: 'https://gw.test/' })).jti, payload.jti, 'a fresh jti each time')
    t.equal(decodeJwt(signDpopProof(key, { method: 'GET', htu: 'https://gw.test/' })).ath, undefined, 'no ath without a token')
  })
}

t.test('createDpopFetch: one retry on use_dpop_nonce, the nonce kept per origin, no retry on other errors', async (t) => {
  const key = await generateClientKey('ES256')
  const seen: { auth?: string; nonce?: unknown; htu?: unknown }[] = []
  let mode: 'nonce' | 'invalid' = 'nonce'
  const server = http.createServer((req, res) => {
    const claims = req.headers.dpop ? decodeJwt(req.headers.dpop as string) : {}
    seen.push({ auth: req.headers.authorization, nonce: claims.nonce, htu: claims.htu })
    if (mode === 'invalid') return void res.writeHead(401, { 'www-authenticate': 'DPoP error="invalid_token"', 'dpop-nonce': 'n2' }).end()
    if (claims.nonce !== 'n1') return void res.writeHead(401, { 'www-authenticate': 'DPoP error="use_dpop_nonce"', 'dpop-nonce': 'n1' }).end()
    res.writeHead(200).end('ok')
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  t.teardown(() => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()) }))
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  const f = createDpopFetch({ accessToken: TOKEN, privateKey: key, audience: 'https://gw.test' })

  const first = await f(`${url}/x?y=1`)
  t.equal(first.status, 200)
  t.equal(seen.length, 2, 'challenge, then retry')
  t.same(seen.map((s) => s.nonce), [undefined, 'n1'])
  t.equal(seen[0]!.auth, `DPoP ${TOKEN}`)
  t.equal(seen[1]!.htu, 'https://gw.test/x', 'htu on the audience origin, no query')

  t.equal((await f(`${url}/x`)).status, 200)
  t.equal(seen.length, 3, 'the cached nonce is used straight away')

  mode = 'invalid'
  t.equal((await f(`${url}/x`)).status, 401)
  t.equal(seen.length, 4, 'invalid_token is not retried')
})
