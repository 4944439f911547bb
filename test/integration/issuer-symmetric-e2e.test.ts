// The KDC flow without a pre-shared secret (issue 24, PROTOCOL.md §4,
// RFC 7800 §3.3), over real sockets: a service of alice.test asks its domain's
// reference issuer (keyhost --issuer, HTTPS as alice.test on loopback) for a
// symmetric token to the gateway; the issuer fetches the gateway's published
// `use: "enc"` key through the safe fetcher, makes a 32-byte key, returns the
// JWT with cnf.jwe and the key; the client calls the gateway with
// `DomainPoP-Session <jwt>` and an HS256 proof per request; the gateway
// discovers the issuer like a DPoP issuer, opens cnf.jwe and forwards with
// `X-PoP-Auth-Method: issuer-symmetric`. Then bad inputs over the same wire.

import t from 'tap'
import https from 'node:https'
import { createPublicKey, randomBytes } from 'node:crypto'
import type { AddressInfo } from 'node:net'
import { Agent, fetch as undiciFetch } from 'undici'
import { DEFAULT_ACL, startTestGateway, startUpstream } from '../helpers/harness.js'
import { keysConfig } from '../helpers/identity.js'
import { tlsFixtures } from '../helpers/tls-fixtures.js'
import { createKeyHostHandler } from '../../src/keyhost/server.js'
import { createIssuer } from '../../src/keyhost/issuer.js'
import { createGatewayKeys } from '../../src/keyhost/gateway-keys.js'
import { createMemoryKeyStore } from '../../src/keyhost/store.js'
import { createDomainPopFetch, requestSymmetricIssuerToken } from '../../src/client/index.js'
import { signSessionProof } from '../../src/proofs/session-proof.js'
import { sealCnfJwe } from '../../src/proofs/cnf-jwe.js'
import { generateEncryptionKey } from '../../src/secrets/encryption-keys.js'

const GATEWAY = 'https://gw.test'
const CREDENTIAL = 'alice-services-credential-0123456789'

const agent = new Agent({ connect: { ca: tlsFixtures.caPem, lookup: (_h, _o, cb) => cb(null, [{ address: '127.0.0.1', family: 4 }]) } })
const testFetch = ((input: string | URL, init?: RequestInit) => undiciFetch(input as string, { ...(init as object), dispatcher: agent })) as unknown as typeof fetch

async function setup(t: { teardown(fn: () => unknown): void }) {
  const up = await startUpstream()
  const gw = await startTestGateway({ upstream: up.url, publicOrigin: GATEWAY, acl: DEFAULT_ACL, extraConfig: keysConfig() + '\nissuerSymmetric:\n  enabled: true\n' })
  const gwPort = new URL(gw.url).port
  // The issuer reaches the gateway's JWK Set through the safe fetcher; the gateway listens on plain http on loopback here.
  const gatewayKeys = createGatewayKeys({
    policy: { allowHttp: ['gw.test'], allowPrivateAddresses: true, resolve: { 'gw.test': '127.0.0.1' } },
    jwksUrlFor: () => new URL(`http://gw.test:${gwPort}/.well-known/popgate/jwks.json`),
  })
  let handler: ReturnType<typeof createKeyHostHandler> = () => {}
  const server = https.createServer({ cert: tlsFixtures.certPem, key: tlsFixtures.keyPem }, (req, res) => handler(req, res))
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  const origin = `https://alice.test:${(server.address() as AddressInfo).port}`
  const authorize = (req: { headers: { authorization?: string } }) => req.headers.authorization === `Bearer ${CREDENTIAL}`
  const issuer = createIssuer({ publicOrigin: origin, authorize, pathPrefix: '/.well-known/domainpop/', gatewayKeys })
  handler = createKeyHostHandler({ identity: 'alice.test', store: createMemoryKeyStore(), authorize, publicOrigin: origin, issuer })
  t.teardown(async () => { await gw.close(); await gatewayKeys.close(); server.closeAllConnections(); server.close(); await up.close() })
  return { up, gw, origin }
}

t.test('issuer (symmetric) → client → gateway → upstream: issuer-symmetric, no asymmetric work per request', async (t) => {
  const { up, gw, origin } = await setup(t)
  const jwks = await (await fetch(`${gw.url}/.well-known/popgate/jwks.json`)).json() as { keys: { use: string; alg: string; d?: string }[] }
  const enc = jwks.keys.filter((k) => k.use === 'enc')
  t.equal(enc.length, 1, 'the gateway publishes its encryption key with use "enc"')
  t.equal(enc[0]!.alg, 'ECDH-ES+A256KW')
  t.notOk(jwks.keys.some((k) => k.d !== undefined), 'no private member published')

  const call = createDomainPopFetch({ issuer: { origin, credential: CREDENTIAL, keyType: 'symmetric', sub: 'billing' }, audience: GATEWAY, fetch: testFetch })
  for (let i = 0; i < 3; i++) {
    const res = await call(`${gw.url}/foo`)
    t.equal(res.status, 200, await res.text())
  }
  const h = up.seen.at(-1)!.headers
  t.equal(h['x-pop-identity'], 'alice.test', 'the identity is the issuer host')
  t.equal(h['x-pop-auth-method'], 'issuer-symmetric')
  t.equal(h['x-pop-subject'], 'billing')
  t.match(h['x-pop-key-thumbprint'], /^[A-Za-z0-9_-]{43}$/)
  t.notOk(h.authorization, 'the token is not forwarded')
  t.notOk(h['domainpop-proof'], 'the proof is not forwarded')
  t.equal((await call(`${gw.url}/nothing-here`)).status, 403, 'the ACL still decides')
})

t.test('over the wire: a replayed proof, a proof under another key, a token from another gateway\'s key, a token whose iss is not the identity', async (t) => {
  const { gw, origin } = await setup(t)
  const tok = await requestSymmetricIssuerToken({ issuer: origin, credential: CREDENTIAL, audience: GATEWAY, fetch: testFetch })
  const send = (token: string, proof: string) => fetch(`${gw.url}/foo`, { headers: { authorization: `DomainPoP-Session ${token}`, 'domainpop-proof': proof } })
  const codeOf = async (res: Response) => ((await res.json()) as { code: string }).code

  const proof = signSessionProof(tok.key, { htm: 'GET', htu: `${GATEWAY}/foo`, ticket: tok.accessToken })
  t.equal((await send(tok.accessToken, proof)).status, 200)
  const again = await send(tok.accessToken, proof)
  t.equal(again.status, 401)
  t.equal(await codeOf(again), 'session_proof_replayed', 'a replayed jti')

  const wrongKey = await send(tok.accessToken, signSessionProof(randomBytes(32), { htm: 'GET', htu: `${GATEWAY}/foo`, ticket: tok.accessToken }))
  t.equal(wrongKey.status, 401)
  t.equal(await codeOf(wrongKey), 'session_proof_signature_invalid', 'an HMAC with a wrong key')
  t.match(wrongKey.headers.get('www-authenticate') ?? '', /DomainPoP-Session.*error="invalid_proof"/)

  // A token the issuer of evil.test signed cannot name alice.test: the identity is always iss's host.
  const forged = tok.accessToken.split('.')
  const payload = JSON.parse(Buffer.from(forged[1]!, 'base64url').toString()) as Record<string, unknown>
  const swappedIss = [forged[0], Buffer.from(JSON.stringify({ ...payload, iss: origin.replace('alice.test', 'evil.test') })).toString('base64url'), forged[2]].join('.')
  const evil = await send(swappedIss, signSessionProof(tok.key, { htm: 'GET', htu: `${GATEWAY}/foo`, ticket: swappedIss }))
  t.equal(evil.status, 403, 'iss names evil.test: the ACL refuses that identity before any fetch')

  // A cnf.jwe sealed to a key this gateway never held (another gateway's, or one removed from its secrets).
  const otherGateway = createPublicKey(generateEncryptionKey('gone').privateKey)
  const swappedJwe = [forged[0], Buffer.from(JSON.stringify({ ...payload, cnf: { jwe: sealCnfJwe(tok.key, { kid: 'gone', publicKey: otherGateway }, { iss: origin, jti: payload.jti as string }) } })).toString('base64url'), forged[2]].join('.')
  const gone = await send(swappedJwe, signSessionProof(tok.key, { htm: 'GET', htu: `${GATEWAY}/foo`, ticket: swappedJwe }))
  t.equal(gone.status, 401)
  t.equal(await codeOf(gone), 'token_signature_invalid', 'changing cnf.jwe breaks the issuer signature first')

  const health = await fetch(`${gw.url}/healthz`)
  t.equal(health.status, 200, 'the gateway stays healthy')
})
