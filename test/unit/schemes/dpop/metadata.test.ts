// RFC 9728 §2 protected-resource metadata: the authorization servers a client
// can get a token from are listed (issue 28 found `authorization_servers: []`).

import t from 'tap'
import { protectedResourceRoute, PROTECTED_RESOURCE_PATH } from '../../../../src/schemes/dpop/setup.js'
import type { DpopConfig } from '../../../../src/schemes/dpop/config.js'

function config(dpop: Partial<DpopConfig>): DpopConfig {
  return { enabled: true, audience: undefined, algorithms: ['ES256'], requireNonce: true, issuers: {}, ...dpop }
}
const doc = (c: DpopConfig) => { const [path, route] = protectedResourceRoute(c, 'https://bob.example'); return { path, ...JSON.parse(route.body) } }

t.test('pinned issuers, then the advertised ones, each once, as written', async (t) => {
  const pinned = { jwksUri: 'https://as.carol.example/jwks', jwksFile: undefined, audience: undefined, algorithms: undefined }
  const d = doc(config({ issuers: { 'https://as.carol.example': pinned }, authorizationServers: ['https://as.alice.example', 'https://as.carol.example'] }))
  t.equal(d.path, PROTECTED_RESOURCE_PATH)
  t.strictSame(d.authorization_servers, ['https://as.carol.example', 'https://as.alice.example'])
  t.equal(d.resource, 'https://bob.example', 'the resource is the audience tokens must carry: publicOrigin by default')
  t.equal(d.dpop_bound_access_tokens_required, true)
})

t.test('none configured: the member is left out rather than an empty list', async (t) => {
  const d = doc(config({}))
  t.notOk('authorization_servers' in d)
  t.equal(doc(config({ audience: 'api://reports' })).resource, 'api://reports')
})
