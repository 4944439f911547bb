// `popgate fetch --dpop-token TOKEN --key FILE`: a real DPoP-bound token from
// oidc-provider (test/helpers/oidc-peer.ts), bound to a key saved by the
// client library, presented by the CLI as a child process to an in-process
// gateway. Loopback only.

import t from 'tap'
import { webcrypto } from 'node:crypto'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { DEFAULT_ACL, startTestGateway, startUpstream } from '../helpers/harness.js'
import { keysConfig } from '../helpers/identity.js'
import { CLIENT_ID, startAuthorizationServer, startPeerClient } from '../helpers/oidc-peer.js'
import { generateClientKey, saveClientKey } from '../../src/client/keys.js'
import { popgate, stopAll, oneLineFailure } from './cli-run.js'

const ORIGIN = 'https://gw.test'
t.setTimeout(120_000)

const dir = await mkdtemp(join(tmpdir(), 'popgate-cli-dpop-'))
t.teardown(async () => { await stopAll(); await rm(dir, { recursive: true, force: true }) })

/** The saved private JWK as a WebCrypto pair for oauth4webapi (Node 20 has no KeyObject.toCryptoKey). */
async function cryptoPair(privateFile: string): Promise<CryptoKeyPair> {
  const jwk = JSON.parse(await readFile(privateFile, 'utf8')) as JsonWebKey & { kid?: string }
  const { kty, crv, x, y, d } = jwk
  const alg = { name: 'ECDSA', namedCurve: 'P-256' }
  return {
    privateKey: await webcrypto.subtle.importKey('jwk', { kty, crv, x, y, d }, alg, false, ['sign']),
    publicKey: await webcrypto.subtle.importKey('jwk', { kty, crv, x, y }, alg, true, ['verify']),
  } as CryptoKeyPair
}

t.test('popgate fetch --dpop-token presents a real token with proofs from --key', async (t) => {
  const up = await startUpstream()
  const as = await startAuthorizationServer({ host: 'alice.test', resource: ORIGIN, alg: 'ES256' })
  const gw = await startTestGateway({ upstream: up.url, publicOrigin: ORIGIN, acl: DEFAULT_ACL, extraConfig: keysConfig() + '\ndpop:\n  enabled: true\n' })
  const { privateFile } = await saveClientKey(await generateClientKey('ES256'), join(dir, 'bound'))
  const client = await startPeerClient({ issuer: as.issuer, hosts: ['alice.test'], resource: ORIGIN, gatewayOrigin: ORIGIN, gatewayUrl: gw.url, keys: await cryptoPair(privateFile) })
  t.teardown(async () => { await client.close(); await gw.close(); await as.close(); await up.close() })
  const tr = await client.token()
  const tokenFile = join(dir, 'token')
  await writeFile(tokenFile, tr.access_token + '\n', { mode: 0o600 })

  // The token on the command line; the gateway's nonce challenge is answered once.
  const ok = await popgate(['fetch', `${gw.url}/foo?x=1`, '--audience', ORIGIN, '--dpop-token', tr.access_token, '--key', privateFile, '-i'])
  t.equal(ok.code, 0, ok.stderr)
  t.match(ok.stdout, /^HTTP 200 /)
  t.match(ok.stdout, /upstream ok$/)
  t.equal(up.seen.length, 1)
  const h = up.seen[0]!.headers
  t.equal(up.seen[0]!.url, '/foo?x=1')
  t.equal(h['x-pop-identity'], 'alice.test')
  t.equal(h['x-pop-auth-method'], 'dpop')
  t.equal(h['x-pop-subject'], CLIENT_ID)
  t.equal(h['x-pop-client-id'], CLIENT_ID)

  // @FILE, and a POST with a body: a fresh proof for the method.
  const post = await popgate(['fetch', `${gw.url}/reports/q3`, '--audience', ORIGIN, '--dpop-token', `@${tokenFile}`, '--key', privateFile, '-d', 'hello'])
  t.equal(post.code, 0, post.stderr + post.stdout)
  t.equal(up.seen.length, 2)
  t.equal(up.seen[1]!.method, 'POST')
  t.equal(up.seen[1]!.bodyBytes, 5)

  // Another key than the one the token is bound to: refused, exit 1, the problem on stdout.
  const { privateFile: otherKey } = await saveClientKey(await generateClientKey('ES256'), join(dir, 'other'))
  const wrong = await popgate(['fetch', `${gw.url}/foo`, '--audience', ORIGIN, '--dpop-token', tr.access_token, '--key', otherKey, '-i'])
  t.equal(wrong.code, 1)
  t.match(wrong.stdout, /^HTTP 401 /)
  t.match(wrong.stdout, /"code":"dpop_proof_mismatch"/)
  // Without --audience the proofs name the URL's origin, not the gateway's publicOrigin.
  const noAudience = await popgate(['fetch', `${gw.url}/foo`, '--dpop-token', tr.access_token, '--key', privateFile])
  t.equal(noAudience.code, 1)
  t.match(noAudience.stdout, /"code":"dpop_proof_invalid"/)
  t.equal(up.seen.length, 2, 'no refused request reached the upstream')
})

t.test('popgate fetch --dpop-token: usage failures', async (t) => {
  const key = join(dir, 'k.jwk.json')
  const url = 'http://127.0.0.1:1/foo'
  oneLineFailure(t, await popgate(['fetch', url, '--dpop-token', 'a.b.c']), 2, 'no --key', /--dpop-token needs --key/)
  oneLineFailure(t, await popgate(['fetch', url, '--dpop-token', 'a.b.c', '--key', key, '--identity', 'alice.test']), 2, 'with --identity', /replaces --identity/)
  oneLineFailure(t, await popgate(['fetch', url, '--dpop-token', 'not-a-jwt', '--key', key]), 2, 'not a JWT', /not a JWT access token/)
  oneLineFailure(t, await popgate(['fetch', url, '--dpop-token', `@${join(dir, 'missing')}`, '--key', key]), 66, 'token file missing', /cannot read --dpop-token/)
})
