// http/cors.ts: what a preflight and an answer carry, and who is refused.

import t from 'tap'
import { ALLOWED_HEADERS, checkCredentialedOrigin, EXPOSED_HEADERS, isPreflight, isUpstreamCorsField, originsFor, preflightHeaders, responseHeaders } from '../../../src/http/cors.js'
import { GatewayError } from '../../../src/errors.js'

const LISTED = new Set(['https://app.example'])
const fields = (flat: string[]) => Object.fromEntries(Array.from({ length: flat.length / 2 }, (_, i) => [flat[2 * i]!.toLowerCase(), flat[2 * i + 1]!]))
const code = (f: () => unknown) => { try { f() } catch (err) { return (err as GatewayError).code } return undefined }

t.test('a preflight from a listed origin: its origin (never *), credentials, the schemes\' fields, Vary', async (t) => {
  const h = fields(preflightHeaders({ origin: 'https://app.example', requestMethod: 'POST', requestHeaders: 'authorization, domainpop-proof, x-trace' }, LISTED))
  t.equal(h['access-control-allow-origin'], 'https://app.example')
  t.equal(h['access-control-allow-credentials'], 'true')
  t.equal(h['access-control-allow-methods'], 'POST')
  for (const name of ['Authorization', 'DPoP', 'DomainPoP-Proof']) t.match(h['access-control-allow-headers'], name)
  t.match(h['access-control-allow-headers'], 'x-trace', 'what the page asked for besides')
  t.notMatch(h['access-control-allow-headers'], /authorization.*authorization/i, 'no field twice')
  t.match(h.vary, /^Origin\b/)
  t.strictSame(ALLOWED_HEADERS, ['Authorization', 'DPoP', 'DomainPoP-Proof', 'Content-Type'])
})

t.test('a preflight from an unlisted origin, "null", or with junk is refused', async (t) => {
  t.equal(code(() => preflightHeaders({ origin: 'https://evil.example', requestMethod: 'GET', requestHeaders: undefined }, LISTED)), 'cors_origin_refused')
  t.equal(code(() => preflightHeaders({ origin: 'null', requestMethod: 'GET', requestHeaders: undefined }, LISTED)), 'cors_origin_refused')
  t.equal(code(() => preflightHeaders({ origin: 'https://app.example.evil.example', requestMethod: 'GET', requestHeaders: undefined }, LISTED)), 'cors_origin_refused', 'no prefix match')
  t.equal(code(() => preflightHeaders({ origin: 'https://app.example', requestMethod: 'GE T', requestHeaders: undefined }, LISTED)), 'bad_request')
  t.equal(code(() => preflightHeaders({ origin: 'https://app.example', requestMethod: 'GET', requestHeaders: 'a, b\r\nx: y' }, LISTED)), 'bad_request')
})

t.test('answers: the Allow-* set for a listed origin, only Vary for others', async (t) => {
  const h = fields(responseHeaders('https://app.example', LISTED))
  t.equal(h['access-control-allow-origin'], 'https://app.example')
  t.equal(h['access-control-allow-credentials'], 'true')
  t.equal(h['access-control-expose-headers'], EXPOSED_HEADERS)
  for (const name of ['WWW-Authenticate', 'DomainPoP-Nonce', 'DomainPoP-Session', 'DPoP-Nonce']) t.match(EXPOSED_HEADERS, name)
  t.strictSame(responseHeaders('https://evil.example', LISTED), ['Vary', 'Origin'])
  t.strictSame(responseHeaders(undefined, LISTED), ['Vary', 'Origin'])
})

t.test('credentials from an unlisted origin are refused; the gateway\'s own origin and listed ones pass', async (t) => {
  const own = 'https://gw.example'
  t.equal(code(() => checkCredentialedOrigin('https://evil.example', true, own, LISTED)), 'cors_origin_refused')
  t.equal(code(() => checkCredentialedOrigin('null', true, own, LISTED)), 'cors_origin_refused')
  t.equal(code(() => checkCredentialedOrigin('https://app.example, https://evil.example', true, own, LISTED)), 'cors_origin_refused', 'two Origin fields joined')
  t.equal(code(() => checkCredentialedOrigin('https://evil.example', false, own, LISTED)), undefined, 'no credentials: nothing to refuse')
  t.equal(code(() => checkCredentialedOrigin(undefined, true, own, LISTED)), undefined, 'no Origin: not a browser page on another site')
  t.equal(code(() => checkCredentialedOrigin(own, true, own, LISTED)), undefined)
  t.equal(code(() => checkCredentialedOrigin('https://app.example', true, own, LISTED)), undefined)
})

t.test('helpers', async (t) => {
  t.ok(isPreflight('OPTIONS', 'https://a.example', 'GET'))
  t.notOk(isPreflight('OPTIONS', undefined, 'GET'))
  t.notOk(isPreflight('OPTIONS', 'https://a.example', undefined))
  t.notOk(isPreflight('GET', 'https://a.example', 'GET'))
  const rule = new Set<string>()
  t.equal(originsFor(LISTED, undefined), LISTED)
  t.equal(originsFor(LISTED, rule), rule, 'a rule\'s list replaces the global one, even empty')
  t.ok(isUpstreamCorsField('access-control-allow-origin'))
  t.notOk(isUpstreamCorsField('vary'))
})
