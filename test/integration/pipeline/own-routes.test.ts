// The gateway's own documents (http/own-routes.ts) are answered before
// the ACL, for GET and HEAD only, and never reach the upstream.

import t from 'tap'
import { rawRequest, startTestGateway, startUpstream } from '../../helpers/harness.js'
import { ownRoute } from '../../../src/http/own-routes.js'

const DOC = '{"keys":[]}'
const routes = new Map([['/.well-known/popgate/test.json', { contentType: 'application/json', body: DOC, cacheControl: 'max-age=300' }]])

t.test('GET and HEAD are answered by the gateway; other methods go through the ACL', async (t) => {
  const up = await startUpstream()
  const gw = await startTestGateway({ upstream: up.url, ownRoutes: routes })
  t.teardown(async () => { await gw.close(); await up.close() })
  const url = gw.url
  const get = await rawRequest(url, { path: '/.well-known/popgate/test.json' })
  t.equal(get.status, 200)
  t.equal(get.body, DOC)
  t.equal(get.headers['cache-control'], 'max-age=300')
  const head = await rawRequest(url, { method: 'HEAD', path: '/.well-known/popgate/test.json' })
  t.equal(head.status, 200)
  t.equal(head.body, '')
  const post = await rawRequest(url, { method: 'POST', path: '/.well-known/popgate/test.json' })
  t.equal(post.status, 401, 'not a public rule: challenged like any other path')
  t.equal(up.seen.length, 0, 'nothing reached the upstream')
})

t.test('ownRoute: exact paths, GET and HEAD only, nothing when empty', async (t) => {
  t.ok(ownRoute(routes, 'GET', '/.well-known/popgate/test.json'))
  t.notOk(ownRoute(routes, 'GET', '/.well-known/popgate/test.json/'))
  t.notOk(ownRoute(routes, 'DELETE', '/.well-known/popgate/test.json'))
  t.notOk(ownRoute(new Map(), 'GET', '/.well-known/popgate/test.json'))
})
