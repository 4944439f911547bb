// Secrets never in logs: a full flow with logging at debug (challenge, good
// proof, replayed proof, forged proof, spoofed identity headers), then every
// log line is scanned for any fragment of a proof, nonce, private key or
// secret.

import t from 'tap'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { randomBytes } from 'node:crypto'
import { startUpstream, startTestGateway, rawRequest } from '../helpers/harness.js'
import { startKeyHost, keysConfig } from '../helpers/identity.js'
import { signDomainPopProof } from '../../src/client/proof.js'

const ORIGIN = 'https://gw.test'

t.test('a full flow at debug level leaves no credential or secret in any log line', async (t) => {
  const up = await startUpstream()
  const kh = await startKeyHost()
  const secret = randomBytes(32).toString('base64url')
  const gwDir = await import('node:fs/promises').then((fs) => fs.mkdtemp(join((process.env.TMPDIR ?? '/tmp'), 'popgate-secrets-')))
  const secretsFile = join(gwDir, 'secrets.yaml')
  await writeFile(secretsFile, `nonce:\n  - id: n1\n    secret: ${secret}\n`)
  const gw = await startTestGateway({ upstream: up.url, publicOrigin: ORIGIN, logLevel: 'debug', extraConfig: `${keysConfig()}\nsecrets:\n  file: ${secretsFile}` })
  t.teardown(async () => { await gw.close(); await up.close(); await kh.close() })

  const { key, keyUrl } = await kh.publish('alice.test')
  const first = await rawRequest(gw.url, { path: '/foo' })
  const nonce = first.headers['domainpop-nonce'] as string
  const proof = signDomainPopProof(key, { identity: 'alice.test', keyUrl, audience: ORIGIN, method: 'GET', path: '/foo', nonce })
  const auth: [string, string] = ['Authorization', `DomainPoP ${proof}`]
  t.equal((await rawRequest(gw.url, { path: '/foo', headers: [auth, ['Cookie', 'session=topsecretcookie123'], ['X-PoP-Identity', 'admin.test']] })).status, 200)
  t.equal((await rawRequest(gw.url, { path: '/foo', headers: [auth] })).status, 401, 'replay')
  const forged = proof.slice(0, -10) + 'AAAAAAAAAA'
  t.equal((await rawRequest(gw.url, { path: '/foo', headers: [['Authorization', `DomainPoP ${forged}`]] })).status, 401)
  t.equal((await rawRequest(gw.url, { path: '/foo', headers: [['Authorization', 'DomainPoP not-a-jws-but-secret-looking-zzzzzzzz']] })).status, 400)
  // Force the reload path to log too.
  await gw.gw.reload('test')

  const all = gw.log.text.join('\n')
  t.ok(gw.log.lines.length >= 4, `scanned ${gw.log.lines.length} log lines`)
  const [h, p, s] = proof.split('.')
  const privateD = (key.privateKey.export({ format: 'jwk' }) as { d: string }).d
  const fragments: Record<string, string> = {
    'proof header': h!.slice(0, 24), 'proof payload': p!.slice(0, 24), 'proof signature': s!.slice(0, 24),
    'forged signature': forged.slice(-24), nonce: nonce.slice(0, 24), 'nonce secret': secret.slice(0, 16),
    'private key': privateD.slice(0, 16), cookie: 'topsecretcookie123', 'malformed credential': 'secret-looking-zzzzzzzz',
  }
  for (const [what, frag] of Object.entries(fragments)) t.notOk(all.includes(frag), `no ${what} in the logs`)
})
