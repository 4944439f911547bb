// readRequestFacts (http/request-facts.ts): one pass over the raw header
// list. A second Host is refused outright; a second Authorization is only
// flagged (the credentials stage refuses it, so a public route answers as
// before); fields some scheme owns are collected under their lowercased name.

import t from 'tap'
import { readRequestFacts } from '../../../src/http/request-facts.js'
import { GatewayError } from '../../../src/errors.js'

const raw = (...pairs: [string, string][]): string[] => pairs.flat()
const OWNED: ReadonlySet<string> = new Set(['dpop', 'x-test-proof'])

function thrown(f: () => unknown): string {
  try {
    f()
    return 'ok'
  } catch (err) {
    return err instanceof GatewayError ? `${err.code} ${err.status}` : `raw ${String(err)}`
  }
}

/** The credential part of the facts: all empty when the request carries none. */
const credentialsOf = (f: ReturnType<typeof readRequestFacts>) => ({ authorization: f.authorization, authorizationRepeated: f.authorizationRepeated, fields: f.fields, repeatedField: f.repeatedField })
const NONE = { authorization: undefined, authorizationRepeated: false, fields: undefined, repeatedField: undefined }

t.test('no credentials: every credential member empty', async (t) => {
  t.same(credentialsOf(readRequestFacts([], undefined)), NONE)
  t.same(credentialsOf(readRequestFacts(raw(['Host', 'bob.example'], ['Accept', '*/*']), undefined)), NONE)
  t.same(credentialsOf(readRequestFacts(raw(['Host', 'bob.example'], ['Cookie', 'a=b']), OWNED)), NONE, 'with owned fields, none present')
  t.same(credentialsOf(readRequestFacts(raw(['DPoP', 'x.y.z']), undefined)), NONE, 'a field nobody owns is not a credential')
})

t.test('a second Host → bad_request, whatever the case of either', async (t) => {
  t.equal(thrown(() => readRequestFacts(raw(['Host', 'a'], ['Host', 'a']), undefined)), 'bad_request 400')
  t.equal(thrown(() => readRequestFacts(raw(['host', 'a'], ['Accept', 'x'], ['HOST', 'b']), undefined)), 'bad_request 400')
  t.equal(thrown(() => readRequestFacts(raw(['Authorization', 'DomainPoP x'], ['Host', 'a'], ['hOsT', '']), OWNED)), 'bad_request 400')
  t.equal(thrown(() => readRequestFacts(raw(['Host', 'a'], ['X-Host', 'b'], ['Hosts', 'c'], ['Host-', 'd']), undefined)), 'ok', 'similar names are other fields')
})

t.test('Authorization: the first value verbatim; a second is flagged, not thrown', async (t) => {
  const one = readRequestFacts(raw(['Host', 'a'], ['Authorization', 'DomainPoP  x ']), undefined)
  t.equal(one.authorization, 'DomainPoP  x ', 'verbatim, no trimming')
  t.equal(one.authorizationRepeated, false)
  for (const name of ['authorization', 'AUTHORIZATION', 'aUtHoRiZaTiOn']) {
    t.equal(readRequestFacts(raw([name, 'v']), undefined).authorization, 'v', name)
  }
  const two = readRequestFacts(raw(['Authorization', 'Basic YTpi'], ['authorization', 'DomainPoP x']), undefined)
  t.equal(two.authorization, 'Basic YTpi')
  t.equal(two.authorizationRepeated, true)
  const emptyFirst = readRequestFacts(raw(['Authorization', ''], ['Authorization', 'DomainPoP x']), undefined)
  t.equal(emptyFirst.authorization, '', 'an empty value is a value')
  t.equal(emptyFirst.authorizationRepeated, true, 'so the second is a repeat')
})

t.test('similar names are not Authorization', async (t) => {
  for (const name of ['X-Authorization', 'Authorizatio', 'Authorizations', 'Proxy-Authorization', 'Authorization ', ' Authorization', 'Authorisation']) {
    t.same(credentialsOf(readRequestFacts(raw([name, 'DomainPoP x']), undefined)), NONE, JSON.stringify(name))
  }
})

t.test('owned fields: collected by lowercased name; a repeat is named', async (t) => {
  const f = readRequestFacts(raw(['DPoP', 'a.b.c'], ['X-Test-Proof', 'p']), OWNED)
  t.equal(f.authorization, undefined)
  t.same([...f.fields!], [['dpop', 'a.b.c'], ['x-test-proof', 'p']])
  t.equal(f.repeatedField, undefined)

  const rep = readRequestFacts(raw(['dpop', 'first'], ['Host', 'h'], ['DPOP', 'second'], ['DPoP', 'third']), OWNED)
  t.equal(rep.fields!.get('dpop'), 'first', 'the first value is kept')
  t.equal(rep.repeatedField, 'DPOP', 'the first repeat, named as sent')

  const both = readRequestFacts(raw(['Authorization', 'DPoP tok'], ['DPoP', 'proof']), OWNED)
  t.equal(both.authorization, 'DPoP tok')
  t.equal(both.fields!.get('dpop'), 'proof')

  const similar = readRequestFacts(raw(['X-DPoP', 'a'], ['DPoP2', 'b'], ['DPo', 'c'], ['X-Test-Proofs', 'd']), OWNED)
  t.same(credentialsOf(similar), NONE, 'similar names are not owned fields')
  t.equal(readRequestFacts(raw(['DPoP', 'a']), undefined).fields, undefined, 'owned undefined: nothing collected')
})
