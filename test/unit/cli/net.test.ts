// How `popgate fetch` and `keyhost publish` say why a request got no answer:
// the innermost cause undici wraps in "fetch failed", and what to do.

import t from 'tap'
import { unreachable } from '../../../src/cli/net.js'
import { EXIT } from '../../../src/cli/usage.js'

const wrapped = (code: string, message = code) => Object.assign(new TypeError('fetch failed'), { cause: Object.assign(new Error(message), { code }) })

t.test('each cause becomes one sentence with a next step, exit 69', async (t) => {
  const cases: [unknown, RegExp][] = [
    [wrapped('ECONNREFUSED'), /^http:\/\/127\.0\.0\.1:9: nothing listens at 127\.0\.0\.1:9: is the server running/],
    [wrapped('UNABLE_TO_VERIFY_LEAF_SIGNATURE'), /not trusted \(UNABLE_TO_VERIFY_LEAF_SIGNATURE\); pass --cacert FILE/],
    [wrapped('SELF_SIGNED_CERT_IN_CHAIN'), /pass --cacert FILE/],
    [wrapped('ERR_TLS_CERT_ALTNAME_INVALID'), /does not name 127\.0\.0\.1/],
    [wrapped('ENOTFOUND'), /cannot resolve 127\.0\.0\.1 \(ENOTFOUND\)/],
    [wrapped('UND_ERR_CONNECT_TIMEOUT'), /no answer from .* in time/],
    [new TypeError('fetch failed', { cause: new AggregateError([Object.assign(new Error('x'), { code: 'ECONNREFUSED' })]) }), /nothing listens/],
    [new Error('something odd'), /something odd/],
  ]
  for (const [err, re] of cases) {
    const e = unreachable('http://127.0.0.1:9/x', err)
    t.equal(e.exitCode, EXIT.unavailable)
    t.match(e.message, re)
    t.notMatch(e.message, /\n/, 'one line')
  }
})
