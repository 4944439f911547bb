// Two gateways sharing one Redis (issue 25): they agree on held and approved
// keys. A new key for a hold identity is held on both, one key_first_seen
// event between them; `popgate keys approve` (the CLI, through replica A's
// admin listener) is seen by replica B at once. The CLI's bad input: a
// malformed identity or thumbprint (exit 2), an identity identities: does not
// name (exit 1, the listener's reason), no gateway there (exit 69).

import t from 'tap'
import { DEFAULT_ACL, rawRequest, startTestGateway, startUpstream, freePort } from '../helpers/harness.js'
import { keysConfig } from '../helpers/identity.js'
import { json, startKeyHost } from '../helpers/key-host.js'
import { redisServerBinary, startRedisServer, NO_REDIS } from '../helpers/redis-server.js'
import { signDomainPopProof } from '../../src/client/proof.js'
import { generateClientKey, type ClientKey } from '../../src/client/keys.js'
import { popgate } from './cli-run.js'

const ORIGIN = 'https://gw.test'
const KEY_PATH = (kid: string) => `/.well-known/domainpop/keys/${kid}`
t.setTimeout(120_000)

if (!redisServerBinary()) {
  t.test('key trust across replicas', { skip: NO_REDIS }, async () => {})
} else {
  const redis = await startRedisServer()
  const up = await startUpstream()
  const kh = await startKeyHost()
  t.teardown(async () => { await kh.close(); await up.close(); await redis.close() })
  const acl = `${DEFAULT_ACL}identities:\n  alice.test:\n    newKeys: hold\n`
  const extraConfig = [keysConfig(), 'admin: { listen: 127.0.0.1:0 }', `replay: { store: redis, url: "${redis.url}", timeout: 500ms }`].join('\n')
  const [a, b] = await Promise.all([0, 1].map(() => startTestGateway({ upstream: up.url, publicOrigin: ORIGIN, acl, extraConfig })))
  t.teardown(async () => { await a!.close(); await b!.close() })
  const admin = (g: typeof a) => `http://127.0.0.1:${g!.gw.admin!.port}`
  const call = async (g: typeof a, key: ClientKey) => {
    const nonce = (await rawRequest(g!.url, { path: '/foo' })).headers['domainpop-nonce'] as string
    const proof = signDomainPopProof(key, { identity: 'alice.test', keyUrl: kh.url('alice.test', KEY_PATH(key.kid)), audience: ORIGIN, method: 'GET', path: '/foo', nonce })
    const res = await rawRequest(g!.url, { path: '/foo', headers: [['Authorization', `DomainPoP ${proof}`]] })
    return res.status === 200 ? 'ok' : (JSON.parse(res.body) as { code: string }).code
  }
  const [k1, k2] = await Promise.all([generateClientKey('ES256'), generateClientKey('ES256')])
  for (const k of [k1, k2]) kh.route(KEY_PATH(k.kid), json({ keys: [{ ...k.publicJwk, use: 'sig' }] }))
  const events = () => [a, b].flatMap((g) => g!.log.lines.filter((l) => l.msg === 'key_first_seen'))

  t.test('held on both replicas until approved on one; one event between them', async (t) => {
    t.equal(await call(a, k1), 'ok', 'the first key, on A')
    t.equal(await call(b, k1), 'ok', 'known on B too')
    t.equal(await call(b, k2), 'key_held', 'a new key, on B')
    t.equal(await call(a, k2), 'key_held', 'held on A as well')
    t.equal(await call(b, k2), 'key_held')
    t.equal(events().length, 1, 'one key_first_seen for both replicas')
    const list = await popgate(['keys', 'list', 'alice.test', '--admin', admin(b)])
    t.equal(list.code, 0, list.stderr)
    t.match(list.stdout, new RegExp(`${k2.kid}\\s+held`))
    const approve = await popgate(['keys', 'approve', 'alice.test', k2.kid, '--admin', admin(a)])
    t.equal(approve.code, 0, approve.stderr)
    t.match(approve.stdout, `approved: alice.test key ${k2.kid}`)
    t.equal(await call(b, k2), 'ok', 'B accepts what A approved')
    t.equal(await call(a, k2), 'ok')
    t.equal(events().length, 1)
  })

  t.test('keys approve: bad input is a clear error and an exit code', async (t) => {
    const bad = await popgate(['keys', 'approve', 'alice..test', k2.kid, '--admin', admin(a)])
    t.equal(bad.code, 2)
    t.match(bad.stderr, /not an identity/)
    const short = await popgate(['keys', 'approve', 'alice.test', 'abc', '--admin', admin(a)])
    t.equal(short.code, 2)
    t.match(short.stderr, /not an RFC 7638 SHA-256 thumbprint/)
    const unknown = await popgate(['keys', 'approve', 'bob.test', k2.kid, '--admin', admin(a)])
    t.equal(unknown.code, 1)
    t.match(unknown.stderr, /bob\.test is not in the ACL's identities: section/)
    const nobody = await popgate(['keys', 'approve', 'alice.test', k2.kid, '--admin', `http://127.0.0.1:${await freePort()}`])
    t.equal(nobody.code, 69)
  })
}
