// The failed-auth limiter must not let a stranger lock a named identity out:
// failures count per (claimed identity, client address), so 300 bad proofs
// claiming alice.test from three addresses leave Alice's own address alone,
// while one address hammering one identity still gets 429. Client addresses
// come from X-Forwarded-For, believed because 127.0.0.1 is a trusted proxy.

import t, { type Test } from 'tap'
import { rawRequest, startTestGateway, startUpstream } from '../../helpers/harness.js'
import { keysConfig, startKeyHost } from '../../helpers/identity.js'
import { signDomainPopProof } from '../../../src/client/proof.js'
import { generateClientKey } from '../../../src/client/keys.js'

const ORIGIN = 'https://gw.test'
const ACL = `version: 1
rules:
  - path: /foo
    read: [alice.test]
`

async function setup(t: Test, limits: string) {
  const up = await startUpstream()
  const kh = await startKeyHost()
  const gw = await startTestGateway({ upstream: up.url, publicOrigin: ORIGIN, acl: ACL, extraConfig: `${keysConfig()}\ntrustedProxies: [127.0.0.1]\n${limits}` })
  t.teardown(async () => { await gw.close(); await up.close(); await kh.close() })
  const alice = await kh.publish('alice.test')
  const stranger = await generateClientKey('ES256') // a key alice never published
  const nonce = (await rawRequest(gw.url, { path: '/foo' })).headers['domainpop-nonce'] as string
  const send = (from: string, forged: boolean) => {
    const key = forged ? { ...stranger, kid: alice.key.kid } : alice.key
    const proof = signDomainPopProof(key, { identity: 'alice.test', keyUrl: alice.keyUrl, audience: ORIGIN, method: 'GET', path: '/foo', nonce })
    return rawRequest(gw.url, { path: '/foo', headers: [['Authorization', `DomainPoP ${proof}`], ['X-Forwarded-For', from]] })
  }
  return { gw, send }
}

t.test('300 bad proofs claiming alice.test from three addresses do not lock Alice out (default limits)', async (t) => {
  const { gw, send } = await setup(t, '')
  const codes = new Map<string, number>()
  for (let i = 0; i < 300; i++) {
    const res = await send(`203.0.113.${1 + (i % 3)}`, true)
    const code = JSON.parse(res.body).code as string
    codes.set(code, (codes.get(code) ?? 0) + 1)
  }
  t.same(Object.fromEntries(codes), { proof_signature_invalid: 300 }, 'each bad proof failed on its own, none was rate limited yet')
  const res = await send('198.51.100.7', false)
  t.equal(res.status, 200, "Alice's valid proof from her own address passes")
  t.equal(await gw.metrics.value('popgate_rate_limited_total', { scope: 'identity' }), 0)
})

t.test('one address hammering one identity still gets 429, before any key work', async (t) => {
  const { gw, send } = await setup(t, 'limits:\n  failedAuthPerIdentityPerMinute: 5\n  failedAuthPerClientPerMinute: 1000')
  for (let i = 0; i < 5; i++) t.equal((await send('203.0.113.1', true)).status, 401)
  const limited = await send('203.0.113.1', true)
  t.equal(limited.status, 429, 'the sixth failure from that address is refused')
  t.equal(JSON.parse(limited.body).code, 'rate_limited')
  t.equal((await send('203.0.113.1', false)).status, 429, 'even a valid proof from that address waits out the window')
  t.equal((await send('198.51.100.7', false)).status, 200, 'Alice, from her own address, passes')
  t.equal(await gw.metrics.value('popgate_rate_limited_total', { scope: 'identity' }), 2)
})
