// safeCode (src/keys/agent.ts) is all a key-fetch failure's detail may say
// about the connection: an error code name such as ECONNREFUSED or
// UNABLE_TO_VERIFY_LEAF_SIGNATURE, never a message, an address or a host
// (docs/errors.md, "detail").

import t from 'tap'
import { safeCode } from '../../../src/keys/agent.js'

t.test('safeCode: error code names only', async (t) => {
  t.equal(safeCode(Object.assign(new Error('connect ECONNREFUSED 10.0.0.7:443'), { code: 'ECONNREFUSED' })), 'ECONNREFUSED')
  t.equal(safeCode(Object.assign(new Error('x'), { code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' })), 'UNABLE_TO_VERIFY_LEAF_SIGNATURE')
  for (const code of ['10.0.0.7', 'connect to 10.0.0.7', 'ENOTFOUND internal.corp', 'lower_case', 'A'.repeat(65), 42, undefined, null]) {
    t.equal(safeCode(Object.assign(new Error('connect ECONNREFUSED 10.0.0.7:443'), { code })), 'error', String(code))
  }
  t.equal(safeCode(null), 'error')
  t.equal(safeCode('ECONNREFUSED'), 'error', 'a bare string is not an error object')
})
