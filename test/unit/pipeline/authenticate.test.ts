// The gate (pipeline/authenticate.ts) with fake schemes and no sockets: the
// order every scheme goes through (select → parse → identity limit → ACL →
// verify → identity check → policy → grants), and the two abuse counters
// (per client address; per claimed identity and client address).

import t from 'tap'
import type { IncomingMessage } from 'node:http'
import { GatewayError, isGatewayError } from '../../../src/errors.js'
import type { Identity } from '../../../src/identity/domain.js'
import { parseAcl } from '../../../src/acl/parse.js'
import { createAbuseLimits } from '../../../src/limits/abuse.js'
import { createMetrics } from '../../../src/metrics.js'
import { compileHeaderPlan } from '../../../src/proxy/headers.js'
import { readRequestFacts } from '../../../src/http/request-facts.js'
import { createSchemeRegistry } from '../../../src/schemes/registry.js'
import type { Grant, Principal, Scheme } from '../../../src/schemes/types.js'
import { authenticate } from '../../../src/pipeline/authenticate.js'
import { GateView } from '../../../src/pipeline/request-view.js'
import type { GatewayState } from '../../../src/assembly/state.js'
import { unitConfig } from '../../helpers/unit/config.js'

const NOW = 1_750_000_000_000
const ACL = `version: 1
rules:
  - id: open
    path: /open
    read: [alice.test, bob.test]
  - id: fake-only
    path: /fake-only
    read: [alice.test]
    require: [fake]
  - id: other-only
    path: /other-only
    read: [alice.test]
    require: [other]
`

/** `Authorization: Fake <identity>:<verdict>`; verdict ok | bad | swap (verify returns another identity). */
function fakeScheme(events: string[]): Scheme<{ identity: Identity; verdict: string }> {
  return {
    name: 'fake',
    authScheme: 'Fake',
    fields: [],
    parse(c) {
      events.push('parse')
      const m = /^Fake ([a-z.]+):(ok|bad|swap)$/.exec(c.authorization ?? '')
      if (!m) throw new GatewayError('malformed_proof', 'Fake identity:verdict')
      return { identity: m[1] as Identity, verdict: m[2]! }
    },
    async verify(claim): Promise<Principal> {
      events.push('verify')
      if (claim.verdict === 'bad') throw new GatewayError('proof_signature_invalid', 'bad')
      const identity = claim.verdict === 'swap' ? 'mallory.test' : claim.identity
      return { identity, method: 'fake', thumbprint: 't', confirmation: { jkt: 't' }, channelBound: false, token: undefined, responseHeaders: ['Fake-Nonce', 'n'] }
    },
    challenge: () => ({ field: 'Fake' }),
  }
}

function setup(limits = '') {
  const events: string[] = []
  const config = unitConfig(limits)
  const grant: Grant = { name: 'g', issue: (p) => { events.push('grant'); return ['Granted', p.method] } }
  const { acl } = parseAcl(ACL, 'acl.yaml')
  const metrics = createMetrics({ processMetrics: false })
  let now = NOW
  const state = {
    config, acl: acl!, metrics, now: () => now,
    headers: compileHeaderPlan(config),
    schemes: createSchemeRegistry([fakeScheme(events)], { maxCredentialBytes: 8192 }),
    abuse: createAbuseLimits(config.limits),
    grants: [grant],
  } as unknown as GatewayState
  const run = async (path: string, authorization?: string, from = '192.0.2.1'): Promise<string> => {
    const raw = authorization === undefined ? ['Host', 'gw.test'] : ['Host', 'gw.test', 'Authorization', authorization]
    const req = { rawHeaders: raw, headers: {}, url: path, socket: { remoteAddress: from } } as unknown as IncomingMessage
    const facts = readRequestFacts(raw, state.schemes.ownedFields)
    const rule = acl!.rules.find((r) => r.path === path)
    const note = { scheme: undefined, claimed: undefined }
    try {
      const p = await authenticate(state, req, facts, new GateView(req, facts, 'GET', path, now), rule, note)
      return `ok ${p.identity} [${p.responseHeaders?.join(' ')}]`
    } catch (err) {
      return isGatewayError(err) ? `${err.status} ${err.code}` : `raw ${String(err)}`
    }
  }
  return { events, run, metrics, tick: (ms: number) => { now += ms } }
}

t.test('order: parse, then the ACL (a stranger is never verified), verify, the policy, and grants only on success', async (t) => {
  const s = setup()
  t.equal(await s.run('/open', 'Fake alice.test:ok'), 'ok alice.test [Fake-Nonce n Granted fake]', 'the grant\'s fields follow the scheme\'s')
  t.strictSame(s.events.splice(0), ['parse', 'verify', 'grant'])
  t.equal(await s.run('/open', 'Fake carol.test:ok'), '403 forbidden')
  t.strictSame(s.events.splice(0), ['parse'], 'the ACL refused before verify')
  t.equal(await s.run('/open', 'Fake nonsense'), '400 malformed_proof')
  t.strictSame(s.events.splice(0), ['parse'])
  t.equal(await s.run('/open'), '401 credentials_missing')
  t.strictSame(s.events.splice(0), [], 'no credentials: nothing runs')
  t.equal(await s.run('/other-only', 'Fake alice.test:ok'), '401 credentials_not_accepted', 'require: names another scheme')
  t.strictSame(s.events.splice(0), ['parse', 'verify'], 'the policy runs after verify; no grant for a refusal')
  t.equal(await s.run('/fake-only', 'Fake alice.test:ok'), 'ok alice.test [Fake-Nonce n Granted fake]', 'require: names this scheme')
})

t.test('a principal whose identity is not the one the ACL authorized is refused: 401 identity_mismatch', async (t) => {
  const s = setup()
  t.equal(await s.run('/open', 'Fake bob.test:swap'), '401 identity_mismatch')
  t.strictSame(s.events.splice(0), ['parse', 'verify'], 'refused before the policy and grants')
})

t.test('abuse: failures count per client address; the limit refuses before parse', async (t) => {
  const s = setup('limits:\n  failedAuthPerClientPerMinute: 3\n  failedAuthPerIdentityPerMinute: 100')
  for (let i = 0; i < 2; i++) t.equal(await s.run('/open', 'Fake nonsense'), '400 malformed_proof')
  for (let i = 0; i < 3; i++) t.equal(await s.run('/open'), '401 credentials_missing')
  t.equal(await s.run('/open', 'Fake alice.test:ok'), 'ok alice.test [Fake-Nonce n Granted fake]', 'bare challenges are not failures')
  t.equal(await s.run('/open', 'Fake alice.test:bad'), '401 proof_signature_invalid', 'the third failure')
  s.events.splice(0)
  t.equal(await s.run('/open', 'Fake alice.test:ok'), '429 rate_limited', 'the fourth attempt from the address')
  t.strictSame(s.events, [], 'refused before parse')
  t.equal(await s.metrics.value('popgate_rate_limited_total', { scope: 'client' }), 1)
  t.equal(await s.run('/open', 'Fake alice.test:ok', '192.0.2.2'), 'ok alice.test [Fake-Nonce n Granted fake]', 'another address is not limited')
  s.tick(61_000)
  t.equal(await s.run('/open', 'Fake alice.test:ok'), 'ok alice.test [Fake-Nonce n Granted fake]', 'a minute later the address may try again')
})

t.test('abuse: failures after parse count per (identity, address); the limit refuses before the ACL and verify', async (t) => {
  const s = setup('limits:\n  failedAuthPerClientPerMinute: 100\n  failedAuthPerIdentityPerMinute: 2')
  t.equal(await s.run('/open', 'Fake alice.test:bad'), '401 proof_signature_invalid')
  t.equal(await s.run('/open', 'Fake alice.test:swap'), '401 identity_mismatch', 'an identity mismatch counts too')
  s.events.splice(0)
  t.equal(await s.run('/open', 'Fake alice.test:ok'), '429 rate_limited')
  t.strictSame(s.events, ['parse'], 'parsed (to know the identity), never verified')
  t.equal(await s.metrics.value('popgate_rate_limited_total', { scope: 'identity' }), 1)
  t.equal(await s.run('/open', 'Fake alice.test:ok', '192.0.2.9'), 'ok alice.test [Fake-Nonce n Granted fake]', 'the same identity from another address is not locked out (docs/security.md G2)')
  t.equal(await s.run('/open', 'Fake bob.test:ok'), 'ok bob.test [Fake-Nonce n Granted fake]', 'another identity from the same address passes')
  t.equal(await s.run('/open', 'Fake nonsense'), '400 malformed_proof', 'a parse failure names no identity: only the address counts')
})
