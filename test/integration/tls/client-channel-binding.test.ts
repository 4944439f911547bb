// The Node client's side of channel binding (client/channel-binding.ts,
// PROTOCOL.md §5) over real TLS 1.3 on loopback: createDomainPopFetch with a
// ChannelBinding signs `cb` for the connection the request goes on, a
// `channelBinding: required` rule accepts it, and the same proof presented
// on another connection is refused.

import t from 'tap'
import { join } from 'node:path'
import type { Dispatcher } from 'undici'
import { startUpstream, startTestGateway } from '../../helpers/harness.js'
import { startKeyHost, keysConfig } from '../../helpers/identity.js'
import { TLS_DIR, clientCerts, tlsFixtures, CHANNEL_BOUND_ACL } from '../../helpers/tls-fixtures.js'
import { createChannelBinding, type ChannelBinding } from '../../../src/client/channel-binding.js'
import { createDomainPopFetch } from '../../../src/client/fetch.js'

const ORIGIN = 'https://gw.test'
const ACL = CHANNEL_BOUND_ACL

const authorizationOf = (headers: Dispatcher.DispatchOptions['headers']): string | undefined => {
  const flat: string[] = Array.isArray(headers) ? (headers as unknown[]).flat() as string[] : Object.entries(headers ?? {}).flat() as string[]
  for (let i = 0; i < flat.length; i += 2) if (String(flat[i]).toLowerCase() === 'authorization') return String(flat[i + 1])
  return undefined
}

async function send(binding: ChannelBinding, authorization: string) {
  const res = await binding.dispatcher.request({ path: '/bound', method: 'GET', headers: { authorization } })
  const body = await res.body.text()
  return { status: res.statusCode, code: (JSON.parse(body || '{}') as { code?: string }).code }
}

t.test('the Node client binds its proofs to its own TLS 1.3 connection', async (t) => {
  const up = await startUpstream()
  const kh = await startKeyHost()
  const gw = await startTestGateway({
    upstream: up.url, publicOrigin: ORIGIN, acl: ACL,
    extraConfig: `${keysConfig()}\ntls:\n  listen: 127.0.0.1:0\n  cert: ${join(TLS_DIR, 'server.pem')}\n  key: ${join(TLS_DIR, 'server.key')}\n  clientCertificates: request\n`,
  })
  const url = `https://127.0.0.1:${gw.gw.https!.port}`
  const a = createChannelBinding(url, { ca: tlsFixtures.caPem, servername: 'localhost' })
  const b = createChannelBinding(url, { ca: tlsFixtures.caPem, servername: 'localhost', cert: clientCerts.alice.certPem, key: clientCerts.alice.keyPem })
  t.teardown(async () => { await a.close(); await b.close(); await gw.close(); await up.close(); await kh.close() })
  const { key, keyUrl } = await kh.publish('alice.test')
  const fetchA = createDomainPopFetch({ identity: 'alice.test', keyUrl, privateKey: key, audience: ORIGIN, channelBinding: a })

  const first = await fetchA(`${url}/bound`)
  t.equal(first.status, 200, 'a bound proof on its own connection (after the nonce challenge)')
  t.equal(up.seen.at(-1)!.headers['x-pop-channel-bound'], 'true')
  const again = await fetchA(`${url}/bound`)
  t.equal(again.status, 200, 'and the next request, on the same kept-alive connection')

  // Take the client's next proof off the wire before it is sent.
  let stolen: string | undefined
  const thief: ChannelBinding = {
    ...a,
    dispatcher: a.dispatcher.compose((dispatch) => (opts, handler) => {
      const proof = authorizationOf(opts.headers)
      if (proof === undefined) return dispatch(opts, handler) // the bare first request: let it fetch a nonce
      stolen = proof
      throw new Error('taken in flight')
    }),
    exporter: () => a.exporter(),
  }
  const fetchThief = createDomainPopFetch({ identity: 'alice.test', keyUrl, privateKey: key, audience: ORIGIN, channelBinding: thief })
  await fetchThief(`${url}/bound`).then(() => t.fail('should not be sent'), () => {})
  t.match(stolen, /^DomainPoP /)
  t.equal(JSON.parse(Buffer.from(stolen!.split('.')[1]!, 'base64url').toString()).cb, await a.exporter(), 'the proof names connection A')
  t.not(await b.exporter(), await a.exporter(), 'connection B has another exporter')

  const elsewhere = await send(b, stolen!)
  t.strictSame(elsewhere, { status: 401, code: 'channel_binding_mismatch' }, 'the same proof on a second connection is refused')
  // The jti is spent before `cb` is compared (domainpop verify: step 8 before 9): tried elsewhere, it is dead everywhere.
  t.strictSame(await send(a, stolen!), { status: 401, code: 'proof_replayed' }, 'and it is spent: not even its own connection takes it now')
  t.equal((await fetchA(`${url}/bound`)).status, 200, 'the client itself carries on with fresh proofs')
})

t.test('an http origin cannot be bound', async (t) => {
  t.throws(() => createChannelBinding('http://127.0.0.1:1'), /needs an https origin/)
})
