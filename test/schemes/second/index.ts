// A test-only second scheme, built the way a real one is (src/schemes/): one
// folder, enabled by one line (`modules: [...SCHEME_MODULES, secondModule]`)
// plus its config section. It exercises every part of the seam a built-in
// scheme does not:
//   - an ambient credential: the `second` cookie `<identity>.<jti>.<mac>`,
//     an HMAC-SHA256 under the section's key (only this cookie is removed
//     before forwarding; other cookies pass);
//   - its own config section, route, gauge and replay namespace;
//   - a Grant: `Second-Grant: <scheme>` on every authenticated response
//     (plain or a WebSocket 101), whichever scheme verified;
//   - the `session` assurance, so `sessions: false` refuses it.

import { createHmac, timingSafeEqual } from 'node:crypto'
import { GatewayError } from '../../../src/errors.js'
import { identityProblem, type Identity } from '../../../src/identity/domain.js'
import type { SchemeReplay } from '../../../src/schemes/module.js'
import type { Claim, Grant, Principal, Scheme } from '../../../src/schemes/types.js'

export const SECOND_COOKIE = 'second'

export interface SecondClaim extends Claim { readonly jti: string; readonly mac: Buffer }

export interface SecondDeps {
  readonly key: Buffer
  readonly replay: SchemeReplay
  readonly onVerified: () => void
}

/** The cookie value for `identity` (what a test client sends). */
export function secondCookie(key: Buffer, identity: string, jti: string): string {
  return `${identity}.${jti}.${macOf(key, identity, jti).toString('base64url')}`
}

const macOf = (key: Buffer, identity: string, jti: string): Buffer => createHmac('sha256', key).update(`${identity}\n${jti}`).digest()
const SHAPE = /^([a-z0-9.-]{1,253})\.([A-Za-z0-9_-]{8,64})\.([A-Za-z0-9_-]{43})$/

export function createSecondScheme(deps: SecondDeps): Scheme<SecondClaim> {
  const thumbprint = createHmac('sha256', deps.key).update('thumbprint').digest('base64url')
  return {
    name: 'second',
    authScheme: undefined,
    fields: [],
    ambient: { cookie: SECOND_COOKIE },

    parse(credentials) {
      const m = SHAPE.exec(credentials.cookie ?? '')
      if (!m) throw new GatewayError('malformed_proof', 'the second cookie must be identity.jti.mac')
      if (identityProblem(m[1]) !== undefined) throw new GatewayError('malformed_proof', 'the second cookie names no valid identity')
      return { identity: m[1] as Identity, jti: m[2]!, mac: Buffer.from(m[3]!, 'base64url') }
    },

    async verify(claim): Promise<Principal> {
      if (!timingSafeEqual(claim.mac, macOf(deps.key, claim.identity, claim.jti))) throw new GatewayError('proof_signature_invalid', 'the second cookie does not verify')
      if (!(await deps.replay.firstUse(`${claim.identity}\n${claim.jti}`))) throw new GatewayError('proof_replayed', 'this second cookie was already used')
      deps.onVerified()
      return {
        identity: claim.identity, method: 'second', thumbprint, confirmation: { jkt: thumbprint },
        channelBound: false, assurances: new Set(['session']), token: undefined, responseHeaders: ['Second-Seen', 'yes'],
      }
    },

    challenge() {
      return {} // a cookie has no WWW-Authenticate challenge
    },
  }
}

/** Adds `Second-Grant: <scheme>` after any scheme's success: the hook a session module mints its ticket or cookie from. */
export const secondGrant: Grant = {
  name: 'second-grant',
  issue: (p) => ['Second-Grant', p.method],
}
