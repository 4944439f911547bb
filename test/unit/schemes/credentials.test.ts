// Finding the credentials: the raw header list is read once
// (http/request-facts.ts), so a second Authorization header cannot hide
// behind Node's req.headers (which keeps only the first); the registry
// (schemes/registry.ts) picks the scheme; DomainPoP takes its token
// (schemes/domainpop). With DomainPoP the only scheme, as it is today.

import t from 'tap'
import type { IncomingMessage } from 'node:http'
import { readRequestFacts } from '../../../src/http/request-facts.js'
import { createSchemeRegistry } from '../../../src/schemes/registry.js'
import { domainPopToken } from '../../../src/schemes/domainpop/index.js'
import type { Scheme } from '../../../src/schemes/types.js'
import { GatewayError } from '../../../src/errors.js'

const DOMAINPOP = { name: 'domainpop', authScheme: 'DomainPoP', fields: [] } as unknown as Scheme

/** What the old extractCredentials stage answered, from the new parts. */
function extractCredentials(r: IncomingMessage, maxProofBytes: number): { scheme: 'DomainPoP'; token: string } | undefined {
  const selected = createSchemeRegistry([DOMAINPOP], { maxCredentialBytes: maxProofBytes }).select(readRequestFacts(r.rawHeaders, undefined))
  return selected && { scheme: 'DomainPoP', token: domainPopToken(selected.credentials.authorization) }
}

const MAX = 8192
const JWS = 'eyJhbGciOiJFUzI1NiJ9.eyJpc3MiOiJhbGljZS5leGFtcGxlIn0.c2ln'
const req = (...pairs: [string, string][]) => ({ rawHeaders: pairs.flat(), headers: {} }) as unknown as IncomingMessage

function outcome(r: IncomingMessage, max = MAX): string {
  try {
    const c = extractCredentials(r, max)
    return c === undefined ? 'none' : `${c.scheme} ${c.token}`
  } catch (err) {
    return err instanceof GatewayError ? `error ${err.code} ${err.status}` : `raw ${String(err)}`
  }
}

t.test('no Authorization header → undefined', async (t) => {
  t.equal(outcome(req()), 'none')
  t.equal(outcome(req(['Host', 'bob.example'], ['Cookie', 'a=b'])), 'none')
  t.equal(outcome(req(['Authorizatio', `DomainPoP ${JWS}`], ['X-Authorization', `DomainPoP ${JWS}`])), 'none', 'similar names are not Authorization')
})

t.test('one DomainPoP Authorization header → its token', async (t) => {
  t.equal(outcome(req(['Host', 'bob.example'], ['Authorization', `DomainPoP ${JWS}`])), `DomainPoP ${JWS}`)
})

t.test('scheme and header name are case-insensitive', async (t) => {
  for (const name of ['authorization', 'AUTHORIZATION', 'AuThOrIzAtIoN']) {
    for (const scheme of ['domainpop', 'DOMAINPOP', 'DomainPop']) {
      t.equal(outcome(req([name, `${scheme} ${JWS}`])), `DomainPoP ${JWS}`, `${name}: ${scheme}`)
    }
  }
})

t.test('two Authorization headers → multiple_credentials (400), whatever their schemes', async (t) => {
  t.equal(outcome(req(['Authorization', `DomainPoP ${JWS}`], ['Authorization', `DomainPoP ${JWS}`])), 'error multiple_credentials 400')
  t.equal(outcome(req(['Authorization', 'Basic YTpi'], ['authorization', `DomainPoP ${JWS}`])), 'error multiple_credentials 400', 'a Basic header first cannot hide the proof')
  t.equal(outcome(req(['Authorization', `DomainPoP ${JWS}`], ['Host', 'x'], ['AUTHORIZATION', 'Bearer x'])), 'error multiple_credentials 400')
  t.equal(outcome(req(['Authorization', ''], ['Authorization', `DomainPoP ${JWS}`])), 'error multiple_credentials 400', 'an empty first one too')
})

t.test('another scheme → undefined (the caller answers with a challenge)', async (t) => {
  t.equal(outcome(req(['Authorization', 'Basic YWxpY2U6c2VjcmV0'])), 'none')
  t.equal(outcome(req(['Authorization', `Bearer ${JWS}`])), 'none')
  t.equal(outcome(req(['Authorization', `DPoP ${JWS}`])), 'none')
  t.equal(outcome(req(['Authorization', `DomainPoP-Session ${JWS}`])), 'none', 'a prefix of another scheme is not DomainPoP')
  t.equal(outcome(req(['Authorization', `DomainPoPx ${JWS}`])), 'none')
  t.equal(outcome(req(['Authorization', ''])), 'none')
})

t.test('oversize → proof_too_large (400) before parsing', async (t) => {
  const big = `DomainPoP ${'a'.repeat(MAX + 100)}`
  t.equal(outcome(req(['Authorization', big])), 'error proof_too_large 400')
  t.equal(outcome(req(['Authorization', `Basic ${'a'.repeat(MAX + 100)}`])), 'error proof_too_large 400', 'whatever the scheme')
  const token = 'a'.repeat(MAX)
  t.equal(outcome(req(['Authorization', `DomainPoP ${token}`])), `DomainPoP ${token}`, 'a token of exactly maxProofBytes passes this stage')
})

t.test('malformed DomainPoP values → malformed_proof (400)', async (t) => {
  for (const v of ['DomainPoP', 'DomainPoP ', `DomainPoP ${JWS} extra`, `DomainPoP ${JWS},x`, `DomainPoP "${JWS}"`, `DomainPoP ${JWS} `, 'DomainPoP a b', `DomainPoP ${JWS}\u00e9`, 'DomainPoP nonce="x"']) {
    t.equal(outcome(req(['Authorization', v])), 'error malformed_proof 400', JSON.stringify(v))
  }
})

t.test('error details never echo the credential', async (t) => {
  try {
    extractCredentials(req(['Authorization', `DomainPoP ${JWS} extra`]), MAX)
    t.fail('should throw')
  } catch (err) {
    t.notMatch((err as GatewayError).detail, JWS.slice(0, 10))
  }
})
