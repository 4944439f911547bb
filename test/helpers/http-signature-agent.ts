// One Web Bot Auth agent for scheme tests: an Ed25519 key, its keyid, a
// directory that knows only agent.example's key, and the scheme's settings
// for gw.test, at a fixed clock.

import { generateKeyPairSync } from 'node:crypto'
import { calculateJwkThumbprint, type JWK } from 'jose'
import { GatewayError } from '../../src/errors.js'
import type { SignatureDirectoryReader } from '../../src/keys/signature-directory.js'
import type { HttpSignatureSettings } from '../../src/proofs/http-signature/request.js'

export const NOW = 1_900_000_000_000
export const nowSec = NOW / 1000
export const { privateKey, publicKey } = generateKeyPairSync('ed25519')
export const keyid = await calculateJwkThumbprint(publicKey.export({ format: 'jwk' }) as JWK, 'sha256')
export const directory: Pick<SignatureDirectoryReader, 'getKey'> = {
  async getKey(url, identity, kid) {
    if (identity !== 'agent.example' || url.href !== 'https://agent.example/.well-known/http-message-signatures-directory' || kid !== keyid) throw new GatewayError('key_not_found', 'no such key')
    return { keyid: kid, keyObject: publicKey }
  },
}
export const settings: HttpSignatureSettings = { authority: 'gw.test', clockSkewSec: 5, maxValiditySec: 86_400, tag: 'web-bot-auth', algorithms: new Set(['ed25519']), allowHttp: [] }
