// The seam (pipeline/authenticate.ts, schemes/registry.ts): a second,
// test-only scheme registered beside DomainPoP goes through the same gate.
//   - a 401 carries one challenge per scheme;
//   - the ACL refuses a stranger before the scheme's verify is ever called;
//   - plain requests and WebSocket upgrades behave the same;
//   - credentials of two schemes in one request → 400 multiple_credentials.

import t from 'tap'
import http from 'node:http'
import type net from 'node:net'
import { GatewayError } from '../../../src/errors.js'
import { serializeChallenge } from '../../../src/http/auth-header.js'
import type { Identity } from '../../../src/identity/domain.js'
import type { Principal, Scheme } from '../../../src/schemes/types.js'
import { rawRequest, rawSocket, startTestGateway } from '../../helpers/harness.js'

/** `Authorization: TestKey <identity>:<password>`, or the identity alone in `X-Test-Ticket`. Password "right" verifies. */
function createTestScheme(verified: string[]): Scheme<{ identity: Identity; password: string }> {
  return {
    name: 'testkey',
    authScheme: 'TestKey',
    fields: ['x-test-ticket'],
    parse(credentials) {
      const raw = credentials.authorization?.slice('TestKey '.length) ?? `${credentials.fields?.get('x-test-ticket')}:right`
      const m = /^([a-z0-9.-]+):(\w+)$/.exec(raw)
      if (!m) throw new GatewayError('malformed_proof', 'TestKey needs identity:password')
      return { identity: m[1] as Identity, password: m[2]! }
    },
    async verify(claim): Promise<Principal> {
      verified.push(claim.identity)
      if (claim.password !== 'right') throw new GatewayError('proof_signature_invalid', 'wrong password')
      return { identity: claim.identity, method: 'testkey', thumbprint: 'test-thumbprint', confirmation: {}, channelBound: false, token: undefined, responseHeaders: ['X-Test-Seen', 'yes'] }
    },
    challenge(error) {
      return { field: serializeChallenge('TestKey', error?.authError ? { realm: 'test', error: error.authError } : { realm: 'test' }) }
    },
  }
}

async function setup(t: { teardown(fn: () => unknown): void }) {
  const verified: string[] = []
  // One upstream for both kinds: plain requests are recorded and answered;
  // upgrades switch protocols and report the identity they were given.
  const up = { seen: [] as { headers: http.IncomingHttpHeaders }[] }
  const wsServer = http.createServer((req, res) => { up.seen.push({ headers: req.headers }); res.end('ok') })
  wsServer.on('upgrade', (req, socket) => {
    socket.end('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nX-Seen-Identity: ' + (req.headers['x-pop-identity'] ?? 'none') + '\r\nX-Seen-Method: ' + (req.headers['x-pop-auth-method'] ?? 'none') + '\r\n\r\n')
  })
  await new Promise<void>((r) => wsServer.listen(0, '127.0.0.1', r))
  const gw = await startTestGateway({ upstream: `http://127.0.0.1:${(wsServer.address() as net.AddressInfo).port}`, extraSchemes: () => [createTestScheme(verified)] })
  t.teardown(async () => { await gw.close(); wsServer.closeAllConnections(); wsServer.close() })
  return { gw, verified, up }
}

const UPGRADE = 'Connection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n'

/** The same request as a plain GET and as an upgrade: status line and raw head of each. */
async function both(port: number, path: string, headers: string): Promise<{ plain: string; upgrade: string }> {
  const list = headers.split('\r\n').filter(Boolean).map((l) => l.split(': ') as [string, string])
  const res = await rawRequest(`http://127.0.0.1:${port}`, { path, headers: [['Host', 'gw.test'], ...list] })
  let plain = `HTTP/1.1 ${res.status}\r\n`
  for (let i = 0; i < res.rawHeaders.length; i += 2) plain += `${res.rawHeaders[i]}: ${res.rawHeaders[i + 1]}\r\n`
  plain += `\r\n${res.body}`
  const upgrade = await rawSocket(port, `GET ${path} HTTP/1.1\r\nHost: gw.test\r\n${UPGRADE}${headers}\r\n`)
  return { plain, upgrade }
}

const statusOf = (text: string) => Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1])
const challengesOf = (text: string) => [...text.split('\r\n\r\n')[0]!.matchAll(/^www-authenticate: (\S+)(.*)$/gim)].map((m) => `${m[1]}${/error="([^"]+)"/.exec(m[2]!) ? ` error=${/error="([^"]+)"/.exec(m[2]!)![1]}` : ''}`)

t.test('no credentials: the 401 carries both challenges, on plain requests and upgrades alike', async (t) => {
  const { gw } = await setup(t)
  const { plain, upgrade } = await both(gw.gw.http.port, '/foo', '')
  for (const [kind, text] of [['plain', plain], ['upgrade', upgrade]] as const) {
    t.equal(statusOf(text), 401, kind)
    t.strictSame(challengesOf(text), ['DomainPoP', 'TestKey'], `${kind}: one WWW-Authenticate field per scheme`)
    t.match(text, /domainpop-nonce: /i, `${kind}: DomainPoP's nonce header is still sent`)
  }
})

t.test('a stranger is refused by the ACL before verify is called', async (t) => {
  const { gw, verified, up } = await setup(t)
  const { plain, upgrade } = await both(gw.gw.http.port, '/foo', 'Authorization: TestKey mallory.test:right\r\n')
  t.equal(statusOf(plain), 403)
  t.equal(statusOf(upgrade), 403)
  t.strictSame(challengesOf(plain), ['TestKey error=insufficient_scope'], 'the 403 names the scheme that was used')
  t.strictSame(verified, [], 'verify never ran for an identity the ACL does not name')
  t.equal(up.seen.length, 0)
})

t.test('an allowed identity is verified and forwarded with its identity headers, plain and upgrade', async (t) => {
  const { gw, verified, up } = await setup(t)
  const { plain, upgrade } = await both(gw.gw.http.port, '/foo', 'Authorization: TestKey alice.test:right\r\n')
  t.equal(statusOf(plain), 200)
  t.match(plain, /X-Test-Seen: yes/i, "the principal's response headers reach the client")
  t.equal(up.seen[0]!.headers['x-pop-identity'], 'alice.test')
  t.equal(up.seen[0]!.headers['x-pop-auth-method'], 'testkey')
  t.equal(statusOf(upgrade), 101)
  t.match(upgrade, /X-Seen-Identity: alice\.test/i)
  t.match(upgrade, /X-Seen-Method: testkey/i)
  t.strictSame(verified, ['alice.test', 'alice.test'])
  // The credential carried in the scheme's own field works too.
  const viaField = await rawRequest(gw.url, { path: '/foo', headers: [['X-Test-Ticket', 'alice.test']] })
  t.equal(viaField.status, 200)
  t.equal(up.seen.at(-1)!.headers['x-test-ticket'], undefined, "a scheme's own credential field is never forwarded")
})

t.test('a failed verify: the failing scheme carries the error, the other challenge is bare', async (t) => {
  const { gw } = await setup(t)
  const { plain, upgrade } = await both(gw.gw.http.port, '/foo', 'Authorization: TestKey alice.test:wrong\r\n')
  for (const text of [plain, upgrade]) {
    t.equal(statusOf(text), 401)
    t.strictSame(challengesOf(text), ['DomainPoP', 'TestKey error=invalid_proof'])
    t.match(text, /"code":"proof_signature_invalid"/)
  }
})

t.test('credentials of two schemes → 400 multiple_credentials, nothing verified or forwarded', async (t) => {
  const { gw, verified, up } = await setup(t)
  const { plain, upgrade } = await both(gw.gw.http.port, '/foo', 'Authorization: DomainPoP aaa.bbb.ccc\r\nX-Test-Ticket: alice.test\r\n')
  for (const text of [plain, upgrade]) {
    t.equal(statusOf(text), 400)
    t.match(text, /"code":"multiple_credentials"/)
    t.strictSame(challengesOf(text), ['DomainPoP error=invalid_request', 'TestKey error=invalid_request'], 'a failure of no one scheme: every challenge says so')
  }
  t.strictSame(verified, [])
  t.equal(up.seen.length, 0)
})
