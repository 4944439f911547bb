// Access lines explain refusals (issue "Operator experience"): a 403 names
// the rule and the identity the proof claimed, marked as unverified; a bare
// 401 challenge is logged as `challenge`, not `error`; a method no rule
// grants says so.

import t from 'tap'
import { rawRequest, startTestGateway, startUpstream, waitFor } from '../../helpers/harness.js'
import { generateClientKey } from '../../../src/client/keys.js'
import { signDomainPopProof } from '../../../src/client/proof.js'

const ORIGIN = 'https://gw.test'
const access = (lines: Record<string, unknown>[]) => lines.filter((l) => l.msg === 'access')

t.test('403 for a stranger: rule and claimed identity logged, never as an identity', async (t) => {
  const up = await startUpstream()
  const gw = await startTestGateway({ upstream: up.url, publicOrigin: ORIGIN })
  t.teardown(async () => { await gw.close(); await up.close() })
  const nonce = (await rawRequest(gw.url, { path: '/foo' })).headers['domainpop-nonce'] as string
  const key = await generateClientKey('ES256')
  // The ACL refuses mallory.test before its key would be fetched, so the key URL need not exist.
  const proof = signDomainPopProof(key, { identity: 'mallory.test', keyUrl: `https://mallory.test/.well-known/domainpop/keys/${key.kid}`, audience: ORIGIN, method: 'GET', path: '/foo', nonce })
  const res = await rawRequest(gw.url, { path: '/foo', headers: [['Authorization', `DomainPoP ${proof}`]] })
  t.equal(res.status, 403)
  await waitFor(() => access(gw.log.lines).length === 2)
  const [challenge, denied] = access(gw.log.lines)
  t.match(challenge, { path: '/foo', status: 401, decision: 'challenge', code: 'credentials_missing', rule: 'foo' })
  t.match(denied, { path: '/foo', status: 403, decision: 'deny', code: 'forbidden', rule: 'foo', claimed: 'mallory.test' })
  t.notOk('identity' in denied!, 'an unverified claim is never logged as an identity')
  t.equal(await gw.metrics.value('popgate_requests_total', { decision: 'challenge', code: 'credentials_missing' }), 1)
})

t.test('a method no rule grants: the detail says so', async (t) => {
  const up = await startUpstream()
  const gw = await startTestGateway({ upstream: up.url, publicOrigin: ORIGIN })
  t.teardown(async () => { await gw.close(); await up.close() })
  const res = await rawRequest(gw.url, { method: 'TRACE', path: '/public/x' })
  t.equal(res.status, 403)
  t.equal(JSON.parse(res.body).detail, 'the ACL grants no one this method here')
  t.equal(up.seen.length, 0)
})
