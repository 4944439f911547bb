// The ACL rule field `bodyOnGet` (docs/acl.md): a boolean, false by default,
// allowed on public and protected rules; and the admission check it feeds.

import t from 'tap'
import { parseAcl } from '../../../src/acl/index.js'
import { refuseUnexpectedBody } from '../../../src/pipeline/admission.js'
import { isGatewayError } from '../../../src/errors.js'

const acl = (rule: string) => parseAcl(`version: 1\nrules:\n  - path: /x\n${rule}`, 'acl.yaml')

t.test('bodyOnGet: a boolean on any rule, false by default', async (t) => {
  t.equal(acl('    public: true\n').acl!.rules[0]!.bodyOnGet, false)
  t.equal(acl('    public: true\n    bodyOnGet: true\n').acl!.rules[0]!.bodyOnGet, true)
  t.equal(acl('    read: [alice.test]\n    bodyOnGet: true\n').acl!.rules[0]!.bodyOnGet, true)
  const bad = acl('    public: true\n    bodyOnGet: "yes"\n')
  t.notOk(bad.acl)
  t.match(bad.problems[0], { line: 5, path: 'rules[0].bodyOnGet', message: /must be true or false/ })
})

t.test('refuseUnexpectedBody: GET, HEAD, OPTIONS, TRACE, CONNECT with a body → 400 unless the rule allows it', async (t) => {
  const allow = acl('    public: true\n    bodyOnGet: true\n').acl!.rules[0]!
  const deny = acl('    public: true\n').acl!.rules[0]!
  const code = (method: string, rule: typeof allow | undefined, body: boolean) => {
    try { refuseUnexpectedBody(method, rule, body); return 'ok' } catch (e) { return isGatewayError(e) ? `${e.status} ${e.code}` : 'other' }
  }
  for (const m of ['GET', 'HEAD', 'OPTIONS', 'TRACE', 'CONNECT']) {
    t.equal(code(m, deny, true), '400 body_not_allowed', m)
    t.equal(code(m, undefined, true), '400 body_not_allowed', `${m}, no rule`)
    t.equal(code(m, allow, true), 'ok', `${m}, bodyOnGet`)
    t.equal(code(m, deny, false), 'ok', `${m} without a body`)
  }
  for (const m of ['POST', 'PUT', 'PATCH', 'DELETE', 'PROPFIND']) t.equal(code(m, deny, true), 'ok', m)
})
