// Issue 19, finding 2, run as the attack, over real sockets: a stranger with
// no key tries to lock alice.test out through the per-identity key-URL quota.
//
// The gateway listens on 127.0.0.1; the stranger sends from 127.0.0.2, .3
// and .4 (three client addresses, below every failure limit: about 90
// requests a minute each), naming junk key URLs under alice.test's key path
// — each refused by alice's key host (404), i.e. failed fetches — cycling
// eight per address and re-probing each as soon as its negative entry
// expires, and now and then a brand-new one. Alice, from 127.0.0.1, retries
// every second for 60 s. Her first request finds the cache cold (the
// stranger had a head start to fill every slot it can), and her key
// document's TTL is clamped to 5 s, so it expires a dozen times during the
// run and is refetched while the stranger keeps going: cold and warm, every
// one of her requests must succeed. Before the fix the stranger's failures
// were charged to alice's slots and she never got through.
//
// The refusals the stranger does meet (its own quota) are logged with the
// stranger's address, never alice's.

import t from 'tap'
import http from 'node:http'
import { startUpstream, startTestGateway, rawRequest } from '../../helpers/harness.js'
import { keysConfig, startKeyHost } from '../../helpers/identity.js'
import { signDomainPopProof } from '../../../src/client/proof.js'
import { generateClientKey } from '../../../src/client/keys.js'

const ORIGIN = 'https://gw.test'
const ACL = `version: 1
rules:
  - path: /foo
    read: [alice.test]
`
const RUN_MS = 60_000
const STRANGERS = ['127.0.0.2', '127.0.0.3', '127.0.0.4']
/** ≈ 90 requests a minute per address: under limits.failedAuthPerClientPerMinute (120). */
const STRANGER_EVERY_MS = 660

/** One request from `localAddress`; status and error code. */
function send(gwUrl: string, localAddress: string, authorization: string): Promise<{ status: number; code: string | undefined }> {
  const u = new URL(gwUrl)
  return new Promise((resolve, reject) => {
    const req = http.request({ host: u.hostname, port: u.port, path: '/foo', localAddress, agent: false, headers: { Host: u.host, Authorization: authorization } }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => {
        const body = Buffer.concat(chunks).toString()
        resolve({ status: res.statusCode!, code: res.statusCode === 200 ? undefined : (JSON.parse(body) as { code: string }).code })
      })
    })
    req.on('error', reject)
    req.end()
  })
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

t.test('a stranger from three addresses cannot lock alice.test out through the key-URL quota (60 s, cold and warm)', { timeout: RUN_MS + 60_000 }, async (t) => {
  const up = await startUpstream()
  const kh = await startKeyHost()
  const gw = await startTestGateway({
    upstream: up.url, publicOrigin: ORIGIN, acl: ACL,
    extraConfig: `${keysConfig()}\n  cacheMinTtl: 5s\n  cacheMaxTtl: 5s\n  negativeTtl: 10s\n  maxUrlsPerIdentity: 8`,
  })
  t.teardown(async () => { await gw.close(); await up.close(); await kh.close() })
  const alice = await kh.publish('alice.test')
  const nonce = async () => (await rawRequest(gw.url, { path: '/foo' })).headers['domainpop-nonce'] as string
  const proof = async (key: typeof alice.key, keyUrl: string) =>
    `DomainPoP ${signDomainPopProof(key, { identity: 'alice.test', keyUrl, audience: ORIGIN, method: 'GET', path: '/foo', nonce: await nonce() })}`

  // The stranger: its own key (alice never published it), junk key URLs on alice's key path.
  const strangerKey = await generateClientKey('ES256')
  const junk = (addr: string, i: number) => kh.keyUrl('alice.test', `junk-${addr.replaceAll('.', '-')}-${i}`)
  const strangerOutcomes = new Map<string, number>()
  let stop = false
  const stranger = async (addr: string) => {
    for (let n = 0; !stop; n++) {
      // Cycle eight URLs (re-probed as their failures expire); every fifth request a brand-new one.
      const url = n % 5 === 4 ? junk(addr, 1000 + n) : junk(addr, n % 8)
      const r = await send(gw.url, addr, await proof(strangerKey, url))
      strangerOutcomes.set(`${r.status} ${r.code}`, (strangerOutcomes.get(`${r.status} ${r.code}`) ?? 0) + 1)
      await sleep(STRANGER_EVERY_MS)
    }
  }
  const strangers = STRANGERS.map((a) => stranger(a))
  await sleep(3_000) // the head start: every slot the stranger can take, taken

  const aliceOutcomes: string[] = []
  const started = Date.now()
  while (Date.now() - started < RUN_MS) {
    const r = await send(gw.url, '127.0.0.1', await proof(alice.key, alice.keyUrl))
    aliceOutcomes.push(r.status === 200 ? '200' : `${r.status} ${r.code}`)
    await sleep(1_000)
  }
  stop = true
  await Promise.all(strangers)

  const aliceFetches = kh.requests.filter((r) => r.endsWith(alice.keyUrl.slice(alice.keyUrl.indexOf('/.well-known')))).length
  const junkFetches = kh.requests.filter((r) => r.includes('/junk-')).length
  t.ok(aliceOutcomes.length >= 50, `alice tried ${aliceOutcomes.length} times`)
  t.strictSame(aliceOutcomes.filter((o) => o !== '200'), [], `every one of alice's ${aliceOutcomes.length} requests succeeded`)
  t.ok(aliceFetches >= 8, `her document expired and was refetched during the attack (${aliceFetches} fetches): warm as well as cold`)
  // The attack really ran: the stranger's requests reached the key cache and were fetched, or refused on its own quota.
  t.ok(junkFetches >= 40, `the key host saw ${junkFetches} fetches of junk URLs`)
  t.ok((strangerOutcomes.get('401 key_fetch_status') ?? 0) > 100, `the stranger's failures: ${JSON.stringify(Object.fromEntries(strangerOutcomes))}`)
  t.notOk(strangerOutcomes.has('429 rate_limited'), 'below every failure limit')
  t.ok((strangerOutcomes.get('401 key_fetch_quota') ?? 0) > 0, 'the stranger met its own quota')
  const refusals = gw.log.lines.filter((l) => l.msg === 'key fetch refused by the key cache')
  t.ok(refusals.length > 0)
  t.ok(refusals.every((l) => STRANGERS.includes(l.client as string) && l.identity === 'alice.test'), 'every refusal names the stranger\'s address that spent the quota')
  t.equal(gw.metrics.value('popgate_rate_limited_total', { scope: 'identity' }), 0)
})
