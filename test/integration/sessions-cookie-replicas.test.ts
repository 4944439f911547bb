// The session cookie across two `popgate serve` processes (not two gateways
// in one process): a cookie minted by replica A after a proof is accepted by
// replica B, which shares nothing with A but the secrets file (memory replay
// stores, no Redis). Needs `npm run build` (test/helpers/replicas.ts).

import t from 'tap'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { randomBytes } from 'node:crypto'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startUpstream, rawRequest, DEFAULT_ACL } from '../helpers/harness.js'
import { startKeyHost, keysConfig } from '../helpers/identity.js'
import { startReplicas, stopReplicas, type Replica } from '../helpers/replicas.js'
import { signDomainPopProof } from '../../src/client/proof.js'

const ORIGIN = 'https://gw.test'
t.setTimeout(90_000)

t.test('a cookie minted by one gateway process is accepted by a second sharing only the secrets file', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'popgate-cookie-replicas-'))
  const [kh, up] = await Promise.all([startKeyHost(), startUpstream()])
  const b64 = () => randomBytes(32).toString('base64url')
  await writeFile(join(dir, 'acl.yaml'), DEFAULT_ACL)
  await writeFile(join(dir, 'secrets.yaml'), `nonce: [{ id: n1, secret: ${b64()} }]\ncookies: [{ id: c1, secret: ${b64()} }]\n`, { mode: 0o600 })
  await writeFile(join(dir, 'gateway.yaml'), [
    'listen: 127.0.0.1:0', `publicOrigin: ${ORIGIN}`, `upstream: ${up.url}`, 'acl: ./acl.yaml',
    'admin: { listen: 127.0.0.1:0 }', 'secrets: { file: ./secrets.yaml }', 'log: { level: info, access: false }',
    'sessions:', '  cookie: { enabled: true }', keysConfig(), '',
  ].join('\n'))
  const replicas = await startReplicas(['A', 'B'], join(dir, 'gateway.yaml'))
  t.teardown(async () => { await stopReplicas(replicas); await Promise.all([kh.close(), up.close()]); await rm(dir, { recursive: true, force: true }) })
  const [A, B] = replicas as [Replica, Replica]
  const { key, keyUrl } = await kh.publish('alice.test')
  const nonce = (await rawRequest(A.url, { path: '/foo' })).headers['domainpop-nonce'] as string
  const proof = signDomainPopProof(key, { identity: 'alice.test', keyUrl, audience: ORIGIN, method: 'GET', path: '/foo', nonce, extraClaims: { ses: 'cookie' } })
  const minted = await rawRequest(A.url, { path: '/foo', headers: [['authorization', `DomainPoP ${proof}`]] })
  t.equal(minted.status, 200, minted.body)
  const cookie = String(minted.headers['set-cookie']).split(';')[0]!
  t.match(cookie, /^__Host-popgate=[A-Za-z0-9_.-]{100,}$/)
  const atB = await rawRequest(B.url, { path: '/foo', headers: [['cookie', cookie]] })
  t.equal(atB.status, 200, atB.body)
  t.equal(up.seen.at(-1)!.headers['x-pop-auth-method'], 'cookie', 'replica B authenticated it')
  t.equal(up.seen.at(-1)!.headers['x-pop-identity'], 'alice.test')
  t.equal(up.seen.at(-1)!.headers.cookie, undefined, 'and did not forward it')
})
