// createHttpSignatureScheme (schemes/http-signature/) against the scheme
// contract (test/unit/schemes/contract.ts): an injected directory, a memory
// replay store, a fixed clock. Its own cases are in scheme.test.ts.

import t from 'tap'
import fc from 'fast-check'
import { createHttpSignatureScheme } from '../../../../src/schemes/http-signature/index.js'
import { signMessage } from '../../../../src/proofs/http-signature/sign.js'
import { requestView } from '../../../../src/proofs/http-signature/base.js'
import { GatewayError, type ErrorCode } from '../../../../src/errors.js'
import type { Rule } from '../../../../src/acl/index.js'
import type { Credentials } from '../../../../src/schemes/types.js'
import { fakeView } from '../../../helpers/request-view.js'
import { schemeContract, trap } from '../contract.js'

import { NOW, nowSec, privateKey, keyid, directory, settings } from '../../../helpers/http-signature-agent.js'
import { openKeyTrust } from '../../../helpers/key-trust.js'
let n = 0

function signed(): { credentials: Credentials; view: ReturnType<typeof fakeView> } {
  const headers = { 'signature-agent': 'sig1="https://agent.example"' }
  const s = signMessage(requestView({ method: 'GET', url: 'https://gw.test/bots/x', headers }), {
    label: 'sig1', components: ['@authority', '@method', '@path', ['signature-agent', new Map([['key', 'sig1']])]], alg: 'ed25519', key: privateKey,
    params: { created: nowSec, keyid, alg: true, expires: nowSec + 60, nonce: `n-${++n}`, tag: 'web-bot-auth' },
  })
  const fields = new Map([['signature-input', s.signatureInput], ['signature', s.signature], ['signature-agent', headers['signature-agent']]])
  return { credentials: { authorization: undefined, fields }, view: fakeView({ method: 'GET', path: '/bots/x', authority: 'gw.test', nowMs: NOW, headers: Object.fromEntries(fields) }) }
}

const CODES: readonly ErrorCode[] = [
  'signature_malformed', 'signature_multiple', 'signature_agent_invalid', 'content_digest_mismatch', 'body_too_large',
  'signature_component_missing', 'signature_authority_mismatch', 'signature_expired', 'signature_tag_invalid',
  'signature_alg_unsupported', 'signature_nonce_required', 'signature_invalid', 'signature_replayed', 'key_not_found', 'key_fetch_failed',
]

schemeContract(t, {
  namespace: 'http-signature',
  rule: { httpSignature: undefined } as unknown as Rule,
  create: ({ replay, trapped }) => createHttpSignatureScheme({ keyTrust: openKeyTrust(), settings, publicScheme: 'https', maxBodyBytes: 1024, directory: trapped ? trap('directory') : directory, replay }),
  async valid() { return signed() },
  hostile: fc.record({
    input: fc.oneof(fc.string({ maxLength: 120 }), fc.constant(signed().credentials.fields!.get('signature-input')!), fc.string({ maxLength: 40 }).map((s) => `sig1=(${s});created=1`)),
    sig: fc.oneof(fc.string({ maxLength: 80 }), fc.base64String({ maxLength: 88 }).map((b) => `sig1=:${b}:`)),
    agent: fc.option(fc.oneof(fc.string({ maxLength: 80 }), fc.webUrl().map((u) => `sig1=${JSON.stringify(u)}`), fc.webUrl().map((u) => JSON.stringify(u))), { nil: undefined }),
  }).map(({ input, sig, agent }) => ({
    authorization: undefined,
    fields: new Map([['signature-input', input], ['signature', sig], ...(agent === undefined ? [] : [['signature-agent', agent] as [string, string]])]),
  })),
  codes: CODES,
})
