// The test-only second scheme (test/schemes/second/) against the scheme
// contract: a cookie scheme with no WWW-Authenticate passes it too.

import t from 'tap'
import fc from 'fast-check'
import { randomBytes } from 'node:crypto'
import { createSecondScheme, secondCookie } from '../../../schemes/second/index.js'
import { fakeView } from '../../../helpers/request-view.js'
import { schemeContract } from '../contract.js'

const KEY = randomBytes(32)
const view = fakeView({ method: 'GET', path: '/second', nowMs: 1_750_000_000_000 })

schemeContract(t, {
  namespace: 'second',
  create: ({ replay }) => createSecondScheme({ key: KEY, replay, onVerified: () => {} }),
  async valid() {
    return { credentials: { authorization: undefined, fields: undefined, cookie: secondCookie(KEY, 'alice.test', randomBytes(12).toString('base64url')) }, view }
  },
  hostile: fc.oneof(
    fc.string({ maxLength: 200 }),
    fc.tuple(fc.domain(), fc.string({ minLength: 8, maxLength: 20 }), fc.string({ minLength: 43, maxLength: 43 })).map(([d, j, m]) => `${d}.${j}.${m}`),
  ).map((cookie) => ({ authorization: undefined, fields: undefined, cookie })),
  codes: ['malformed_proof', 'proof_signature_invalid', 'proof_replayed'],
})
