// The shared introspection cache (replay.store: redis): two gateways on one
// Redis ask the issuer once for one token; a Redis that goes away is only a
// miss (the issuer is asked), never a refusal. The endpoint is a scripted
// HTTPS stand-in for alice.test that counts its calls.

import t from 'tap'
import { randomBytes } from 'node:crypto'
import { DEFAULT_ACL, rawRequest, startTestGateway, startUpstream } from '../helpers/harness.js'
import { keysConfig } from '../helpers/identity.js'
import { startKeyHost } from '../helpers/key-host.js'
import { mintProof, newKey } from '../helpers/dpop.js'
import { NO_REDIS, redisServerBinary, startRedisServer } from '../helpers/redis-server.js'

const ORIGIN = 'https://gw.test'

t.test('two replicas on one Redis: one introspection call for one token', { skip: redisServerBinary() ? false : NO_REDIS }, async (t) => {
  const [redis, as, up] = await Promise.all([startRedisServer(), startKeyHost(), startUpstream()])
  const issuer = `https://alice.test:${as.port}`
  const client = await newKey('ES256')
  as.route('/introspect', (req, res) => {
    req.resume().on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({
      active: true, iss: issuer, aud: ORIGIN, token_type: 'DPoP', cnf: { jkt: client.jkt }, exp: Math.floor(Date.now() / 1000) + 300,
    })))
  })
  const config = keysConfig() + `\nreplay: { store: redis, url: "${redis.url}", timeout: 250ms }\ndpop:\n  enabled: true\n  issuers:\n` +
    `    "${issuer}":\n      introspection:\n        endpoint: ${issuer}/introspect\n        clientId: popgate\n        clientSecret: s\n`
  const a = await startTestGateway({ upstream: up.url, publicOrigin: ORIGIN, acl: DEFAULT_ACL, extraConfig: config })
  const b = await startTestGateway({ upstream: up.url, publicOrigin: ORIGIN, acl: DEFAULT_ACL, extraConfig: config })
  t.teardown(async () => { await a.close(); await b.close(); await Promise.all([redis.close(), as.close(), up.close()]) })

  const token = randomBytes(32).toString('base64url')
  const send = async (url: string) => {
    const nonce = (await rawRequest(url, { path: '/foo' })).headers['dpop-nonce'] as string
    return rawRequest(url, { path: '/foo', headers: [['Authorization', `DPoP ${token}`], ['DPoP', mintProof(client, { token, htm: 'GET', htu: `${ORIGIN}/foo`, nowSec: Math.floor(Date.now() / 1000), nonce })]] })
  }
  t.equal((await send(a.url)).status, 200)
  t.equal(as.count('/introspect'), 1)
  t.equal((await send(b.url)).status, 200, 'the other replica accepts the token')
  t.equal(as.count('/introspect'), 1, 'from the shared cache: the issuer was asked once')
  t.equal(await b.metrics.value('popgate_introspection_cache_total', { result: 'shared_hit' }), 1)

  // Redis gone: the replay store refuses proofs (503, its own rule), so the shared cache's failure
  // is seen through the unit test (introspector.test.ts); here, only that it never turns into a 5xx of its own.
  await redis.stop()
  const down = await send(a.url)
  t.equal(down.status, 503, 'the replay store is down: replay_store_unavailable, as for every proof')
  t.match(down.body, /replay_store_unavailable/)
})
