// popgate_sessions_refused_total{scheme,code} through a real gateway with
// tickets and cookies on: a ticket or cookie the scheme refuses is counted
// by scheme (`session`, `cookie`) and code, both where it does not open
// (parse) and where a rule refuses sessions (verify); an accepted one is not.

import t from 'tap'
import { writeFile, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startUpstream, startTestGateway, rawRequest, type RawResponse } from '../helpers/harness.js'
import { startKeyHost, keysConfig } from '../helpers/identity.js'
import { createDomainPopFetch } from '../../src/client/fetch.js'
import { signDomainPopProof } from '../../src/client/proof.js'
import { signSessionProof } from '../../src/proofs/session-proof.js'
import { formatSecretsYaml, generateSecrets } from '../../src/secrets/generate.js'

const ORIGIN = 'https://gw.test'
const NAME = '__Host-popgate'
const ACL = `version: 1
rules:
  - id: foo
    path: /foo
    read: [alice.test]
    write: [alice.test]
  - id: strict
    path: /strict
    read: [alice.test]
    sessions: false
`
const codeOf = (r: RawResponse): string | undefined => (JSON.parse(r.body) as { code?: string }).code

t.test('refused tickets and cookies are counted by scheme and code; accepted ones are not', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'popgate-sessions-metrics-'))
  const secretsFile = join(dir, 'secrets.yaml')
  await writeFile(secretsFile, formatSecretsYaml(generateSecrets()))
  const up = await startUpstream()
  const kh = await startKeyHost()
  const extraConfig = `${keysConfig()}\nsecrets:\n  file: ${secretsFile}\nsessions:\n  tickets: { enabled: true }\n  cookie: { enabled: true }\n`
  const g = await startTestGateway({ upstream: up.url, publicOrigin: ORIGIN, acl: ACL, extraConfig })
  t.teardown(async () => { await g.close(); await up.close(); await kh.close(); await rm(dir, { recursive: true, force: true }) })
  const alice = await kh.publish('alice.test')
  const refused = (scheme: string, code: string) => g.metrics.value('popgate_sessions_refused_total', { scheme, code })

  // Tickets: a good one (not counted), then a refused one in parse and one in verify.
  const f = createDomainPopFetch({ identity: 'alice.test', keyUrl: alice.keyUrl, privateKey: alice.key, audience: ORIGIN, session: 'ticket' })
  t.equal((await f(`${g.url}/foo`)).status, 200, 'a proof, a ticket minted')
  t.equal((await f(`${g.url}/foo`)).status, 200, 'the ticket accepted')
  t.equal(up.seen.at(-1)!.headers['x-pop-auth-method'], 'session')
  const sessionProof = signSessionProof(Buffer.alloc(32, 1), { htm: 'GET', htu: `${ORIGIN}/foo`, ticket: 'not-a-ticket', iatSec: Date.now() / 1000 })
  const bad = await rawRequest(g.url, { path: '/foo', headers: [['authorization', 'DomainPoP-Session not-a-ticket'], ['domainpop-proof', sessionProof]] })
  t.equal(codeOf(bad), 'ticket_malformed')
  t.equal(await refused('session', 'ticket_malformed'), 1, 'a ticket that does not open: counted')
  t.equal((await f(`${g.url}/strict`)).status, 200, 'sessions: false refuses the ticket; the client falls back to a proof')
  t.equal(await refused('session', 'session_refused'), 1, 'a ticket refused by the rule: counted')

  // Cookies: minted after a proof with ses: "cookie".
  const nonce = (await rawRequest(g.url, { path: '/foo' })).headers['domainpop-nonce'] as string
  const proof = await signDomainPopProof(alice.key, { identity: 'alice.test', keyUrl: alice.keyUrl, audience: ORIGIN, method: 'GET', path: '/foo', nonce, extraClaims: { ses: 'cookie' } })
  const minted = await rawRequest(g.url, { path: '/foo', headers: [['authorization', `DomainPoP ${proof}`]] })
  const cookie = new RegExp(`^${NAME}=([^;]+);`).exec(String(minted.headers['set-cookie']))?.[1]
  t.ok(cookie, 'a cookie minted')
  t.equal((await rawRequest(g.url, { path: '/foo', headers: [['cookie', `${NAME}=${cookie}`]] })).status, 200, 'the cookie accepted')
  const tampered = await rawRequest(g.url, { path: '/foo', headers: [['cookie', `${NAME}=garbage`]] })
  t.equal(codeOf(tampered), 'cookie_malformed')
  t.equal(await refused('cookie', 'cookie_malformed'), 1, 'a cookie that does not open: counted')
  const strict = await rawRequest(g.url, { path: '/strict', headers: [['cookie', `${NAME}=${cookie}`]] })
  t.equal(codeOf(strict), 'session_refused')
  t.equal(await refused('cookie', 'session_refused'), 1, 'a cookie refused by the rule: counted')
  const csrf = await rawRequest(g.url, { method: 'POST', path: '/foo', headers: [['cookie', `${NAME}=${cookie}`], ['origin', 'https://evil.test']] })
  t.equal(codeOf(csrf), 'cookie_origin_refused')
  t.equal(await refused('cookie', 'cookie_origin_refused'), 1, 'a cross-site POST: counted')

  // Nothing else: the accepted ticket and cookie added no series.
  const text = await g.metrics.render()
  const lines = text.split('\n').filter((l) => l.startsWith('popgate_sessions_refused_total{'))
  t.equal(lines.length, 5, `exactly the five refusals above: ${lines.join(' | ')}`)
})
