// createSchemeRegistry (schemes/registry.ts): which scheme a request's
// credentials belong to. Exactly one scheme per request; credentials of two
// schemes, or a repeated credential field, → 400 multiple_credentials; an
// Authorization larger than maxCredentialBytes + 64 → proof_too_large before
// its scheme is even looked at. The schemes are fakes: select never calls them.

import t from 'tap'
import { createSchemeRegistry, type SchemeRegistry } from '../../../src/schemes/registry.js'
import { readRequestFacts, type RequestFacts } from '../../../src/http/request-facts.js'
import type { Scheme } from '../../../src/schemes/types.js'
import { GatewayError } from '../../../src/errors.js'

const scheme = (name: string, authScheme: string | undefined, fields: string[] = []): Scheme =>
  ({ name, authScheme, fields, parse: () => { throw new Error('not here') }, verify: () => { throw new Error('not here') }, challenge: () => { throw new Error('not here') } }) as unknown as Scheme

const DOMAINPOP = scheme('domainpop', 'DomainPoP')
const DPOP = scheme('dpop', 'DPoP', ['dpop'])
const FIELDONLY = scheme('test', undefined, ['x-test-proof'])
const MAX = 1024

const registry = createSchemeRegistry([DOMAINPOP, DPOP, FIELDONLY], { maxCredentialBytes: MAX })
const facts = (r: SchemeRegistry, ...pairs: [string, string][]): RequestFacts => readRequestFacts(pairs.flat(), r.ownedFields)

/** 'none', '<scheme> auth=<value|-> fields=<names|->', or the GatewayError code. */
function select(r: SchemeRegistry, ...pairs: [string, string][]): string {
  try {
    const s = r.select(facts(r, ...pairs))
    if (s === undefined) return 'none'
    const auth = s.credentials.authorization === undefined ? '-' : s.credentials.authorization.slice(0, 20)
    const fields = s.credentials.fields === undefined ? '-' : [...s.credentials.fields.keys()].join(',')
    return `${s.scheme.name} auth=${auth} fields=${fields}`
  } catch (err) {
    return err instanceof GatewayError ? `${err.code} ${err.status}` : `raw ${String(err)}`
  }
}

t.test('construction refuses ambiguous ownership', async (t) => {
  const opts = { maxCredentialBytes: MAX }
  t.throws(() => createSchemeRegistry([DOMAINPOP, scheme('other', 'DomainPoP')], opts), /two schemes own Authorization/)
  t.throws(() => createSchemeRegistry([DOMAINPOP, scheme('other', 'domainpop')], opts), /two schemes own Authorization/, 'auth-schemes compare case-insensitively')
  t.throws(() => createSchemeRegistry([DPOP, scheme('other', undefined, ['dpop'])], opts), /field dpop cannot be owned by other/)
  t.throws(() => createSchemeRegistry([scheme('x', undefined, ['authorization'])], opts), /field authorization/)
  t.throws(() => createSchemeRegistry([scheme('x', undefined, ['host'])], opts), /field host/)
  t.throws(() => createSchemeRegistry([scheme('x', undefined, ['a', 'a'])], opts), /field a/, 'twice by the same scheme')
  t.doesNotThrow(() => createSchemeRegistry([scheme('a', undefined), scheme('b', undefined)], opts), 'two schemes without an auth-scheme')
  t.doesNotThrow(() => createSchemeRegistry([], opts))
})

t.test('a field a scheme owns must be a lowercase name, or it can never match', async (t) => {
  const opts = { maxCredentialBytes: MAX }
  t.throws(() => createSchemeRegistry([scheme('x', undefined, ['Authorization'])], opts), 'Authorization, spelled with a capital')
  t.throws(() => createSchemeRegistry([scheme('x', undefined, ['DPoP'])], opts), 'a mixed-case field')
})

t.test('ownedFields and schemes', async (t) => {
  t.same([...registry.ownedFields!].sort(), ['dpop', 'x-test-proof'])
  t.same(registry.schemes, [DOMAINPOP, DPOP, FIELDONLY])
  t.equal(createSchemeRegistry([DOMAINPOP], { maxCredentialBytes: MAX }).ownedFields, undefined, 'none: the header scan skips the lookup')
})

t.test('no credentials, or an auth-scheme nobody here speaks → none', async (t) => {
  t.equal(select(registry), 'none')
  t.equal(select(registry, ['Host', 'bob.example']), 'none')
  for (const v of ['Basic YTpi', 'Bearer x', 'DomainPoPx y', 'DomainPoP-Session y', '', ' DomainPoP x']) t.equal(select(registry, ['Authorization', v]), 'none', JSON.stringify(v))
})

t.test('by Authorization, the auth-scheme compared case-insensitively', async (t) => {
  for (const s of ['DomainPoP', 'domainpop', 'DOMAINPOP', 'dOMAINpOP']) {
    t.equal(select(registry, ['Authorization', `${s} tok`]), `domainpop auth=${s} tok fields=-`, s)
  }
  t.equal(select(registry, ['Authorization', 'DomainPoP']), 'domainpop auth=DomainPoP fields=-', 'the scheme alone: its parser refuses the rest')
})

t.test('by an owned field', async (t) => {
  t.equal(select(registry, ['X-Test-Proof', 'p']), 'test auth=- fields=x-test-proof')
  t.equal(select(registry, ['DPoP', 'proof']), 'dpop auth=- fields=dpop')
  t.equal(select(registry, ['Authorization', 'DPoP tok'], ['DPoP', 'proof']), 'dpop auth=DPoP tok fields=dpop', 'one scheme, both its fields')
})

t.test('an unknown auth-scheme plus an owned field → the field\'s scheme, without the Authorization', async (t) => {
  t.equal(select(registry, ['Authorization', 'Basic YTpi'], ['X-Test-Proof', 'p']), 'test auth=- fields=x-test-proof')
})

t.test('credentials of two schemes, or a credential twice → multiple_credentials', async (t) => {
  t.equal(select(registry, ['Authorization', 'DomainPoP tok'], ['X-Test-Proof', 'p']), 'multiple_credentials 400')
  t.equal(select(registry, ['Authorization', 'DomainPoP tok'], ['DPoP', 'p']), 'multiple_credentials 400', 'DomainPoP Authorization and a DPoP proof')
  t.equal(select(registry, ['DPoP', 'p'], ['X-Test-Proof', 'q']), 'multiple_credentials 400', 'two fields of two schemes')
  t.equal(select(registry, ['Authorization', 'DomainPoP a'], ['Authorization', 'DomainPoP b']), 'multiple_credentials 400')
  t.equal(select(registry, ['Authorization', 'Basic YTpi'], ['authorization', 'Basic YTpi']), 'multiple_credentials 400', 'whatever the schemes')
  t.equal(select(registry, ['DPoP', 'a'], ['dpop', 'b']), 'multiple_credentials 400', 'a repeated owned field')
})

t.test('oversize Authorization → proof_too_large, whatever the scheme; the margin is 64 characters', async (t) => {
  const sized = (prefix: string, total: number) => prefix + 'a'.repeat(total - prefix.length)
  for (const prefix of ['DomainPoP ', 'Basic ', 'Whatever ', 'x']) {
    t.equal(select(registry, ['Authorization', sized(prefix, MAX + 64)]).split(' ')[0], prefix === 'DomainPoP ' ? 'domainpop' : 'none', `${prefix}: exactly maxCredentialBytes + 64`)
    t.equal(select(registry, ['Authorization', sized(prefix, MAX + 65)]), 'proof_too_large 400', `${prefix}: one more`)
  }
  t.equal(select(registry, ['Authorization', sized('DomainPoP ', MAX + 65)], ['Authorization', 'x']), 'multiple_credentials 400', 'a repeat is reported first')
})

t.test('alsoAuthSchemes: another auth-scheme routed to a scheme (DPoP owns Bearer to refuse it, RFC 9449 §7.2)', async (t) => {
  const dpop = { ...scheme('dpop', 'DPoP', ['dpop']), alsoAuthSchemes: ['Bearer'] } as Scheme
  const r = createSchemeRegistry([DOMAINPOP, dpop], { maxCredentialBytes: MAX })
  t.equal(select(r, ['Authorization', 'Bearer tok']), 'dpop auth=Bearer tok fields=-', 'the scheme sees the Bearer value')
  t.equal(select(r, ['Authorization', 'bearer tok'], ['DPoP', 'p']), 'dpop auth=bearer tok fields=dpop', 'case-insensitive, with its own field')
  t.equal(select(r, ['Authorization', 'Bearer tok'], ['Authorization', 'DPoP tok']), 'multiple_credentials 400')
  t.equal(select(registry, ['Authorization', 'Bearer tok']), 'none', 'without it, Bearer is nobody\'s')
  t.throws(() => createSchemeRegistry([dpop, { ...scheme('b', 'Bearer') } as Scheme], { maxCredentialBytes: MAX }), /two schemes own Authorization: Bearer/)
})

t.test('two schemes share an auth-scheme only by form (PROTOCOL.md §4: a ticket and an issuer token are both DomainPoP-Session)', async (t) => {
  const opts = { maxCredentialBytes: MAX }
  const ticket = scheme('session', 'DomainPoP-Session', ['domainpop-proof'])
  const issuer = { ...scheme('issuer-symmetric', 'DomainPoP-Session', ['domainpop-proof']), byForm: (c: string) => c.split('.').length === 3 } as Scheme
  const r = createSchemeRegistry([ticket, issuer, DPOP], opts)
  t.equal(select(r, ['Authorization', 'DomainPoP-Session a.b.c'], ['DomainPoP-Proof', 'p']), 'issuer-symmetric auth=DomainPoP-Session a. fields=domainpop-proof', 'a JWS goes to the issuer scheme')
  t.equal(select(r, ['Authorization', 'DomainPoP-Session a..c.d.e'], ['DomainPoP-Proof', 'p']), 'session auth=DomainPoP-Session a. fields=domainpop-proof', 'a JWE (ticket) to the ticket scheme')
  t.equal(select(r, ['Authorization', 'DomainPoP-Session a.b.c'], ['DPoP', 'p']), 'multiple_credentials 400', 'another scheme\'s field is still refused')
  t.equal(select(r, ['DomainPoP-Proof', 'p']), 'session auth=- fields=domainpop-proof', 'the field alone goes to the owner without a form test')
  const onlyIssuer = createSchemeRegistry([issuer], opts)
  t.equal(select(onlyIssuer, ['Authorization', 'DomainPoP-Session a..c.d.e']), 'issuer-symmetric auth=DomainPoP-Session a. fields=-', 'a sole owner takes every form (and refuses what is not its own)')
  t.throws(() => createSchemeRegistry([ticket, scheme('twin', 'DomainPoP-Session')], opts), /two schemes own Authorization/, 'without byForm, sharing stays refused')
  t.throws(() => createSchemeRegistry([ticket, { ...scheme('x', 'DPoP', ['domainpop-proof']), byForm: () => true } as Scheme], opts), /cannot be owned/, 'a field is shared only between schemes of one auth-scheme')
})
